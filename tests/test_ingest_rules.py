"""The hub's exactly-once rules, fed messages directly (real SQLite, no broker)."""

from datetime import UTC, datetime

import pytest

from hub import store
from hub.check import check
from hub.ingest import Incoming, Ingest
from protocol.envelope import MAX_PAYLOAD_BYTES, encode_event
from protocol.events import Adjustment, Count, Move, Receipt, Scan, Shipment, ShipmentLine
from protocol.topics import Topics

pytestmark = pytest.mark.hub

TOPICS = Topics("s1")
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def conn(tmp_path):
    conn = store.connect(tmp_path / "ledger.db")
    store.create_schema(conn)
    yield conn
    conn.close()


@pytest.fixture
def ingest(conn):
    return Ingest(conn, TOPICS, resync_after_s=1.0)


def msg(seq, data, station="st-1", epoch="e1", topic_station=None) -> Incoming:
    payload = encode_event(station, epoch, seq, data, TS)
    return Incoming(TOPICS.events(topic_station or station), payload)


def receipt(qty=5, sku="MUG-1", location="A-01", lot=None):
    return Receipt(sku=sku, qty=qty, location=location, lot=lot)


def balances(conn):
    return conn.execute("SELECT sku, location, lot, qty FROM balances ORDER BY 1, 2, 3").fetchall()


def test_events_in_order_are_applied_with_their_deltas(conn, ingest):
    ingest.process([msg(1, receipt(5)), msg(2, Move(sku="MUG-1", qty=2, from_="A-01", to="B-01"))])
    ingest.process(
        [msg(3, Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG-1", qty=1, location="B-01")]))]
    )
    assert balances(conn) == [("MUG-1", "A-01", "", 3), ("MUG-1", "B-01", "", 1)]
    assert store.cursor_get(conn, "st-1", "e1") == 3
    assert check(conn).ok


def test_a_duplicate_is_ignored(conn, ingest):
    result = ingest.process([msg(1, receipt(5)), msg(1, receipt(5))])
    again = ingest.process([msg(1, receipt(5))])
    assert (result.applied, result.duplicates, again.duplicates) == (1, 1, 1)
    assert balances(conn) == [("MUG-1", "A-01", "", 5)]


def test_an_event_after_a_gap_is_held_until_the_gap_fills(conn, ingest):
    held = ingest.process([msg(1, receipt(1)), msg(3, receipt(3)), msg(4, receipt(4))])
    assert (held.applied, held.held) == (1, 2)
    assert balances(conn) == [("MUG-1", "A-01", "", 1)]
    filled = ingest.process([msg(2, receipt(2))])
    assert filled.applied == 3
    assert balances(conn) == [("MUG-1", "A-01", "", 10)]
    assert conn.execute("SELECT seq FROM events ORDER BY id").fetchall() == [(1,), (2,), (3,), (4,)]


def test_a_gap_that_does_not_fill_asks_for_a_resync_and_asks_again(ingest):
    ingest.process([msg(1, receipt()), msg(3, receipt())])
    assert ingest.due_resyncs(now=100.0) == []
    assert ingest.due_resyncs(now=101.0) == [("st-1", "e1", 2)]
    assert ingest.due_resyncs(now=101.5) == []  # not again at once
    assert ingest.due_resyncs(now=102.1) == [("st-1", "e1", 2)]


def test_a_new_epoch_starts_again_at_seq_one(conn, ingest):
    ingest.process([msg(1, receipt(1)), msg(2, receipt(1))])
    result = ingest.process([msg(1, receipt(7), epoch="e2")])
    assert result.applied == 1
    assert balances(conn) == [("MUG-1", "A-01", "", 9)]


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"not json", "not JSON"),
        (b'{"v": 2}', "envelope"),
        (
            b'{"v":1,"station":"st-1","epoch":"e1","seq":1,"ts":"2026-01-01T00:00:00Z","type":"teleport","data":{}}',
            "unknown event type",
        ),
        (
            b'{"v":1,"station":"st-1","epoch":"e1","seq":1,"ts":"2026-01-01T00:00:00Z","type":"receipt","data":{"sku":"A","qty":-1,"location":"L"}}',
            "qty",
        ),
        (b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", "exceeds"),
    ],
)
def test_invalid_payloads_are_dead_lettered_with_the_reason(conn, ingest, payload, reason):
    result = ingest.process([Incoming(TOPICS.events("st-1"), payload)])
    assert result.dead == 1
    [(topic, stored, why)] = conn.execute(
        "SELECT topic, payload, reason FROM dead_letters"
    ).fetchall()
    kept = payload[: store.DEAD_LETTER_PAYLOAD_BYTES]  # the first bytes, enough to see it
    assert topic == TOPICS.events("st-1") and bytes(stored) == kept and reason in why
    assert balances(conn) == [] and store.cursor_get(conn, "st-1", "e1") == 0


