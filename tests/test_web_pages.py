"""What the pages show, on a ledger fed through the real ingest."""

import msgspec
import pytest

from hub import catalog, orders
from hub.ingest import Incoming
from protocol.events import Receipt, Scan, Shipment, ShipmentLine
from protocol.messages import GtinUnits, Order, OrderLine, Product, StationStatus
from tests.webapp import TOKEN, TOPICS

pytestmark = pytest.mark.hub

BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def stocked(ledger):
    catalog.upsert_products(ledger.conn, TOPICS, [
        Product(sku="MUG-1", name="Mug, white", gtins=[GtinUnits(gtin="4006381333931")]),
        Product(sku="TEA-1", name="Earl Grey tea"),
    ])  # fmt: skip
    ledger.apply(
        Receipt(sku="MUG-1", qty=10, location="A-03-2"),
        Receipt(sku="TEA-1", qty=4, location="B-01"),
        Shipment(order="SO-1", lines=[ShipmentLine(sku="TEA-1", qty=6, location="B-01")]),
        Receipt(sku="MUG-1", qty=5, location="A-03-2", lot="L7"),
    )
    return ledger


@pytest.fixture
def viewer(as_role):
    return as_role("viewer")


@pytest.mark.parametrize(("query", "expected"), [
    ("MUG", ["MUG-1"]), ("earl grey", ["TEA-1"]), ("4006381333931", ["MUG-1"]),
    ("nothing-like-it", []),
])  # fmt: skip
def test_stock_search_finds_by_sku_name_or_gtin(app, stocked, query, expected):
    found = app.test_client().get(f"/api/stock/search?q={query}", headers=BEARER).json
    assert [row["sku"] for row in found["stock"]] == expected


def test_the_negative_filter_keeps_only_skus_below_zero(app, stocked):
    found = app.test_client().get("/api/stock/search?negative=1", headers=BEARER).json
    assert found["stock"] == [{"sku": "TEA-1", "name": "Earl Grey tea", "on_hand": -2,
                              "quarantined": 0}]  # fmt: skip


def test_searching_a_location_shows_what_is_in_it(viewer, stocked):
    page = viewer.get("/stock?q=A-03-2").text
    assert "In location A-03-2" in page and "L7" in page


def test_the_product_page_shows_lines_history_and_the_chart_series(app, stocked, viewer):
    found = app.test_client().get("/api/products/MUG-1/history", headers=BEARER).json
    assert found["on_hand"] == 15
    assert [p["on_hand"] for p in found["series"]] == [10, 15]
    assert {(line["lot"], line["qty"]) for line in found["lines"]} == {("", 10), ("L7", 5)}
    page = viewer.get("/products/MUG-1").text
    assert 'id="onhand-chart"' in page and "Mug, white" in page


def test_an_order_page_shows_its_scan_log_with_operator_and_verdict(app, ledger, viewer):
    # The domain accepts orders only for products it knows.
    catalog.upsert_products(ledger.conn, TOPICS, [Product(sku="MUG-1", name="Mug, white")])
    orders.upsert_order(ledger.conn, TOPICS, Order(order="SO-9", lines=[
        OrderLine(sku="MUG-1", qty=2)]))  # fmt: skip
    ledger.apply(
        # A pack station journals the operator's badge first, before any order is open.
        Scan(code="OP:kim", verdict="ok", mode="pack", operator="kim"),
        Scan(code="4006381333931", verdict="ok", mode="pack", order="SO-9", sku="MUG-1",
             operator="kim"),
        Scan(code="5012345678900", verdict="not_in_order", mode="pack", order="SO-9",
             operator="kim"),
    )  # fmt: skip
    log = app.test_client().get("/api/orders/SO-9/scan-log", headers=BEARER).json["log"]
    assert [(e["operator"], e["verdict"]) for e in log] == [("kim", "ok"), ("kim", "not_in_order")]
    page = viewer.get("/orders/SO-9").text
    assert "not_in_order" in page
    csv = viewer.get("/orders/SO-9/scan-log.csv")
    assert csv.mimetype == "text/csv" and "not_in_order" in csv.text


def test_the_overview_shows_stations_movements_alerts_and_kpis(app, stocked, viewer):
    status = StationStatus(state="online", mode="pack", operator="kim", devices={"scale": "ok"})
    stocked.status("pack-1", msgspec.json.encode(status))
    data = app.test_client().get("/api/overview", headers=BEARER).json
    assert data["stations"][0]["operator"] == "kim"
    assert len(data["movements"]) == 4
    assert any(a["kind"] == "negative_stock" for a in data["alerts"])
    page = viewer.get("/").text
    assert "scale: ok" in page and "below zero" in page


def test_the_alerts_page_lists_dead_letters_with_their_reason(app, ledger, viewer):
    ledger.ingest.process([Incoming(TOPICS.events("pack-1"), b"not json")])
    page = viewer.get("/alerts").text
    assert "not json" in page and "station/pack-1/events" in page


def test_the_stock_csv_downloads_the_search(viewer, stocked):
    response = viewer.get("/stock.csv?q=MUG")
    assert response.headers["Content-Disposition"] == 'attachment; filename="stock.csv"'
    assert response.text.splitlines() == ["sku,name,on_hand,quarantined",
                                          'MUG-1,"Mug, white",15,0']  # fmt: skip


def test_live_changes_answer_at_once_when_the_ledger_has_moved(app, viewer):
    app.config["CHANGES"].bump()
    assert viewer.get("/changes?since=0").json == {"version": 1}
