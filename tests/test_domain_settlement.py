"""Consignment settlement: what each sale owes by the product's terms, and a settlement
that the next report starts after."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from hub import consignment, orders, store
from protocol.events import Receipt, Shipment, ShipmentLine
from protocol.messages import Order, OrderLine
from tests.domain_helpers import TOPICS, Feed, open_ledger, products

pytestmark = pytest.mark.hub


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn,
             {"sku": "VASE", "name": "Vase", "owner": "artisan", "consignment_pct": "40",
              "consignment_unit_cost": "15"},
             {"sku": "BOWL", "name": "Bowl", "owner": "artisan", "consignment_unit_cost": "7.50"},
             {"sku": "PLATE", "name": "Plate", "owner": "potter", "unit_cost": "4"})  # fmt: skip
    Feed(conn)(Receipt(sku="VASE", qty=5, location="A-1"),
               Receipt(sku="BOWL", qty=5, location="A-1"),
               Receipt(sku="PLATE", qty=5, location="A-1"))  # fmt: skip
    yield conn
    conn.close()


def _sell(conn, feed, order_id, *lines):
    """lines: (sku, qty, unit price or None)."""
    orders.upsert_order(conn, TOPICS, Order(order=order_id, lines=[
        OrderLine(sku=s, qty=q, unit_price=None if p is None else Decimal(p))
        for s, q, p in lines]))  # fmt: skip
    feed(Shipment(order=order_id, lines=[ShipmentLine(sku=s, qty=q, location="A-1")
                                         for s, q, _p in lines]))  # fmt: skip


def test_each_sale_owes_by_the_terms_and_a_settlement_closes_what_it_paid(conn):
    """VASE 40 % of 50.00 = 20.00 a unit when priced, else its consignment cost 15.00;
    BOWL its consignment cost 7.50; PLATE (no terms) its product cost 4.00."""
    feed = Feed(conn, station="pack-1")
    _sell(conn, feed, "SO-1", ("VASE", 2, "50"), ("BOWL", 1, "30"), ("PLATE", 1, None))
    _sell(conn, feed, "SO-2", ("VASE", 1, None))
    today = date.today()

    artisan = consignment.statement(conn, "artisan", today).as_dict()
    assert artisan["lines"] == [{"sku": "BOWL", "units_sold": 1, "owed": "7.50"},
                                {"sku": "VASE", "units_sold": 3, "owed": "55.00"}]  # fmt: skip
    assert artisan["units_sold"] == 4 and artisan["owed"] == "62.50"
    assert artisan["settled_until"] is None
    assert consignment.statement(conn, "potter", today).as_dict()["owed"] == "4.00"

    now = datetime.now(UTC)
    with store.transaction(conn):
        paid = consignment.settle(conn, "artisan", today, today, now.isoformat(), "ann", "")
    assert paid["owed"] == "62.50" and paid["units_sold"] == 4

    _sell(conn, feed, "SO-3", ("VASE", 1, "20"))
    after = consignment.statement(conn, "artisan", today).as_dict()
    assert after["lines"] == [{"sku": "VASE", "units_sold": 1, "owed": "8.00"}]
    assert after["settled_until"] == today.isoformat()
    with pytest.raises(consignment.SettlementError, match="in the future"):
        consignment.settle(conn, "artisan", date(2999, 1, 1), today, now.isoformat(), "ann", "")
    with store.transaction(conn):
        consignment.settle(conn, "artisan", today, today, now.isoformat(), "ann", "second")
    with pytest.raises(consignment.SettlementError, match="nothing is owed"):
        consignment.settle(conn, "artisan", today, today, now.isoformat(), "ann", "")
    assert [s["amount"] for s in consignment.settlement_list(conn, "artisan", 10)] == [
        "8.00", "62.50"]


def test_the_sale_price_never_reaches_the_stations(conn):
    """Stations of an older release refuse an order with a field they do not know."""
    orders.upsert_order(conn, TOPICS, Order(order="SO-9", lines=[
        OrderLine(sku="VASE", qty=1, unit_price=Decimal("50"))]))  # fmt: skip
    published = conn.execute("SELECT payload FROM outbox WHERE topic = ?",
                             (TOPICS.order("SO-9"),)).fetchone()[0]  # fmt: skip
    assert b"VASE" in published and b"unit_price" not in published
    assert orders.get_order(conn, "SO-9").lines[0].unit_price == Decimal("50")
