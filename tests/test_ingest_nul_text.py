"""A station event whose text holds a NUL character (an older station's scan, a hostile
publisher) gets the same answer on SQLite and PostgreSQL, whose text cannot hold one: a
dead letter naming the field, an `event_failed` alert, the station's later events held
until a supervisor skips it; never a failed batch or a crash (docs/reliability.md)."""

import pytest

from hub import store
from hub.check import check
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode_event
from protocol.events import Adjustment, Scan
from tests.domain_helpers import TOPICS, TS, open_ledger

pytestmark = pytest.mark.hub

STATION = "pack-1"
EVENTS = {
    1: Adjustment(sku="MUG-1", qty=2, location="A-01", reason="found"),
    2: Scan(code="no such thing \x1d\x00", verdict="unknown_barcode", mode="pack"),
    3: Adjustment(sku="MUG-1", qty=1, location="A-01", reason="found"),
}


def message(seq: int) -> Incoming:
    return Incoming(TOPICS.events(STATION), encode_event(STATION, "e1", seq, EVENTS[seq], TS))


def failed_alerts(conn) -> list[dict]:
    return [a for a in store.alerts_open(conn) if a["kind"] == "event_failed"]


@pytest.mark.parametrize("batches", [[[1, 2, 3]], [[3, 2], [1]]], ids=["in-order", "held"])
def test_an_event_holding_a_nul_is_set_aside_alike_on_both_backends(tmp_path, batches):
    conn = open_ledger(tmp_path / "ledger.db")
    ingest = Ingest(conn, TOPICS)
    for batch in batches:
        ingest.process([message(seq) for seq in batch])  # no exception: no batch failed

    assert store.on_hand(conn, "MUG-1") == 2  # seq 1 applied, seq 3 waits behind seq 2
    reason = "scan: $.code holds a NUL character (U+0000), which the ledger does not store"
    [failure] = store.event_failures(conn)
    assert (failure.station, failure.seq, failure.reason) == (STATION, 2, reason)
    [dead] = store.dead_letters(conn, 10)
    assert dead["reason"] == reason and dead["payload"] == message(2).payload.decode()
    [alert] = failed_alerts(conn)
    assert reason in alert["message"]
    assert not check(conn).ok  # the station is held: someone has to decide
    assert ingest.due_resyncs(now=0.0) == ingest.due_resyncs(now=1e9) == []  # not asked for

    ingest.process([message(2)])  # sent again: counted on its dead letter, alerted once
    assert [d["repeats"] for d in store.dead_letters(conn, 10)] == [2]
    assert len(failed_alerts(conn)) == 1

    store.event_failure_decide(conn, STATION, "e1", 2, "supervisor", "a noisy scan",
                               TS.isoformat())  # fmt: skip
    assert ingest.skip_decided() == 1
    assert store.on_hand(conn, "MUG-1") == 3
    assert failed_alerts(conn) == []
    assert check(conn).ok
    conn.close()


def test_an_escaped_backslash_is_no_nul(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    scan = Scan(code="C:\\u0000", verdict="unknown_barcode", mode="pack")
    result = Ingest(conn, TOPICS).process(
        [Incoming(TOPICS.events(STATION), encode_event(STATION, "e1", 1, scan, TS))]
    )
    assert (result.applied, result.dead) == (1, 0)
    conn.close()