def test_a_station_publishing_as_another_is_dead_lettered(conn, ingest):
    result = ingest.process([msg(1, receipt(), station="st-2", topic_station="st-1")])
    assert result.dead == 1 and balances(conn) == []
    assert "published on 'st-1'" in conn.execute("SELECT reason FROM dead_letters").fetchone()[0]


def test_stock_below_zero_is_recorded_and_alerted_never_clamped(conn, ingest):
    ingest.process([msg(1, Adjustment(sku="MUG-1", qty=-3, location="A-01", reason="lost"))])
    assert balances(conn) == [("MUG-1", "A-01", "", -3)]
    kinds = [a["kind"] for a in store.alerts_open(conn)]
    assert "negative_stock" in kinds and "unknown_sku" in kinds


def test_an_unknown_sku_is_alerted_once_while_its_alert_is_open(conn, ingest):
    ingest.process([msg(1, receipt(sku="NEW-1")), msg(2, receipt(sku="NEW-1"))])
    ingest.process([msg(3, receipt(sku="NEW-1")), msg(4, receipt(sku="NEW-2"))])
    unknown = [a for a in store.alerts_open(conn) if a["kind"] == "unknown_sku"]
    assert sorted(a["sku"] for a in unknown) == ["NEW-1", "NEW-2"]
    published = conn.execute(
        "SELECT count(*) FROM outbox WHERE topic = ?", (TOPICS.alerts,)
    ).fetchone()[0]
    assert published == 2  # not one per receipt: four receipts, two skus
    with store.transaction(conn):  # a supervisor clears it by hand ...
        store.alert_clear_id(conn, next(a["id"] for a in unknown if a["sku"] == "NEW-1"), "t")
    ingest.process([msg(5, receipt(sku="NEW-1"))])  # ... and the next movement alerts again
    again = [a for a in store.alerts_open(conn) if a["kind"] == "unknown_sku"]
    assert sorted(a["sku"] for a in again) == ["NEW-1", "NEW-2"]


def test_a_count_posts_the_difference_to_the_book(conn, ingest):
    ingest.process([msg(1, receipt(10)), msg(2, Count(location="A-01", sku="MUG-1", counted=7))])
    assert balances(conn) == [("MUG-1", "A-01", "", 7)]
    deltas = conn.execute("SELECT type, delta FROM movements ORDER BY id").fetchall()
    assert deltas == [("receipt", 10), ("count", -3)]


def test_scans_are_recorded_without_moving_stock(conn, ingest):
    ingest.process([msg(1, Scan(code="X", verdict="unknown_barcode", mode="pack"))])
    assert conn.execute("SELECT type FROM events").fetchall() == [("scan",)]
    assert balances(conn) == []


def test_applied_acks_stock_and_movements_go_to_the_outbox(conn, ingest):
    ingest.process([msg(1, receipt(5))])
    topics = [t for (t,) in conn.execute("SELECT topic FROM outbox ORDER BY id")]
    assert TOPICS.applied("st-1") in topics
    assert TOPICS.stock("MUG-1") in topics
    assert TOPICS.movements in topics


def test_the_ledger_check_finds_a_balance_that_disagrees_with_its_movements(conn, ingest):
    ingest.process([msg(1, receipt(5))])
    conn.execute("UPDATE balances SET qty = 6")  # tampering, or a bug
    report = check(conn)
    assert not report.ok
    assert report.mismatches[0]["balance"] == 6 and report.mismatches[0]["movements"] == 5


def _acked(conn):
    rows = conn.execute("SELECT payload FROM outbox WHERE topic = ?", (TOPICS.applied("st-1"),))
    return [bytes(p) for (p,) in rows]


def test_the_ack_follows_the_stations_newest_journal(conn, ingest):
    ingest.process([msg(1, receipt(1), epoch="old")])
    ingest.process([msg(1, receipt(1), epoch="new")])
    assert _acked(conn) == [b'{"epoch":"new","seq":1}']
    assert store.station_epoch(conn, "st-1") == "new"


def test_a_duplicate_is_acknowledged_again(conn, ingest):
    ingest.process([msg(1, receipt(1))])
    conn.execute("DELETE FROM outbox")  # published meanwhile
    ingest.process([msg(1, receipt(1))])
    assert _acked(conn) == [b'{"epoch":"e1","seq":1}']
