"""The accountant's export, movements as CSV, consignment settlement, sale prices and the
new KPIs through the real app over HTTP (Flask's client on a real SQLite ledger)."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from hub import catalog
from protocol.events import Receipt, Scan, Shipment, ShipmentLine
from tests.webapp import TOKEN, TOPICS

pytestmark = pytest.mark.hub

BEARER = {"Authorization": f"Bearer {TOKEN}"}


def today() -> str:
    """Read at each use, not at import: a run that crosses midnight must not query the day
    before the one its movements were booked on."""
    return date.today().isoformat()


@pytest.fixture
def api(app):
    return app.test_client()


@pytest.fixture
def sold(api, ledger):
    """MUG (ours, 3.00) and VASE (artisan's, 40 % of the sale price); SO-1 priced through
    the CSV import, shipped: 2 MUG at 10.00 and 1 VASE at 50.00."""
    records = [catalog.ProductRecord(sku="MUG", name="Mug", unit_cost=Decimal("3")),
               catalog.ProductRecord(sku="VASE", name="Vase", owner="artisan",
                                     consignment_pct=Decimal("40"))]  # fmt: skip
    catalog.upsert_products(ledger.conn, TOPICS, records)
    body = "order,sku,qty,unit_price\nSO-1,MUG,2,10.00\nSO-1,VASE,1,50\n"
    answer = api.post("/api/orders.csv", data=body, headers={**BEARER, "Content-Type": "text/csv"})
    assert answer.status_code == 201, answer.json
    ledger.apply(Receipt(sku="MUG", qty=5, location="A-1", unit_cost=Decimal("3")),
                 Receipt(sku="VASE", qty=2, location="A-1"))  # fmt: skip
    ledger.apply(Scan(code="M", verdict="ok", mode="pack", order="SO-1", operator="ann", sku="MUG"),
                 Scan(code="T", verdict="not_in_order", mode="pack", order="SO-1",
                      operator="ann", sku="TEA"),
                 Shipment(order="SO-1", operator="ann",
                          lines=[ShipmentLine(sku="MUG", qty=2, location="A-1"),
                                 ShipmentLine(sku="VASE", qty=1, location="A-1")]))  # fmt: skip
    return ledger


def _csv(answer) -> list[dict]:
    assert answer.status_code == 200 and answer.mimetype == "text/csv", answer.data[:300]
    return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))


def test_the_accounting_export_lists_postings_and_ties_the_values(api, sold):
    rows = _csv(api.get(f"/api/reports/accounting.csv?from={today()}&to={today()}", headers=BEARER))
    postings = [(r["type"], r["sku"], r["owner"], r["qty"], r["unit_cost"], r["value"])
                for r in rows if r["movement"]]  # fmt: skip
    assert postings == [("receipt", "MUG", "", "5", "3.00", "15.00"),
                        ("receipt", "VASE", "artisan", "2", "", "0.00"),
                        ("shipment", "MUG", "", "-2", "3.00", "-6.00"),
                        ("shipment", "VASE", "artisan", "-1", "", "0.00")]  # fmt: skip
    totals = {(r["type"], r["category"], r["owner"]): r["value"] for r in rows if not r["movement"]}
    assert totals[("opening_value", "", "")] == "0.00"
    assert totals[("total", "receipts", "")] == "15.00" and totals[("total", "cogs", "")] == "-6.00"
    assert totals[("closing_value", "", "")] == "9.00"
    assert totals[("consignment_owed", "consignment owed", "artisan")] == "20.00"
    summary = api.get(f"/api/reports/accounting?from={today()}&to={today()}", headers=BEARER).json
    assert summary["balanced"] is True and summary["closing_value"] == "9.00"


@pytest.mark.parametrize("query, status, reason", [
    ("from=2026-13-01", 400, "$.from"),  # not a day: the document says so
    ("from=2026-03-05&to=2026-03-01", 422, "is before `from`"),  # days, but no period
])  # fmt: skip
def test_the_export_refuses_a_bad_period_with_the_reason(api, query, status, reason):
    answer = api.get(f"/api/reports/accounting.csv?{query}", headers=BEARER)
    assert answer.status_code == status and reason in answer.json["error"]


def test_movements_as_csv_page_as_the_json_does(api, sold):
    listed = api.get("/api/movements?limit=2", headers=BEARER).json["movements"]
    rows = _csv(api.get("/api/movements.csv?limit=2", headers=BEARER))
    assert [int(r["id"]) for r in rows] == [m["id"] for m in listed]
    older = _csv(api.get(f"/api/movements.csv?limit=2&before={listed[-1]['id']}", headers=BEARER))
    json_older = api.get(f"/api/movements?limit=2&before={listed[-1]['id']}", headers=BEARER)
    assert [int(r["id"]) for r in older] == [m["id"] for m in json_older.json["movements"]]
    assert api.get("/api/movements.csv?limit=0", headers=BEARER).status_code == 400


def test_a_settlement_is_recorded_and_the_next_report_starts_after_it(api, sold):
    report = api.get("/api/consignment/settlement?owner=artisan", headers=BEARER).json
    assert report["owners"][0]["owed"] == "20.00" and report["owners"][0]["units_sold"] == 1
    for body, status, reason in [({"owner": "artisan"}, 400, "missing required field `until`"),
                                 ({"until": today()}, 400, "missing required field `owner`"),
                                 ({"owner": "artisan", "until": "2099-01-01"}, 422,
                                  "in the future")]:  # fmt: skip
        answer = api.post("/api/consignment/settlements", json=body, headers=BEARER)
        assert answer.status_code == status and reason in answer.json["error"], answer.json
    paid = api.post("/api/consignment/settlements", headers=BEARER,
                    json={"owner": "artisan", "until": today(), "note": "bank transfer"})  # fmt: skip
    assert paid.status_code == 201 and paid.json["owed"] == "20.00"
    after = api.get("/api/consignment/settlement?owner=artisan", headers=BEARER).json["owners"][0]
    assert after["owed"] == "0.00" and after["settled_until"] == today()
    listed = api.get("/api/consignment/settlements", headers=BEARER).json["settlements"]
    assert [(s["owner"], s["amount"], s["note"]) for s in listed] == [
        ("artisan", "20.00", "bank transfer")]


def test_the_kpis_show_margin_and_pick_accuracy(api, sold):
    rows = api.get(f"/api/reports/kpis?since={today()}&until={today()}", headers=BEARER).json["rows"]
    kpi = {(r["kpi"], r["scope"]): r["value"] for r in rows}
    # revenue 2 x 10 + 50 = 70; COGS 2 x 3 = 6 (the vase is not ours)
    assert kpi[("revenue", "")] == "70.00" and kpi[("gross_margin", "")] == "64.00"
    margins = api.get(f"/api/reports/margins?since={today()}&until={today()}", headers=BEARER).json
    assert [(r["sku"], r["margin_pct"]) for r in margins["rows"]] == [("MUG", 70.0), ("VASE", 100.0)]
    assert kpi[("pick_errors_per_1000", "operator:ann")] == 500.0
    assert kpi[("orders_packed", "operator:ann")] == 1


def test_product_terms_and_order_prices_round_trip_through_csv(api, ledger):
    body = ("sku,name,owner,consignment_unit_cost,consignment_pct\n"
            "VASE,Vase,artisan,12.5,40\nBAD,Bad,artisan,,140\n")  # fmt: skip
    answer = api.post("/api/products.csv", data=body, headers={**BEARER, "Content-Type": "text/csv"})
    assert answer.status_code == 422
    [row] = answer.json["rows"]
    assert row["line"] == 3 and "`consignment_pct` must be a percentage from 0 to 100" in row[
        "reason"] and row["reason"].endswith("got 140")  # fmt: skip
    good = body.split("BAD")[0]
    assert api.post("/api/products.csv", data=good,
                    headers={**BEARER, "Content-Type": "text/csv"}).status_code == 201  # fmt: skip
    exported = _csv(api.get("/api/products.csv", headers=BEARER))
    assert (exported[0]["consignment_unit_cost"], exported[0]["consignment_pct"]) == ("12.5", "40")
    bad_price = "order,sku,qty,unit_price\nSO-2,VASE,1,-3\n"
    answer = api.post("/api/orders.csv", data=bad_price,
                      headers={**BEARER, "Content-Type": "text/csv"})  # fmt: skip
    assert answer.status_code == 422 and "unit_price" in answer.json["rows"][0]["reason"]


def test_a_period_after_the_last_movement_has_only_its_values(api, sold):
    rows = _csv(api.get("/api/reports/accounting.csv?from=2099-01-01&to=2099-01-31",
                        headers=BEARER))  # fmt: skip
    assert not [r for r in rows if r["movement"]]
    values = {r["type"]: r["value"] for r in rows if r["type"] != "total"}
    assert values == {"opening_value": "9.00", "closing_value": "9.00", "dropship_total": ""}


def test_a_dropship_order_confirmed_over_http_shows_in_the_margin_and_the_export(api, sold):
    """SO-D: 2 MUG dropship at 12.50 from acme at 7.00 (the supplier's cost for MUG)."""
    catalog.save_suppliers(sold.conn, [catalog.Supplier(supplier="acme", name="Acme")])
    catalog.upsert_products(sold.conn, TOPICS, [catalog.ProductRecord(
        sku="MUG", name="Mug", unit_cost=Decimal("3"),
        suppliers=[catalog.ProductSupplier(supplier="acme", unit_cost=Decimal("7"))])])
    made = api.post("/api/orders", json={"order": "SO-D", "lines": [
        {"sku": "MUG", "qty": 2, "dropship": True, "unit_price": "12.50"}]}, headers=BEARER)
    assert made.status_code == 201, made.json
    (row,) = api.get("/api/orders/SO-D", headers=BEARER).json["rows"]
    assert api.post(f"/api/purchase-orders/{row['po']}/confirm",
                    headers=BEARER).status_code == 200  # fmt: skip

    margins = {r["sku"]: r for r in
               api.get("/api/reports/margins", headers=BEARER).json["rows"]}  # fmt: skip
    # The bench sale of the fixture (2 MUG at 10.00, cost 6.00; 1 VASE at 50.00) and this.
    assert (margins["MUG"]["revenue"], margins["MUG"]["dropship_cost"],
            margins["MUG"]["gross_margin"]) == ("45.00", "14.00", "25.00")  # fmt: skip
    rows = _csv(api.get(f"/api/reports/accounting.csv?from={today()}&to={today()}", headers=BEARER))
    (sale,) = [r for r in rows if r["type"] == "dropship_sale"]
    assert (sale["sku"], sale["qty"], sale["order"], sale["po"], sale["revenue"],
            sale["cost"], sale["value"]) == ("MUG", "-2", "SO-D", row["po"], "25.00",
                                             "14.00", "")  # fmt: skip
    (total,) = [r for r in rows if r["type"] == "dropship_total"]
    assert (total["revenue"], total["cost"]) == ("25.00", "14.00")
    summary = api.get(f"/api/reports/accounting?from={today()}&to={today()}", headers=BEARER).json
    assert summary["dropship"]["revenue"] == "25.00" and summary["balanced"] is True


def test_margins_per_sku_are_a_paged_report_of_their_own(api, sold, as_role):
    """The KPIs stay a summary (overall, per day, per ABC class); per sku the margins are the
    `margins` report, in sku order, a page at a time (`after`), as JSON, CSV and a page."""
    kpis = api.get(f"/api/reports/kpis?since={today()}&until={today()}", headers=BEARER).json
    assert not [r for r in kpis["rows"] if r["scope"].startswith("sku:")]
    first = api.get("/api/reports/margins?limit=1", headers=BEARER).json
    assert first["columns"] == ["sku", "class", "revenue", "cogs", "dropship_cost",
                                "gross_margin", "margin_pct"]  # fmt: skip
    assert first["rows"] == [{"sku": "MUG", "class": None, "revenue": "20.00", "cogs": "6.00",
                              "dropship_cost": "0.00", "gross_margin": "14.00",
                              "margin_pct": 70.0}]  # fmt: skip
    assert first["next"] == {"after": "MUG"}
    second = api.get("/api/reports/margins?limit=1&after=MUG", headers=BEARER).json
    assert [r["sku"] for r in second["rows"]] == ["VASE"] and second["next"] == {"after": "VASE"}
    last = api.get("/api/reports/margins?limit=1&after=VASE", headers=BEARER).json
    assert last["rows"] == [] and last["next"] is None
    rows = _csv(api.get("/api/reports/margins.csv", headers=BEARER))
    assert [(r["sku"], r["gross_margin"]) for r in rows] == [("MUG", "14.00"), ("VASE", "50.00")]
    earlier = api.get("/api/reports/margins?since=2000-01-01&until=2000-01-31", headers=BEARER)
    assert earlier.status_code == 200 and earlier.json["rows"] == []
    wrong = api.get("/api/reports/margins?since=2000-02-01&until=2000-01-31", headers=BEARER)
    assert wrong.status_code == 422 and "`since`" in wrong.json["error"]
    page = as_role("viewer").get("/reports/margins?limit=1")
    assert page.status_code == 200 and "14.00" in page.text and "after=MUG" in page.text
