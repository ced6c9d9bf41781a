"""KPIs over a period, on one day's ledger worked out by hand."""

from datetime import date
from decimal import Decimal

import pytest

from hub import orders, reports
from protocol.events import Count, Receipt, Scan, Shipment, ShipmentLine
from protocol.messages import Order, OrderLine
from tests.domain_helpers import TOPICS, Feed, open_ledger, products

pytestmark = pytest.mark.hub


def test_kpis_of_a_day_worked_out_by_hand(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "2"})
    orders.upsert_order(conn, TOPICS, Order(order="SO-1", lines=[OrderLine(sku="MUG", qty=5)]))
    feed = Feed(conn)
    feed(
        Receipt(sku="MUG", qty=10, location="A-1", unit_cost=Decimal("2")),
        Scan(code="SO-1", verdict="ok", mode="pack", order="SO-1", operator="ann"),
        Scan(code="T", verdict="not_in_order", mode="pack", order="SO-1", operator="ann",
             sku="TEA"),
        Scan(code="CMD:UNDO", verdict="nothing_to_undo", mode="pack", order="SO-1",
             operator="ann"),
        Scan(code="M", verdict="ok", mode="pack", order="SO-1", operator="bob", sku="MUG"),
        Scan(code="M", verdict="ok", mode="pack", order="SO-1", operator="bob", sku="MUG"),
        Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=4, location="A-1", short=1)]),
        Count(sku="MUG", location="A-1", counted=6),
    )  # fmt: skip
    today = date.today()
    report = reports.kpis(conn, reports.Query(today=today, since=today, until=today))
    kpi = {(r["kpi"], r["scope"]): r["value"] for r in report.rows}
    # COGS 4 x 2.00 = 8.00; value at the close of the day 6 x 2.00 = 12.00 (the average of
    # a one-day period); turnover 8 / 12; days on hand 12 x 1 day / 8.
    assert kpi[("cogs", "")] == "8.00" and kpi[("average_inventory_value", "")] == "12.00"
    assert kpi[("inventory_turnover", "")] == 0.6667 and kpi[("days_on_hand", "")] == 1.5
    assert kpi[("fill_rate", "")] == 0.8 and kpi[("orders_closed", "")] == 1
    assert kpi[("count_accuracy", "")] == 1.0 and kpi[("receiving_accuracy", "")] is None
    # Five scans; the order barcode and the undo prompt are no picks: 3 picks, 1 wrong.
    assert kpi[("scans", "")] == 5 and kpi[("pick_scans", "")] == 3
    assert kpi[("pick_errors", "")] == 1 and kpi[("pick_errors_per_1000", "")] == 333.33
    assert kpi[("pick_errors_per_1000", "operator:ann")] == 1000.0
    assert kpi[("pick_errors_per_1000", "operator:bob")] == 0.0
    assert kpi[("order_cycle_hours", "")] >= 0
    conn.close()
