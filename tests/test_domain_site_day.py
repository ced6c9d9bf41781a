"""The daily aggregates count the site's day (the ingest's zone, the `[web] timezone`):
the KPIs of one site day are never split between two UTC days. Kiritimati is UTC+14:
11:00 UTC on 1 June is 01:00 on 2 June there."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hub import orders, purchasing, store
from protocol.events import Receipt, Scan, Shipment, ShipmentLine
from protocol.messages import Order, OrderLine
from tests.domain_helpers import TOPICS, Feed, open_ledger, products
from tests.webapp import hub_clock_at

pytestmark = pytest.mark.hub

KIRITIMATI = ZoneInfo("Pacific/Kiritimati")


@pytest.fixture
def conn(tmp_path, monkeypatch):
    hub_clock_at(monkeypatch, datetime(2030, 6, 1, 11, 0, tzinfo=UTC))
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "9"})
    yield conn
    conn.close()


def test_an_orders_and_a_pos_kpis_and_the_scans_count_on_the_sites_day(conn):
    po_in = purchasing.PurchaseOrderIn(po="PO-1", lines=[purchasing.PoLineIn(sku="MUG", qty=5)])
    with store.transaction(conn):
        purchasing.create(conn, TOPICS, po_in, "2030-05-20T08:00:00+00:00")
    orders.upsert_order(conn, TOPICS, Order(order="SO-1", lines=[OrderLine(sku="MUG", qty=2)]))
    Feed(conn, zone=KIRITIMATI)(
        Receipt(sku="MUG", qty=5, location="A-1", po="PO-1"),
        Scan(code="MUG", verdict="ok", mode="pack"),
        Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=2, location="A-1")]),
    )
    days = store.daily_totals(conn, "2030-05-31", "2030-06-03")
    assert [(d["day"], d["orders_closed"], d["units_shipped"], d["po_lines_exact"])
            for d in days] == [("2030-06-02", 1, 2, 1)]  # fmt: skip
    assert store.scan_totals(conn, "2030-06-02", "2030-06-02", "station") == [("st-1", 1, 0)]
