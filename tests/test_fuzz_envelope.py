"""`decode_event` on anything a broker could deliver: it returns an event or raises
`InvalidMessage` naming the problem, never any other exception."""

import msgspec
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from protocol.envelope import MAX_PAYLOAD_BYTES, InvalidMessage, decode_event, encode_event
from tests.faults.strategies import TS, envelopes, events, json_values, mutated_envelopes


def decodes_or_refuses(payload: bytes) -> None:
    try:
        decode_event(payload)
    except InvalidMessage as exc:
        assert str(exc)  # a reason for the dead letter


@given(st.binary(max_size=2000))
def test_random_bytes_decode_or_are_refused_with_a_reason(payload):
    decodes_or_refuses(payload)


@given(json_values)
def test_random_json_decodes_or_is_refused_with_a_reason(value):
    decodes_or_refuses(msgspec.json.encode(value))


@given(st.dictionaries(
    st.sampled_from(["v", "station", "epoch", "seq", "ts", "type", "data", "x"]), json_values,
))  # fmt: skip
def test_envelope_fields_of_wrong_types_are_refused(fields):
    decodes_or_refuses(msgspec.json.encode(fields))


@given(mutated_envelopes)
@example(b'{"\x80v":1}')  # invalid UTF-8 in a key: msgspec raised UnicodeDecodeError
def test_mutated_envelopes_decode_or_are_refused(payload):
    decodes_or_refuses(payload)


@given(envelopes())
def test_valid_envelopes_round_trip(payload):
    event = decode_event(payload)
    assert encode_event(event.station, event.epoch, event.seq, event.data, event.ts) == payload


@settings(max_examples=5)
@given(events, st.integers(1, 1000))
def test_payloads_above_the_limit_are_refused_unread(data, extra):
    valid = encode_event("st-1", "e1", 1, data, TS)
    huge = valid[:-1] + b" " * (MAX_PAYLOAD_BYTES - len(valid) + extra) + b"}"
    with pytest.raises(InvalidMessage, match="exceeds"):
        decode_event(huge)


DEEP = 5000  # levels: beyond what msgspec recurses through (it raised RecursionError)


@pytest.mark.parametrize("data", [
    b"[" * DEEP + b"]" * DEEP,
    b'{"code": "x", "verdict": "ok", "mode": "pack", "order": ' + b"[" * DEEP + b"]" * DEEP + b"}",
])  # fmt: skip
def test_deeply_nested_data_is_refused_with_a_reason(data):
    envelope = (b'{"v":1,"station":"st-1","epoch":"e1","seq":1,"ts":"2026-01-02T03:04:05Z",'
                b'"type":"scan","data":' + data + b"}")  # fmt: skip
    with pytest.raises(InvalidMessage, match="^envelope: JSON nested too deeply to decode$"):
        decode_event(envelope)
