"""A re-used (station, epoch, seq) with different content is not a duplicate: it is a
journal that went back (see docs/reliability.md) and numbered new events over ones the
hub has. The hub keeps the event it applied, dead-letters the other one with the reason
and raises one `conflicting_event` alert per journal; a true re-send stays silent."""

from datetime import UTC, datetime, timedelta

import pytest

from hub import store
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode_event
from protocol.events import Adjustment
from protocol.topics import Topics
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub

TOPICS = Topics("s1")
TS = datetime(2026, 1, 2, tzinfo=UTC)
FIRST = Adjustment(sku="MUG-1", qty=5, location="A-01", reason="found")
OTHER = Adjustment(sku="TEA-1", qty=-2, location="B-02", reason="damaged")


def fresh(tmp_path) -> tuple:
    conn = store.connect(ledger_target(tmp_path / "ledger.db"))
    store.create_schema(conn)
    return conn, Ingest(conn, TOPICS)


def send(ingest: Ingest, seq: int, event, ts: datetime = TS):
    payload = encode_event("st-1", "e1", seq, event, ts)
    return ingest.process([Incoming(TOPICS.events("st-1"), payload)])


def dead_letters(conn) -> list[str]:
    return [reason for (reason,) in conn.execute("SELECT reason FROM dead_letters ORDER BY id")]


def conflict_alerts(conn) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT station, severity FROM alerts WHERE kind = 'conflicting_event'"
    ).fetchall()


def test_a_reused_seq_with_different_content_is_dead_lettered_and_alerted(tmp_path):
    conn, ingest = fresh(tmp_path)
    send(ingest, 1, FIRST)
    result = send(ingest, 1, OTHER)
    assert (result.dead, result.duplicates) == (1, 0)
    [reason] = dead_letters(conn)
    assert "conflicting duplicate" in reason and "seq 1" in reason
    assert conflict_alerts(conn) == [("st-1", "critical")]
    # The ledger keeps what it applied; the other movement is in the dead letter only.
    assert conn.execute("SELECT sku, qty FROM balances").fetchall() == [("MUG-1", 5)]


def test_the_same_event_again_is_a_silent_duplicate(tmp_path):
    conn, ingest = fresh(tmp_path)
    send(ingest, 1, FIRST)
    result = send(ingest, 1, FIRST)
    assert (result.dead, result.duplicates) == (0, 1)
    assert dead_letters(conn) == [] and conflict_alerts(conn) == []


def test_the_same_data_at_another_station_time_is_another_event(tmp_path):
    conn, ingest = fresh(tmp_path)
    send(ingest, 1, FIRST)
    assert send(ingest, 1, FIRST, TS + timedelta(minutes=1)).dead == 1
    assert len(conflict_alerts(conn)) == 1


def test_a_held_seq_sent_again_with_other_content_is_dead_lettered(tmp_path):
    conn, ingest = fresh(tmp_path)
    assert send(ingest, 3, FIRST).held == 1  # after a gap: held
    assert send(ingest, 3, FIRST).held == 1  # the same again: still just held
    assert send(ingest, 3, OTHER).dead == 1
    send(ingest, 1, OTHER)
    send(ingest, 2, OTHER)  # the gap fills: the held event is the one applied
    assert conn.execute("SELECT sku, qty FROM balances WHERE sku = 'MUG-1'").fetchall() == [
        ("MUG-1", 5)
    ]
    assert len(dead_letters(conn)) == 1


def test_one_alert_per_journal_however_many_conflicts(tmp_path):
    conn, ingest = fresh(tmp_path)
    for seq in (1, 2, 3):
        send(ingest, seq, FIRST)
    for seq in (1, 2, 3):
        send(ingest, seq, OTHER)
    assert len(dead_letters(conn)) == 3
    assert len(conflict_alerts(conn)) == 1
