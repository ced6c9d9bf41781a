"""Purchase orders: receipts fill lines and price FIFO layers; closing short; lead times."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from hub import purchasing, store
from hub.catalog import Supplier, save_suppliers
from protocol.events import Receipt
from tests.domain_helpers import TOPICS, Feed, micros, open_ledger, products

pytestmark = pytest.mark.hub


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    with store.transaction(conn):
        save_suppliers(conn, [Supplier(supplier="acme", name="Acme", lead_time_days=7)])
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "9"},
             {"sku": "TEA", "name": "Tea"})  # fmt: skip
    yield conn
    conn.close()


def create(conn, lines, days_ago: int = 0, po: str = "PO-1") -> str:
    ordered = datetime.now(UTC) - timedelta(days=days_ago)
    po_in = purchasing.PurchaseOrderIn(po=po, supplier="acme", lines=[
        purchasing.PoLineIn(sku=s, qty=q, unit_cost=c) for s, q, c in lines])  # fmt: skip
    with store.transaction(conn):
        return purchasing.create(conn, TOPICS, po_in, ordered.isoformat())


def published(conn, po: str) -> bytes:
    return bytes(conn.execute("SELECT payload FROM outbox WHERE topic = ? ORDER BY id DESC",
                              (TOPICS.purchase_order(po),)).fetchone()[0])  # fmt: skip


def test_receipts_fill_the_lines_and_take_the_po_cost_into_fifo(conn):
    create(conn, [("MUG", 10, Decimal("4.25")), ("TEA", 5, None)])
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=6, location="DOCK", po="PO-1"))
    assert store.po_get(conn, "PO-1").status == "receiving"
    assert msgspec.json.decode(published(conn, "PO-1"))["lines"][0]["received"] == 6
    feed(Receipt(sku="MUG", qty=4, location="DOCK", po="PO-1"),
         Receipt(sku="TEA", qty=5, location="DOCK", po="PO-1"))  # fmt: skip
    assert store.po_get(conn, "PO-1").status == "received"
    assert published(conn, "PO-1") == b""  # docks drop it
    assert store.layer_value(conn, "MUG", "DOCK", "") == (10, 10 * micros("4.25"))


def test_a_po_closed_short_counts_its_lead_time_and_receiving_accuracy(conn):
    create(conn, [("MUG", 10, None), ("TEA", 5, None)], days_ago=10)
    Feed(conn)(Receipt(sku="MUG", qty=10, location="DOCK", po="PO-1"),
               Receipt(sku="TEA", qty=3, location="DOCK", po="PO-1"))  # fmt: skip
    with store.transaction(conn):
        now = datetime.now(UTC)
        assert purchasing.close(conn, TOPICS, "PO-1", now.isoformat(), "short",
                                now.date().isoformat())  # fmt: skip
    assert store.po_get(conn, "PO-1").status == "closed"
    lead = purchasing.lead_time(conn, "acme")
    assert (lead["promised_days"], lead["actual_days"], lead["late"]) == (7, 10, 1)
    today = date.today().isoformat()
    totals = store.daily_totals(conn, today, today)[0]
    assert (totals["po_lines"], totals["po_lines_exact"]) == (2, 1)


def test_a_receipt_not_on_the_po_is_kept_as_stock_and_alerted(conn):
    create(conn, [("MUG", 10, None)])
    Feed(conn)(Receipt(sku="TEA", qty=2, location="DOCK", po="PO-1"),
               Receipt(sku="TEA", qty=1, location="DOCK", po="PO-404"))  # fmt: skip
    assert store.on_hand(conn, "TEA") == 3
    kinds = {a["kind"] for a in store.alerts_open(conn)}
    assert {"not_on_po", "unknown_po"} <= kinds


def test_a_po_with_receipts_cannot_be_replaced(conn):
    create(conn, [("MUG", 10, None)])
    Feed(conn)(Receipt(sku="MUG", qty=1, location="DOCK", po="PO-1"))
    with pytest.raises(purchasing.PurchaseConflict):
        create(conn, [("MUG", 5, None)])


def test_po_page_lists_purchase_orders_with_their_lines(conn):
    create(conn, [("MUG", 10, None)], days_ago=2, po="PO-1")
    create(conn, [("TEA", 3, None), ("MUG", 1, None)], po="PO-2")
    Feed(conn)(Receipt(sku="TEA", qty=3, location="DOCK", po="PO-2"))
    page = purchasing.po_page(conn, None, 10, 0)
    assert [(p["po"], p["status"], len(p["lines"])) for p in page] == [
        ("PO-2", "receiving", 2), ("PO-1", "open", 1)]  # fmt: skip
    assert [p["po"] for p in purchasing.po_page(conn, "open", 10, 0)] == ["PO-1"]
    assert [p["po"] for p in purchasing.po_page(conn, None, 1, 1)] == ["PO-1"]


def test_from_reorder_orders_what_is_due_and_refuses_unknown_skus(conn):
    products(conn, {"sku": "MUG", "name": "Mug", "reorder_point": 5, "par_level": 12,
                    "suppliers": [{"supplier": "acme"}]},
             {"sku": "TEA", "name": "Tea", "reorder_point": 2, "par_level": 6},
             {"sku": "PEN", "name": "Pen", "reorder_point": 1})  # fmt: skip
    Feed(conn)(Receipt(sku="MUG", qty=3, location="A-1"), Receipt(sku="PEN", qty=9,
                                                                  location="A-1"))  # fmt: skip
    today, now = date.today(), datetime.now(UTC).isoformat()
    with store.transaction(conn), pytest.raises(purchasing.PurchaseError, match="GHOST"):
        purchasing.from_reorder(conn, TOPICS, ["MUG", "GHOST"], today, now)
    with store.transaction(conn):  # PEN is not due: left out
        [po] = purchasing.from_reorder(conn, TOPICS, ["MUG", "PEN", "MUG"], today, now)
    assert purchasing.po_dict(conn, po)["supplier"] == "acme"
    assert [(x["sku"], x["qty"]) for x in purchasing.po_dict(conn, po)["lines"]] == [
        ("MUG", 9)]  # fmt: skip
    with store.transaction(conn):  # every product: only TEA is still due (MUG is on order)
        made = purchasing.from_reorder(conn, TOPICS, None, today, now)
    assert [[x["sku"] for x in purchasing.po_dict(conn, p)["lines"]] for p in made] == [["TEA"]]
