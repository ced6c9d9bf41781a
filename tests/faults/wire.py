"""Hypothesis strategies for what may arrive on the hub's MQTT topics, made from the
contract itself (`msgspec.inspect` of the protocol's types): values every field accepts,
with its limits hit exactly, and values it refuses (one past a limit, huge, NaN, the wrong
type, deep nesting, a missing or an unknown field). A value is JSON-able Python, or
`Verbatim` bytes put into the payload as they are (JSON no encoder writes).

Generated from the types, a field added to the protocol is fuzzed without a change here.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import msgspec
from hypothesis import strategies as st
from msgspec import inspect

from protocol import limits

# Identifiers the hub knows (products, a location, an order, a purchase order): a drawn
# code is one of them often enough for the hub's paths beyond "unknown sku" to run.
KNOWN_CODES = ("MUG-1", "TEA-1", "KIT-1", "A-01", "B-02", "SO-1", "PO-1")
DECIMAL_LIMITS = {
    limit.pattern: limit
    for limit in (limits.MONEY, limits.WEIGHT, limits.PERCENT, limits.PARCEL_WEIGHT)
}
DEEP = 5000  # levels of nesting: far beyond what any parser recurses through safely


@dataclass(frozen=True)
class Verbatim:
    """Bytes written into the JSON as they are: NaN, 1e999999, invalid UTF-8, deep nesting."""

    text: bytes


def to_json(value: object) -> bytes:
    """`value` as JSON, with `Verbatim`s spliced in verbatim."""
    if isinstance(value, Verbatim):
        return value.text
    if isinstance(value, dict):
        items = (msgspec.json.encode(str(k)) + b":" + to_json(v) for k, v in value.items())
        return b"{" + b",".join(items) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(to_json(v) for v in value) + b"]"
    return msgspec.json.encode(value)


# --- what a field accepts ----------------------------------------------------------------
def valid(t: inspect.Type) -> st.SearchStrategy:
    """Values of type `t` that its decoder accepts."""
    t, schema = _unwrap(t)
    return _VALID[type(t)](t, schema)


def _valid_int(t: inspect.IntType) -> st.SearchStrategy[int]:
    low, high = _int_bounds(t)
    return st.one_of(st.sampled_from([low, high]), st.integers(low, high))


_VALID = {
    inspect.UnionType: lambda t, _: st.one_of([valid(member) for member in t.types]),
    inspect.NoneType: lambda t, _: st.none(),
    inspect.BoolType: lambda t, _: st.booleans(),
    inspect.LiteralType: lambda t, _: st.sampled_from(t.values),
    inspect.IntType: lambda t, _: _valid_int(t),
    inspect.StrType: lambda t, _: _valid_str(t),
    inspect.DecimalType: lambda t, schema: _valid_decimal(DECIMAL_LIMITS[schema["pattern"]]),
    inspect.DateType: lambda t, _: st.one_of(st.sampled_from([date.min, date.max]),
                                             st.dates()).map(date.isoformat),
    inspect.DateTimeType: lambda t, _: timestamps,
    inspect.ListType: lambda t, _: st.lists(valid(t.item_type), max_size=3),
    inspect.DictType: lambda t, _: st.dictionaries(valid(t.key_type), valid(t.value_type),
                                                   max_size=2),
    inspect.StructType: lambda t, _: struct(t),
}  # fmt: skip


def struct(t: inspect.StructType) -> st.SearchStrategy[dict]:
    """A valid object of struct `t`: its required fields and any of its optional ones."""
    required = {f.encode_name: valid(f.type) for f in t.fields if f.required}
    optional = {f.encode_name: valid(f.type) for f in t.fields if not f.required}
    return st.fixed_dictionaries(required, optional=optional)


# Any offset a clock may carry, years from the first to the last a datetime holds.
_offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
timestamps = st.one_of(
    st.sampled_from(
        ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "1970-01-01T00:00:00+00:00"]
    ),
    st.datetimes(
        min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ).map(lambda d: d.isoformat()),
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=_offsets
    ).map(lambda d: d.isoformat()),
)


def _valid_str(t: inspect.StrType) -> st.SearchStrategy[str]:
    if t.pattern is None:
        longest = t.max_length if t.max_length is not None else 40
        return st.one_of(st.text(max_size=min(longest, 40)), st.just("é" * longest))
    low, high = t.min_length or 0, t.max_length or 600
    pattern_text = st.from_regex(t.pattern, fullmatch=True).filter(lambda s: low <= len(s) <= high)
    longest = st.just(_longest_match(t)[0])
    if t.pattern.startswith("^[A-Za-z0-9]["):  # a warehouse code
        return st.one_of(st.sampled_from(KNOWN_CODES), longest, pattern_text)
    return st.one_of(longest, pattern_text)


def _valid_decimal(limit: limits.DecimalLimit) -> st.SearchStrategy[str]:
    step = Decimal(10) ** -limit.places
    return st.one_of(
        st.sampled_from([Decimal(0), limit.most, step]),
        st.decimals(0, limit.most, places=limit.places),
    ).map(lambda d: f"{d:f}")


# --- what a field refuses ----------------------------------------------------------------
WRONG_TYPES = st.sampled_from([[], {}, "1", 1.5, True])
DEEP_VALUE = Verbatim(b"[" * DEEP + b"]" * DEEP)
NOT_JSON = st.sampled_from(
    [
        Verbatim(b"NaN"),
        Verbatim(b"Infinity"),
        Verbatim(b"1e999999"),
        Verbatim(b'"\xff\xfe"'),
        Verbatim(b"'single'"),
        DEEP_VALUE,
    ]
)


def invalid(t: inspect.Type) -> st.SearchStrategy:
    """Values of type `t` that its decoder refuses."""
    t, schema = _unwrap(t)
    return _INVALID[type(t)](t, schema)


def _invalid_int(t: inspect.IntType) -> st.SearchStrategy:
    low, high = _int_bounds(t)
    return st.one_of(
        st.sampled_from([low - 1, high + 1, -(2**64), 2**64, str(low), float(low) + 0.5, None]),
        st.sampled_from([Verbatim(b"1e400"), Verbatim(b"NaN"), Verbatim(b"-0x1")]),
        WRONG_TYPES,
        NOT_JSON,
    )


def _invalid_list(t: inspect.ListType) -> st.SearchStrategy:
    one_bad = valid(t.item_type).flatmap(lambda ok: invalid(t.item_type).map(lambda bad: [ok, bad]))
    return st.one_of(one_bad, st.sampled_from(["[]", {}, None]), NOT_JSON)


BAD_DAYS = ["2026-13-01", "2026-02-30", "0000-01-01", "tomorrow", 20260101, None,
            "2026-01-01T00:00:00Z"]  # fmt: skip
BAD_TIMES = ["2026-01-01T00:00:00", "2026-01-01", "not a time", 1767225600,
             "2026-01-01T25:00:00Z", "10000-01-01T00:00:00Z", None]  # fmt: skip
_INVALID = {
    inspect.UnionType: lambda t, _: _invalid_optional(t),
    inspect.BoolType: lambda t, _: st.sampled_from(["true", 1, None]),
    inspect.LiteralType: lambda t, _: st.sampled_from(
        [f"not-{t.values[0]}", None, 1 if isinstance(t.values[0], str) else str(t.values[0])]),
    inspect.IntType: lambda t, _: _invalid_int(t),
    inspect.StrType: lambda t, _: st.one_of(
        _invalid_str(t), st.sampled_from([5, None, ["a"], {"a": "b"}]),
        st.just(Verbatim(b'"bad \xc3\x28 utf-8"')), NOT_JSON),
    inspect.DecimalType: lambda t, schema: _invalid_decimal(DECIMAL_LIMITS[schema["pattern"]]),
    inspect.DateType: lambda t, _: st.sampled_from(BAD_DAYS),
    inspect.DateTimeType: lambda t, _: st.sampled_from(BAD_TIMES),
    inspect.ListType: lambda t, _: _invalid_list(t),
    inspect.DictType: lambda t, _: st.one_of(invalid(t.value_type).map(lambda bad: {"k": bad}),
                                             st.sampled_from([[], "{}", None])),
    inspect.StructType: lambda t, _: invalid_struct(t),
}  # fmt: skip


def _invalid_optional(t: inspect.UnionType) -> st.SearchStrategy:
    """A bad value of an Optional's type (None, which an Optional takes, is not bad). The
    protocol has no other unions: a value one member refuses another might take."""
    [member] = [m for m in t.types if not isinstance(m, inspect.NoneType)]
    return invalid(member).filter(lambda v: v is not None)


def invalid_struct(t: inspect.StructType) -> st.SearchStrategy[dict]:
    """An object of struct `t` with one thing wrong: a field's value, a required field
    missing, an unknown field, or not an object at all."""
    fields = {f.encode_name: f for f in t.fields}

    def bad_field(ok: dict, name: str) -> st.SearchStrategy[dict]:
        return invalid(fields[name].type).map(lambda bad: {**ok, name: bad})

    def one_wrong(ok: dict) -> st.SearchStrategy[dict]:
        required = [f.encode_name for f in t.fields if f.required]
        choices = [
            st.sampled_from(sorted(fields)).flatmap(lambda n: bad_field(ok, n)),
            st.text(min_size=1, max_size=12)
            .filter(lambda k: k not in fields)
            .flatmap(lambda k: anything.map(lambda v: {**ok, k: v})),
        ]
        if required:
            choices.append(
                st.sampled_from(required).map(lambda n: {k: v for k, v in ok.items() if k != n})
            )
        return st.one_of(choices)

    return st.one_of(struct(t).flatmap(one_wrong), st.sampled_from([[], "x", 0, None]))


anything = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.text(max_size=20),
        st.floats(allow_nan=False, allow_infinity=False),
        NOT_JSON,
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _invalid_str(t: inspect.StrType) -> st.SearchStrategy[str]:
    if t.pattern is None:
        return st.just("x" * (t.max_length + 1)) if t.max_length is not None else st.nothing()
    longest, char = _longest_match(t)
    refused = [longest + char, "", "has space", "a/b", "a+b", "#", "ünïcode", "a\x00b"]
    return st.sampled_from([s for s in refused if not re.fullmatch(t.pattern, s)])


def _invalid_decimal(limit: limits.DecimalLimit) -> st.SearchStrategy:
    step = Decimal(10) ** -limit.places
    return st.sampled_from(
        [
            f"{limit.most + step:f}",
            f"{step / 10:f}",
            "-0.01",
            "1e999999",
            "1e30",
            "NaN",
            "Infinity",
            "-Infinity",
            "",
            "12,50",
            "0x10",
            [],
            {"a": 1},
        ]
    )


def _unwrap(t: inspect.Type) -> tuple[inspect.Type, dict]:
    if isinstance(t, inspect.Metadata):
        return t.type, t.extra_json_schema or {}
    return t, {}


def _int_bounds(t: inspect.IntType) -> tuple[int, int]:
    low = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else -(2**63))
    high = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else 2**63 - 1)
    return low, high


def _longest_match(t: inspect.StrType) -> tuple[str, str]:
    """The longest string of one character `t` takes, and that character."""
    char = next(c for c in "a1A" if re.fullmatch(t.pattern, c * 8))
    n = next(n for n in range(t.max_length or 600, 0, -1) if re.fullmatch(t.pattern, char * n))
    return char * n, char
