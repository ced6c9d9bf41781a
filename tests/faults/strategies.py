"""Hypothesis strategies shared by the fuzz tests: JSON-ish values and mutated envelopes."""

from datetime import UTC, datetime

from hypothesis import strategies as st

from protocol.envelope import encode_event
from protocol.events import Adjustment, Count, Move, Receipt, Scan
from protocol.limits import QTY_MAX

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False), st.text(max_size=30),
)  # fmt: skip
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip

codes = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,10}", fullmatch=True)
events = st.one_of(
    st.builds(Receipt, sku=codes, qty=st.integers(1, QTY_MAX), location=codes),
    st.builds(Move, sku=codes, qty=st.integers(1, 1000), from_=codes, to=codes),
    st.builds(Count, sku=codes, counted=st.integers(0, 1000), location=codes),
    st.builds(Adjustment, sku=codes, qty=st.integers(-1000, 1000), location=codes,
              reason=st.sampled_from(["damaged", "lost", "found", "expired", "other"])),
    st.builds(Scan, code=st.text(max_size=40), verdict=st.just("ok"),
              mode=st.sampled_from(["pack", "receive", "count", "move", "adjust"])),
)  # fmt: skip
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@st.composite
def envelopes(draw, station: str = "st-1") -> bytes:
    seq = draw(st.integers(1, 50))
    return encode_event(station, "e1", seq, draw(events), TS)


@st.composite
def mutated(draw, payload: bytes) -> bytes:
    """`payload` with a few bytes flipped, dropped or inserted."""
    data = bytearray(payload)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "drop", "insert"]))
        if action == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "drop":
            del data[at]
        else:
            data.insert(at, draw(st.integers(0, 255)))
    return bytes(data)


mutated_envelopes = envelopes().flatmap(mutated)
