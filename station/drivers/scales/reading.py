"""What a scale codec makes of one frame, and the one error type codecs raise.

A codec turns one frame into a `Reading` (a weight, stable or in motion), a `Status`
(no weight, only flags: the scale is moving or at zero), or an `Ack` (a command was
done). A frame it cannot read raises `ScaleError`; a frame in which the scale reports a
problem (overload, under zero, a hardware error) raises the subclass `ScaleFault`.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

GRAMS_PER_UNIT = {
    "mg": Decimal("0.001"),
    "g": Decimal(1),
    "kg": Decimal(1000),
    "t": Decimal(1000000),
    "lb": Decimal("453.59237"),  # exact, by the international yard and pound agreement
    "oz": Decimal("28.349523125"),
}


class ScaleError(ValueError):
    """A frame that is not what the protocol allows (garbage, truncated, bad checksum)."""


class ScaleFault(ScaleError):
    """The scale itself reports a problem: overload, under zero, hardware or syntax error."""


@dataclass(frozen=True)
class Reading:
    grams: Decimal
    stable: bool
    raw: bytes


@dataclass(frozen=True)
class Status:
    motion: bool
    raw: bytes
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ack:
    command: str
    raw: bytes
    grams: Decimal | None = None  # a tare command answers with the tare weight


Reply = Reading | Status | Ack


def to_grams(value: Decimal, unit: str) -> Decimal:
    try:
        return value * GRAMS_PER_UNIT[unit.lower()]
    except KeyError:
        raise ScaleError(f"unsupported unit {unit!r}") from None


def parse_number(text: str) -> Decimal:
    """A weight field ("  -12.34", "+00012.34") -> Decimal; anything else -> ScaleError."""
    cleaned = text.replace(" ", "")
    if not cleaned or not all(c in "+-.0123456789" for c in cleaned):
        raise ScaleError(f"not a weight: {text!r}")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ScaleError(f"not a weight: {text!r}") from None
    if not value.is_finite():
        raise ScaleError(f"not a weight: {text!r}")
    return value


def split_frames(buffer: bytearray, terminator: bytes, max_length: int = 256) -> list[bytes]:
    """Cut complete frames (terminator removed) off the front of `buffer`.

    A run longer than `max_length` without a terminator is returned as a frame too, so
    that the codec reports it as garbage instead of buffering forever.
    """
    frames = []
    while True:
        end = buffer.find(terminator)
        if end < 0:
            break
        frames.append(bytes(buffer[:end]))
        del buffer[: end + len(terminator)]
    if len(buffer) > max_length:
        frames.append(bytes(buffer))
        buffer.clear()
    return frames
