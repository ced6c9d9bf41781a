"""Consignment stock stays out of our valuation; each sale records what the owner is owed.
Outbound units without a lot leave first-expired-first-out."""

from decimal import Decimal

import pytest

from hub import store
from protocol.events import Receipt, Shipment, ShipmentLine
from tests.domain_helpers import Feed, micros, open_ledger, products

pytestmark = pytest.mark.hub


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "3"},
             {"sku": "VASE", "name": "Vase", "owner": "artisan", "unit_cost": "20"})
    yield conn
    conn.close()


def test_a_consigned_sale_is_owed_to_its_owner_and_never_valued(conn):
    Feed(conn)(
        Receipt(sku="VASE", qty=4, location="A-1", unit_cost=Decimal("12.50")),
        Shipment(order="SO-1", lines=[ShipmentLine(sku="VASE", qty=3, location="A-1")]),
    )
    assert store.balance_get(conn, "VASE", "A-1", owner="artisan") == 1
    assert conn.execute("SELECT count(*) FROM cost_layers").fetchone() == (0,)
    assert store.value_total(conn) == 0
    assert store.consignment_totals(conn, "2000-01-01", "9999-12-31") == [
        ("artisan", 3, 3 * micros("12.50"))]


def test_own_stock_ships_before_consigned_stock_of_the_same_lot(conn):
    Feed(conn)(
        Receipt(sku="MUG", qty=2, location="A-1", owner="artisan"),
        Receipt(sku="MUG", qty=2, location="A-1"),
        Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=3, location="A-1")]),
    )
    assert store.balance_get(conn, "MUG", "A-1") == 0
    assert store.balance_get(conn, "MUG", "A-1", owner="artisan") == 1
    assert store.consignment_totals(conn, "2000-01-01", "9999-12-31") == [
        ("artisan", 1, micros("3"))]


def test_units_without_a_lot_leave_the_soonest_expiring_lot_first(conn):
    Feed(conn)(
        Receipt(sku="MUG", qty=5, location="A-1", lot="LATE", expiry="2027-06-01"),
        Receipt(sku="MUG", qty=5, location="A-1", lot="SOON", expiry="2026-09-01"),
        Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=7, location="A-1")]),
    )
    assert store.balance_get(conn, "MUG", "A-1", "SOON") == 0
    assert store.balance_get(conn, "MUG", "A-1", "LATE") == 3
    assert store.fefo_lines(conn, "MUG") == [("A-1", "LATE", "", 3, "2027-06-01")]
