"""The hub's ingest fed random and mutated messages through `Ingest.process`: each bad
one is dead-lettered with a reason, nothing else of it is stored (but the failure and alert
of one set aside), and nothing raises."""

from collections.abc import Iterator
from contextlib import contextmanager

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub import store
from hub.ingest import Incoming, Ingest
from protocol.envelope import MAX_PAYLOAD_BYTES, InvalidMessage, decode_event
from protocol.topics import Topics
from tests.faults.strategies import envelopes, json_values, mutated_envelopes
from tests.postgres import ledger_target

pytestmark = [pytest.mark.hub, pytest.mark.slow]

TOPICS = Topics("s1")
LEDGER_TABLES = ("events", "movements", "balances", "pending", "cursors", "stations", "outbox")

topics = st.one_of(
    st.just(TOPICS.events("st-1")),
    st.just(TOPICS.events("other")),
    st.just(TOPICS.station_status("st-1")),
    st.text(max_size=60),
    st.builds(lambda rest: f"{TOPICS.base}/{rest}", st.text(max_size=40)),
)
payloads = st.one_of(
    st.binary(max_size=500),
    json_values.map(msgspec.json.encode),
    mutated_envelopes,
    envelopes(),
    st.just(b"{" + b" " * MAX_PAYLOAD_BYTES + b"}"),
)


@contextmanager
def fresh() -> Iterator[tuple[store.Connection, Ingest]]:
    """An empty ledger and its ingest; closed after the example (on PostgreSQL a session
    each, which would otherwise wait for the garbage collector)."""
    conn = store.connect(ledger_target(":memory:"))
    try:
        store.create_schema(conn)
        yield conn, Ingest(conn, TOPICS)
    finally:
        conn.close()


def counts(conn) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in LEDGER_TABLES}


def is_valid_event(topic: str, payload: bytes) -> bool:
    levels = TOPICS.leaf(topic)
    if len(levels) != 3 or levels[0] != "station" or levels[2] != "events":
        return False
    try:
        return decode_event(payload).station == levels[1]
    except InvalidMessage:
        return False


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(topics, payloads)
def test_a_bad_message_is_dead_lettered_with_a_reason_and_nothing_else_stored(topic, payload):
    is_status = TOPICS.leaf(topic)[:1] == ["station"] and TOPICS.leaf(topic)[-1:] == ["status"]
    if is_valid_event(topic, payload) or is_status:
        return  # valid events are the rules tests' business; statuses have their own rules
    with fresh() as (conn, ingest):
        result = ingest.process([Incoming(topic, payload)])
        assert result.dead == 1
        [(reason,)] = conn.execute("SELECT reason FROM dead_letters").fetchall()
        assert reason
        # One that says it is its station's next event is set aside: its alert is published.
        failed = conn.execute("SELECT count(*) FROM event_failures").fetchone()[0]
        assert counts(conn) == dict.fromkeys(LEDGER_TABLES, 0) | {"outbox": failed}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(topics, payloads), min_size=1, max_size=20))
def test_a_batch_of_anything_never_raises_and_keeps_the_ledger_sound(batch):
    with fresh() as (conn, ingest):
        ingest.process([Incoming(topic, payload) for topic, payload in batch])
        assert store.check_ledger(conn) == []
        assert store.duplicate_events(conn) == 0
        assert store.event_gaps(conn) == []


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.binary(max_size=300), json_values.map(msgspec.json.encode)))
def test_a_bad_station_status_is_dead_lettered_or_ignored(payload):
    with fresh() as (conn, ingest):
        ingest.process([Incoming(TOPICS.station_status("st-1"), payload)])
        dead = conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
        stored = conn.execute("SELECT count(*) FROM stations").fetchone()[0]
        assert dead + stored <= 1
