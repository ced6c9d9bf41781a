"""Sales orders: commitments, kits, the status flow driven by station events, dropship."""

import msgspec
import pytest

from hub import orders, store
from hub.catalog import Supplier, save_suppliers
from hub.ingest import Incoming
from protocol.envelope import encode_event
from protocol.events import Adjustment, Receipt, Scan, Shipment, ShipmentLine
from protocol.messages import Order, OrderLine, Stock
from tests.domain_helpers import TOPICS, TS, Feed, open_ledger, products

pytestmark = pytest.mark.hub


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    with store.transaction(conn):
        save_suppliers(conn, [Supplier(supplier="acme", name="Acme", lead_time_days=5)])
    products(
        conn,
        {"sku": "MUG", "name": "Mug", "suppliers": [{"supplier": "acme"}]},
        {"sku": "TEA", "name": "Tea"},
        {"sku": "GIFT", "name": "Gift box", "kit": [{"sku": "MUG", "qty": 2},
                                                    {"sku": "TEA", "qty": 1}]},
    )  # fmt: skip
    yield conn
    conn.close()


def order(order_id: str, *lines: tuple, customer: str | None = None) -> Order:
    return Order(order=order_id, customer=customer,
                 lines=[OrderLine(sku=s, qty=q, dropship=d) for s, q, d in lines])  # fmt: skip


def retained(conn, topic: str) -> bytes | None:
    row = conn.execute("SELECT payload FROM outbox WHERE topic = ? ORDER BY id DESC LIMIT 1",
                       (topic,)).fetchone()  # fmt: skip
    return bytes(row[0]) if row else None


def test_a_kit_commits_its_components_and_available_falls(conn):
    Feed(conn)(Receipt(sku="MUG", qty=10, location="A-1"))
    orders.upsert_order(conn, TOPICS, order("SO-1", ("GIFT", 3, False), ("MUG", 1, False)))
    assert store.committed(conn, "MUG") == 7 and store.committed(conn, "TEA") == 3
    assert store.committed(conn, "GIFT") == 0
    Feed(conn, station="st-2")(Receipt(sku="MUG", qty=1, location="A-1"))
    stock = msgspec.json.decode(retained(conn, TOPICS.stock("MUG")), type=Stock)
    assert (stock.on_hand, stock.committed, stock.available) == (11, 7, 4)


def test_scans_then_a_short_shipment_move_the_order_to_packing_then_short(conn):
    orders.upsert_order(conn, TOPICS, order("SO-1", ("MUG", 3, False), ("TEA", 2, False)))
    feed = Feed(conn)
    feed(Scan(code="SO-1", verdict="ok", mode="pack", order="SO-1"))
    assert store.order_get(conn, "SO-1")[0] == "packing"
    feed(Shipment(order="SO-1", lines=[
        ShipmentLine(sku="MUG", qty=3, location="A-1"),
        ShipmentLine(sku="TEA", qty=1, location="A-1", short=1, short_reason="broken"),
    ]))  # fmt: skip
    assert store.order_get(conn, "SO-1")[0] == "short"
    assert retained(conn, TOPICS.order("SO-1")) == b""  # stations drop it
    assert store.committed(conn, "MUG") == 0 and store.committed(conn, "TEA") == 0
    totals = store.daily_totals(conn, "2000-01-01", "9999-12-31")[0]
    assert (totals["units_ordered"], totals["units_shipped"], totals["orders_closed"]) == (5, 4, 1)


def test_a_scan_after_its_order_arrived_in_the_same_batch_starts_its_packing(conn):
    """A batch reads each scanned order once (orders.mark_packing); an order taken in the
    same batch, after a scan found it missing, is read again by the next scan."""
    feed = Feed(conn)
    scans = [Incoming(TOPICS.events("st-1"), encode_event(
        "st-1", "e1", seq, Scan(code="C", verdict="ok", mode="pack", order="SO-8"), TS))
        for seq in (1, 2)]  # fmt: skip
    intake = Incoming(TOPICS.order_intake, msgspec.json.encode(order("SO-8", ("TEA", 1, False))))
    result = feed.ingest.process([scans[0], intake, scans[1]])
    assert (result.applied, result.orders, result.dead) == (2, 1, 0)
    assert store.order_get(conn, "SO-8")[0] == "packing"


def test_dropship_lines_go_to_the_supplier_and_close_when_confirmed(conn):
    orders.upsert_order(conn, TOPICS, order("SO-2", ("MUG", 2, True), ("TEA", 1, False),
                                            customer="Ada"))  # fmt: skip
    station_view = msgspec.json.decode(retained(conn, TOPICS.order("SO-2")), type=Order)
    assert [line.sku for line in station_view.lines] == ["TEA"]
    [row] = [r for r in store.order_lines(conn, "SO-2") if r.role == "dropship"]
    published = msgspec.json.decode(retained(conn, TOPICS.dropship(row.po)))
    assert published["order"] == "SO-2" and published["customer"] == "Ada"
    assert published["supplier"] == "acme" and store.committed(conn, "MUG") == 0
    Feed(conn)(Shipment(order="SO-2", lines=[ShipmentLine(sku="TEA", qty=1, location="A-1")]))
    assert store.order_get(conn, "SO-2")[0] == "packed"  # the bench part is out
    with store.transaction(conn):
        orders.confirm_dropship(conn, TOPICS, row.po, "2026-03-02T12:00:00+00:00", "2026-03-02")
    assert store.order_get(conn, "SO-2")[0] == "shipped"
    assert retained(conn, TOPICS.dropship(row.po)) == b""


