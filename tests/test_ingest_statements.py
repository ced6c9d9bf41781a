"""What a batch reads or writes once, not per event: the scans' counts and the pick-error
alert's figures (hub.tallies), its SKUs' stock as their messages name it (stock.Read),
their flags (hub.sku_flags), their products' policies, plans and pick locations, and its
products (catalog.Known). The statements are the ones SQLite really ran (its trace: each
row of an `executemany` is one)."""

from collections import Counter
from datetime import UTC, datetime

import pytest

from hub import catalog, settings, store
from hub.catalog import ProductRecord
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode, encode_event
from protocol.events import Adjustment, Receipt, Scan
from protocol.messages import Order, OrderLine
from protocol.topics import Topics

pytestmark = pytest.mark.sqlite_only

TOPICS = Topics("s1")
NOW = datetime.now(UTC).isoformat()


def batch(station: str, events: list) -> list[Incoming]:
    now = datetime.now(UTC)
    return [Incoming(TOPICS.events(station), encode_event(station, "e1", seq, data, now))
            for seq, data in enumerate(events, 1)]  # fmt: skip


def run(conn, station: str, events: list) -> Counter:
    """The statements one batch ran, by their first four words."""
    ran: list[str] = []
    conn.set_trace_callback(ran.append)
    Ingest(conn, TOPICS).process(batch(station, events))
    conn.set_trace_callback(None)
    return Counter(" ".join(sql.split()[:4]) for sql in ran)


def test_a_batch_counts_its_scans_and_reads_the_ledger_position_once():
    conn = store.connect(":memory:")
    store.create_schema(conn)
    with store.transaction(conn):
        settings.save(conn, settings.Settings(pick_error_min_scans=2, pick_error_rate=0.25))
    events = [Receipt(sku=f"SKU-{n}", qty=1, location="A-1") for n in range(5)]
    events += [Scan(code="C", verdict="ok" if n % 3 else "too_many", mode="pack", sku="SKU-1",
                    operator="ann") for n in range(12)]  # fmt: skip
    counts = run(conn, "st-1", events)
    assert counts["INSERT INTO scan_stats (day,"] == 1  # one station, operator and mode
    assert counts["INSERT INTO pick_stats (day,"] == 1
    # The station's day totals and its pick-error alert, read ahead (hub.tallies).
    assert counts["SELECT station, sum(scans), sum(errors)"] == 1
    assert counts["SELECT dedupe, id, kind,"] == 1
    assert counts["SELECT coalesce(sum(scans), 0), coalesce(sum(errors),"] == 0
    assert counts["SELECT id, kind, severity,"] == 1  # again once, after the batch raised it
    assert counts["UPDATE alerts SET message"] == 1
    # Five SKUs' stock messages: each figure read once for all of them. The highest ids of
    # events, movements and alerts (five unknown SKUs) once a transaction
    # (store.ledger.next_id), the ledger's position the movements'.
    assert counts["SELECT coalesce(max(id), 0) FROM"] == 3
    # Their balances: read ahead at the batch's start (store.written), and as the stock
    # messages name them, in the database's order, at its end.
    assert counts["SELECT sku, location, lot,"] == 2
    assert counts["SELECT sku, sum(greatest(qty -"] == 1
    assert counts["SELECT b.sku, sum(b.qty) FROM"] == 1
    # Their products' policies, stored plans and pick locations likewise.
    assert counts["SELECT sku, name, unit_cost,"] == 1
    assert counts["SELECT sku, due, target,"] == 1
    assert counts["SELECT b.sku, b.location FROM"] == 1
    assert counts["SELECT due, target, mean,"] + counts["SELECT b.location FROM balances"] == 0
    [alert] = [a for a in store.alerts_open(conn) if a["kind"] == "pick_errors"]
    assert alert["message"] == "st-1: 4 scan errors in 12 scans today"


