"""The envelope around every station event, and its strict codec.

`{"v": 1, "station": id, "epoch": journal incarnation, "seq": n, "ts": RFC 3339 UTC,
"type": ..., "data": {...}}`. `(station, epoch, seq)` is the idempotency key: `seq`
starts at 1 in each epoch and rises by exactly 1 per event.
"""

import os
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, TypeVar

import msgspec
from msgspec import Meta

from protocol.events import EVENT_TYPES
from protocol.types import Epoch, Seq, StationId, Timestamp

# Above this the hub dead-letters a message unread: a station event is a few hundred
# bytes, a shipment of 500 lines about 50 KiB.
MAX_PAYLOAD_BYTES = 256 * 1024

T = TypeVar("T")

EventType = Annotated[str, Meta(pattern=r"^[a-z_]{1,32}$")]


class InvalidMessage(ValueError):
    """A payload that does not match the contract; the message says why."""


class Envelope(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    v: Literal[1]
    station: StationId
    epoch: Epoch
    seq: Seq
    ts: Timestamp
    type: EventType
    data: msgspec.Raw


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """A decoded, validated envelope with its typed payload."""

    station: str
    epoch: str
    seq: int
    ts: datetime
    type: str
    data: msgspec.Struct
    raw: bytes  # the `data` object exactly as received, for storing without re-encoding


class EventKey(msgspec.Struct, frozen=True):
    """Which event of which journal a payload says it is: `(station, epoch, seq)`."""

    station: StationId
    epoch: Epoch
    seq: Seq


# Decimals (money, grams) travel as strings, exact, as most commerce APIs do.
_encoder = msgspec.json.Encoder()
_envelope_decoder = msgspec.json.Decoder(Envelope)
_key_decoder = msgspec.json.Decoder(EventKey)
_data_decoders = {name: msgspec.json.Decoder(cls) for name, cls in EVENT_TYPES.items()}


def encode(obj: object) -> bytes:
    """JSON as every other part of the protocol writes it."""
    return _encoder.encode(obj)


# A test hook: a station's clock set wrong by this many seconds (a Pi has no RTC, and the
# fault tests jump it days forward and back). Unset in production.
CLOCK_OFFSET_ENV = "WAREHOUSE_CLOCK_OFFSET_S"


def utc_now() -> datetime:
    offset = os.environ.get(CLOCK_OFFSET_ENV)
    now = datetime.now(UTC)
    return now + timedelta(seconds=float(offset)) if offset else now


def encode_event(
    station: str, epoch: str, seq: int, data: msgspec.Struct, ts: datetime | None = None
) -> bytes:
    """The wire bytes of one event; `data` is one of `protocol.events.EVENT_TYPES`."""
    envelope = Envelope(
        v=1,
        station=station,
        epoch=epoch,
        seq=seq,
        ts=(ts or utc_now()).astimezone(UTC),
        type=type(data).TYPE,
        data=msgspec.Raw(_encoder.encode(data)),
    )
    return _encoder.encode(envelope)


def check_utf8(payload: bytes, what: str) -> None:
    """Every payload is UTF-8 JSON. Said in our own words: msgspec words invalid UTF-8
    differently from one release to the next, and raises UnicodeDecodeError for it in an
    object key but DecodeError elsewhere."""
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidMessage(f"{what}: not valid UTF-8 (byte {exc.start})") from None


def decode_message(payload: bytes, type_: type[T], what: str) -> T:
    """Decode a JSON payload as `type_`; raises `InvalidMessage` starting with `what`."""
    check_utf8(payload, what)
    try:
        return msgspec.json.decode(payload, type=type_)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidMessage(f"{what}: {exc}") from None


def decode_event(payload: bytes) -> Event:
    """Validate and decode one event; raises `InvalidMessage` naming what is wrong."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise InvalidMessage(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    check_utf8(payload, "envelope")
    try:
        envelope = _envelope_decoder.decode(payload)
    except msgspec.ValidationError as exc:
        raise InvalidMessage(f"envelope: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidMessage(f"not JSON: {exc}") from None
    except RecursionError:
        # msgspec skips the `data` it passes on as Raw by recursion: JSON nested deeper
        # than a few hundred levels raises this, not DecodeError.
        raise InvalidMessage("envelope: JSON nested too deeply to decode") from None
    decoder = _data_decoders.get(envelope.type)
    if decoder is None:
        raise InvalidMessage(f"unknown event type {envelope.type!r}")
    try:
        data = decoder.decode(envelope.data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidMessage(f"{envelope.type}: {exc}") from None
    return Event(
        station=envelope.station,
        epoch=envelope.epoch,
        seq=envelope.seq,
        ts=envelope.ts,
        type=envelope.type,
        data=data,
        raw=bytes(envelope.data),
    )


def event_key(payload: bytes) -> EventKey | None:
    """The `(station, epoch, seq)` of an event that may fail the rest of the contract (a
    bad `data`, an unknown type, a wrong `ts`...), so the hub can tell which event of the
    station's stream it cannot apply; None when not even those three can be read."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        check_utf8(payload, "envelope")
        return _key_decoder.decode(payload)
    except (InvalidMessage, msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return None