def test_a_cancelled_order_releases_its_commitment_and_leaves_the_stations(conn):
    orders.upsert_order(conn, TOPICS, order("SO-3", ("MUG", 4, False)))
    with store.transaction(conn):
        orders.cancel(conn, TOPICS, "SO-3", "2026-03-02T12:00:00+00:00")
    assert store.committed(conn, "MUG") == 0
    assert retained(conn, TOPICS.order("SO-3")) == b""
    with pytest.raises(orders.OrderConflict):
        orders.upsert_order(conn, TOPICS, order("SO-3", ("MUG", 1, False)))


def test_an_order_of_an_unknown_sku_is_refused_with_the_reason(conn):
    with pytest.raises(orders.OrderError, match="unknown sku NOPE"):
        orders.upsert_order(conn, TOPICS, order("SO-4", ("NOPE", 1, False)))
    assert store.order_get(conn, "SO-4") is None


def test_orders_arrive_on_the_intake_topic_and_bad_ones_are_dead_lettered(conn):
    feed = Feed(conn)
    good = msgspec.json.encode(order("SO-5", ("TEA", 2, False)))
    bad_shape = b'{"order": "SO-6", "lines": [{"sku": "TEA", "qty": 0}]}'
    unknown = msgspec.json.encode(order("SO-7", ("NOPE", 1, False)))
    result = feed.ingest.process([Incoming(TOPICS.order_intake, p)
                                  for p in (good, bad_shape, unknown)])  # fmt: skip
    assert (result.orders, result.dead) == (1, 2)
    assert store.order_get(conn, "SO-5")[0] == "open" and store.committed(conn, "TEA") == 2
    reasons = [d["reason"] for d in store.dead_letters(conn)]
    assert any("unknown sku NOPE" in r for r in reasons) and any("qty" in r for r in reasons)
    assert store.order_get(conn, "SO-7") is None


def published(conn, order_id: str) -> Order:
    return msgspec.json.decode(retained(conn, TOPICS.order(order_id)), type=Order)


def test_each_published_line_names_where_its_first_expiring_stock_lies(conn):
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=5, location="B-9", lot="L-LATE", expiry="2031-01-01"))
    feed(Receipt(sku="MUG", qty=5, location="C-2", lot="L-SOON", expiry="2030-01-01"))
    feed(Receipt(sku="TEA", qty=4, location="A-7"))
    feed(Receipt(sku="TEA", qty=4, location="A-1"))
    feed(Shipment(order="X", lines=[ShipmentLine(sku="TEA", qty=4, location="A-1")]))
    orders.upsert_order(conn, TOPICS, order("SO-1", ("MUG", 2, False), ("TEA", 1, False),
                                            ("GIFT", 1, False)))  # fmt: skip
    lines = {line.sku: line.location for line in published(conn, "SO-1").lines}
    # MUG: the soonest expiry wins over the name; TEA: A-1 is empty now; GIFT: no stock.
    assert lines == {"MUG": "C-2", "TEA": "A-7", "GIFT": None}
    stored = orders.get_order(conn, "SO-1")
    assert all(line.location is None for line in stored.lines)  # decided at publish time


def test_a_line_for_a_lot_is_picked_where_that_lot_is_and_a_given_location_is_kept(conn):
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=5, location="C-2", lot="L1", expiry="2030-01-01"))
    feed(Receipt(sku="MUG", qty=5, location="D-4", lot="L2", expiry="2031-01-01"))
    lines = [OrderLine(sku="MUG", qty=1, lot="L2"), OrderLine(sku="TEA", qty=1, location="Z-1")]
    orders.upsert_order(conn, TOPICS, Order(order="SO-2", lines=lines))
    assert [line.location for line in published(conn, "SO-2").lines] == ["D-4", "Z-1"]


def test_an_open_order_is_sent_where_the_stock_is_once_it_arrives(conn):
    orders.upsert_order(conn, TOPICS, order("SO-9", ("MUG", 2, False)))
    assert msgspec.json.decode(retained(conn, TOPICS.order("SO-9")))["lines"][0].get(
        "location") is None  # no stock anywhere yet: the bench's own location
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=5, location="A-1"))
    assert msgspec.json.decode(retained(conn, TOPICS.order("SO-9")))["lines"][0]["location"] == "A-1"
    last = "SELECT max(id) FROM outbox WHERE topic = ?"
    published = conn.execute(last, (TOPICS.order("SO-9"),)).fetchone()[0]
    feed(Receipt(sku="MUG", qty=5, location="B-1"))  # A-1 still holds the oldest: no news
    assert conn.execute(last, (TOPICS.order("SO-9"),)).fetchone()[0] == published
    feed(Adjustment(sku="MUG", qty=-5, location="A-1", reason="damaged"))  # A-1 is empty
    assert msgspec.json.decode(retained(conn, TOPICS.order("SO-9")))["lines"][0]["location"] == "B-1"


def test_a_kit_line_names_where_each_of_its_parts_is(conn):
    Feed(conn)(Receipt(sku="MUG", qty=5, location="A-1"), Receipt(sku="TEA", qty=5, location="T-4"))
    orders.upsert_order(conn, TOPICS, order("SO-10", ("GIFT", 1, False)))
    [line] = msgspec.json.decode(retained(conn, TOPICS.order("SO-10")))["lines"]
    assert line["part_locations"] == {"MUG": "A-1", "TEA": "T-4"}