def test_a_batch_reads_its_scanned_orders_in_one_statement():
    """Whether each order a good pack scan names is open, read at the batch's start for
    all of them; an open one is read again only to start its packing."""
    conn = store.connect(":memory:")
    store.create_schema(conn)
    with store.transaction(conn):
        order = Order(order="SO-1", lines=[OrderLine(sku="MUG", qty=1)])
        store.order_upsert(conn, "SO-1", "open", encode(order), NOW)
    scans = [Scan(code="C", verdict="ok", mode="pack", order=f"SO-{n % 3}") for n in range(9)]
    counts = run(conn, "st-1", scans)
    assert counts["SELECT order_id FROM orders"] == 1
    assert counts["SELECT status FROM orders"] == 1  # SO-1's, open: not SO-0's or SO-2's
    assert store.order_status(conn, "SO-1") == "packing"


def test_a_batch_reads_its_products_in_one_statement():
    conn = store.connect(":memory:")
    store.create_schema(conn)
    catalog.save_products(conn, TOPICS, [ProductRecord(sku="MUG", name="Mug", owner="acme")])
    events = [Receipt(sku=sku, qty=3, location="A-1") for sku in ("MUG", "TEA", "MUG")]
    events += [Adjustment(sku=sku, qty=-1, location="A-1", reason="lost") for sku in ("MUG", "TEA")]
    counts = run(conn, "st-1", events)
    assert counts["SELECT sku, owner, unit_cost"] == 1  # MUG and TEA, named by the events
    assert counts["SELECT owner, unit_cost FROM"] + counts["SELECT 1 FROM products"] == 0
    assert store.stock_at(conn, "MUG", "A-1", None) == [("", "acme", 5, None)]  # its owner's


def test_a_batch_reads_its_skus_flags_at_once_and_writes_only_the_changed():
    conn = store.connect(":memory:")
    store.create_schema(conn)
    receipts = [Receipt(sku=f"SKU-{n}", qty=1, location="A-1") for n in range(5)]
    first = run(conn, "st-1", receipts)
    assert first["SELECT sku, low, pick_location"] == 1
    assert first["INSERT INTO sku_activity (sku,"] == 5  # new rows: one statement each
    again = run(conn, "st-2", receipts)  # more of the same, where they were: no change
    assert again["SELECT sku, low, pick_location"] == 1
    assert again["INSERT INTO sku_activity (sku,"] == 0
    assert store.activity_flags(conn, ["SKU-0", "SKU-9"]) == {"SKU-0": (False, "A-1")}


def test_new_skus_receipts_read_their_costs_alerts_and_waiting_orders_once_a_batch():
    """A receipt with no cost of an SKU new to the hub read its last layer's cost, raised
    its unknown-SKU alert and (as the first stock of it) cleared its low-stock alert and
    looked for the orders waiting for it: each a statement per SKU, each a wait on
    PostgreSQL. Now one statement each for the batch, and the writes wait for nothing."""
    conn = store.connect(":memory:")
    store.create_schema(conn)
    with store.transaction(conn):
        catalog.save_products(conn, TOPICS, [ProductRecord(sku="MUG", name="Mug")])
        store.alert_add(conn, "low_stock", "warning", "MUG: 0 available", NOW,
                        sku="MUG", dedupe="low_stock:MUG")  # fmt: skip
    receipts = [Receipt(sku=sku, qty=2, location="A-1") for sku in ("MUG", "TEA", "CUP", "TEA")]
    counts = run(conn, "st-1", receipts)
    assert counts["WITH wanted(sku) AS (SELECT"] == 1  # last layer costs of the three
    assert counts["SELECT unit_cost FROM cost_layers"] == 0
    assert counts["SELECT dedupe FROM alerts"] == 1
    assert counts["INSERT INTO alerts (id,"] == 2  # TEA and CUP unknown, each once
    assert counts["UPDATE alerts SET cleared"] == 1  # MUG's, open: not TEA's or CUP's
    assert counts["SELECT DISTINCT l.sku, l.order_id"] == 1
    assert sorted(a["dedupe"] for a in store.alerts_open(conn)) == [
        "unknown_sku:CUP", "unknown_sku:TEA"]  # fmt: skip
    again = run(conn, "st-2", [Receipt(sku="TEA", qty=1, location="B-1")])
    assert again["INSERT INTO alerts (id,"] == 0  # still open: known from the read
    assert again["SELECT DISTINCT l.sku, l.order_id"] == 0  # its pick location stayed


