"""Stock, valuation, dead-stock and surplus reports on small ledgers worked out by hand."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from hub import fifo, reports, settings, store
from protocol.events import Receipt, Shipment, ShipmentLine
from tests.domain_helpers import Feed, open_ledger, products

pytestmark = pytest.mark.hub


def today() -> date:
    """Read at each use, not at import: a run that crosses midnight must not ask for the
    day before the one its movements were booked on."""
    return date.today()


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "1"},
             {"sku": "TEA", "name": "Tea"}, {"sku": "VASE", "name": "Vase", "owner": "art"})
    yield conn
    conn.close()


def run(conn, name: str, **query) -> reports.Report:
    return reports.REPORTS[name](conn, reports.Query(today=today(), **query))


def test_stock_shows_each_line_with_its_fifo_value(conn):
    # MUG: 4 @ 2.00 then 6 @ 3.50 at A-1; 5 shipped take the 4 @ 2.00 and 1 @ 3.50.
    Feed(conn)(
        Receipt(sku="MUG", qty=4, location="A-1", unit_cost=Decimal("2")),
        Receipt(sku="MUG", qty=6, location="A-1", unit_cost=Decimal("3.5")),
        Receipt(sku="MUG", qty=2, location="B-1", lot="L7", expiry=date(2027, 1, 31),
                unit_cost=Decimal("1.25")),
        Receipt(sku="VASE", qty=3, location="A-1", unit_cost=Decimal("40")),
        Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=5, location="A-1")]),
    )  # fmt: skip
    rows = run(conn, "stock").rows
    assert rows == [
        {"sku": "MUG", "location": "A-1", "lot": "", "owner": "", "qty": 5, "expiry": None,
         "value": "17.50"},
        {"sku": "MUG", "location": "B-1", "lot": "L7", "owner": "", "qty": 2,
         "expiry": "2027-01-31", "value": "2.50"},
        {"sku": "VASE", "location": "A-1", "lot": "", "owner": "art", "qty": 3, "expiry": None,
         "value": None},
    ]  # fmt: skip
    assert [r["sku"] for r in run(conn, "stock", owner="art").rows] == ["VASE"]
    assert run(conn, "stock", limit=2).next == {"offset": 2}


def test_fifo_layers_of_a_product_show_what_its_stock_is_valued_at(conn):
    # 4 @ 2.00 and 6 @ 3.50, 5 shipped -> 5 left @ 3.50; C-1: 2 shipped before any
    # receipt -> a deficit of 2 at the product's cost (1.00).
    Feed(conn)(
        Receipt(sku="MUG", qty=4, location="A-1", unit_cost=Decimal("2")),
        Receipt(sku="MUG", qty=6, location="A-1", unit_cost=Decimal("3.5")),
        Receipt(sku="MUG", qty=2, location="B-1", lot="L7", expiry=date(2027, 1, 31),
                unit_cost=Decimal("1.25")),
        Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=5, location="A-1"),
                                      ShipmentLine(sku="MUG", qty=2, location="C-1")]),
    )  # fmt: skip
    layers = [{k: v for k, v in layer.items() if k != "received"}
              for layer in fifo.layers(conn, "MUG")]  # fmt: skip
    assert layers == [
        {"location": "A-1", "lot": "", "expiry": None, "qty": 5, "unit_cost": "3.50",
         "value": "17.50", "deficit": False},
        {"location": "B-1", "lot": "L7", "expiry": "2027-01-31", "qty": 2, "unit_cost": "1.25",
         "value": "2.50", "deficit": False},
        {"location": "C-1", "lot": "", "expiry": None, "qty": -2, "unit_cost": "1.00",
         "value": "-2.00", "deficit": True},
    ]  # fmt: skip
    assert fifo.layers(conn, "TEA") == []


def test_valuation_totals_our_stock_and_leaves_consignment_out(conn):
    Feed(conn)(
        Receipt(sku="MUG", qty=4, location="A-1", unit_cost=Decimal("2")),
        Receipt(sku="MUG", qty=6, location="B-1", unit_cost=Decimal("3.5")),
        Receipt(sku="VASE", qty=3, location="A-1", unit_cost=Decimal("40")),
    )  # fmt: skip
    report = run(conn, "valuation")
    assert report.rows == [
        {"sku": "MUG", "own_qty": 10, "consigned_qty": 0, "value": "29.00", "unit_cost": "2.90"},
        {"sku": "VASE", "own_qty": 0, "consigned_qty": 3, "value": "0.00", "unit_cost": None},
    ]
    assert report.summary == {"total_value": "29.00"}


def test_dead_stock_lists_products_in_stock_without_recent_outbound(conn):
    with store.transaction(conn):
        settings.save(conn, settings.Settings(dead_stock_days=30))
    Feed(conn)(
        Receipt(sku="MUG", qty=5, location="A-1"), Receipt(sku="TEA", qty=5, location="A-1"),
        Shipment(order="SO-1", lines=[ShipmentLine(sku="TEA", qty=1, location="A-1")]),
    )  # fmt: skip
    assert run(conn, "dead-stock").rows == [{"sku": "MUG", "on_hand": 5, "last_outbound": None}]
    later = reports.Query(today=today() + timedelta(days=31))
    assert [r["sku"] for r in reports.dead_stock(conn, later).rows] == ["MUG", "TEA"]


def test_surplus_lists_stock_beyond_the_days_of_supply(conn):
    with store.transaction(conn):
        settings.save(conn, settings.Settings(demand_window_days=10, surplus_days=20))
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=110, location="A-1"), Receipt(sku="TEA", qty=15, location="A-1"))
    feed(Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=10, location="A-1"),
                                       ShipmentLine(sku="TEA", qty=10, location="A-1")]))
    # MUG: 100 on hand at 10 units / 10 days = 1 a day: 100 days of supply, 80 beyond 20.
    # TEA: 5 on hand at 1 a day: 5 days, no surplus.
    assert run(conn, "surplus").rows == [
        {"sku": "MUG", "on_hand": 100, "daily_demand": 1.0, "days_of_supply": 100.0,
         "surplus_qty": 80}
    ]  # fmt: skip