def test_a_batch_of_scans_reads_nothing_of_the_stock_of_their_skus():
    """A scan moves no stock: a batch of scans alone (a pack bench between receipts, row 3's
    usual batch of one or two events) reads no product, balance, layer or alert of its SKU."""
    conn = store.connect(":memory:")
    store.create_schema(conn)
    scans = [Scan(code="C", verdict="ok", mode="pack", sku="MUG") for _ in range(2)]
    counts = run(conn, "st-1", scans)
    assert counts["SELECT sku, owner, unit_cost"] == 0
    assert counts["SELECT sku, location, lot,"] == 0
    assert counts["SELECT DISTINCT sku, location,"] == 0
    assert counts["WITH wanted(sku) AS (SELECT"] == 0
    assert counts["SELECT dedupe FROM alerts"] == 0


def test_a_receipt_reads_its_lines_deficits_only_where_the_line_owes_units():
    """store.written: the deficits of a batch's SKUs are read once, and a line the batch
    itself sends below its layers is noted, so its receipt still settles it."""
    conn = store.connect(":memory:")
    store.create_schema(conn)
    Ingest(conn, TOPICS).process(batch("st-1", [
        Adjustment(sku="MUG", qty=-2, location="A-1", reason="lost")]))  # fmt: skip
    ran: list[str] = []
    conn.set_trace_callback(ran.append)
    Ingest(conn, TOPICS).process(batch("st-2", [
        Receipt(sku="TEA", qty=3, location="A-1"),
        Adjustment(sku="CUP", qty=-1, location="A-1", reason="lost"),
        Receipt(sku="CUP", qty=2, location="A-1"),
        Receipt(sku="MUG", qty=5, location="A-1"),
    ]))  # fmt: skip
    conn.set_trace_callback(None)
    assert sum("SELECT DISTINCT sku, location, lot FROM cost_layers" in sql for sql in ran) == 1
    # CUP's (owed since this batch) and MUG's (since the one before): not TEA's.
    assert sum("qty_left < 0 ORDER BY" in sql for sql in ran) == 2
    assert conn.execute("SELECT count(*) FROM cost_layers WHERE qty_left < 0").fetchone()[0] == 0
    left = dict(conn.execute("SELECT sku, sum(qty_left) FROM cost_layers GROUP BY sku"))
    assert left == {"CUP": 1, "MUG": 3, "TEA": 3}


def test_a_batch_reads_its_stations_state_once_for_all_of_them():
    """Ingest.read_ahead: each station's epoch, its journal's cursor and whether it holds
    events are read in one statement each for the batch's stations, however many."""
    conn = store.connect(":memory:")
    store.create_schema(conn)
    messages = [message for n in range(5) for message in
                batch(f"st-{n}", [Receipt(sku="MUG", qty=1, location="A-1")] * 2)]  # fmt: skip
    messages.append(batch("st-0", [Receipt(sku="MUG", qty=1, location="A-1")] * 4)[3])  # seq 4
    ran: list[str] = []
    conn.set_trace_callback(ran.append)
    result = Ingest(conn, TOPICS).process(messages)
    conn.set_trace_callback(None)
    assert (result.applied, result.held) == (10, 1)
    counts = Counter(" ".join(sql.split()[:4]) for sql in ran)
    assert counts["SELECT station, epoch FROM"] == 1
    assert counts["SELECT station, epoch, applied"] == 1
    assert counts["SELECT DISTINCT station, epoch"] == 1
    assert counts["SELECT applied FROM cursors"] + counts["SELECT 1 FROM pending"] == 0
    assert counts["INSERT INTO stations (station,"] == 5  # each noted heard from
    assert store.cursors(conn) == [(f"st-{n}", "e1", 2) for n in range(5)]
    assert [gap.station for gap in store.gaps(conn)] == ["st-0"]
