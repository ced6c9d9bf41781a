"""Every number and identifier the hub takes through its JSON API, its CSV imports and its
forms is held to protocol/limits.py: out of range is a 400 (422 for a CSV row) naming the
field and the limit, never a 500, and nothing is stored or sent to a station."""

import pytest

from hub import store
from protocol.envelope import encode
from protocol.messages import StationStatus
from tests.webapp import TOKEN

pytestmark = pytest.mark.hub

BEARER = {"Authorization": f"Bearer {TOKEN}"}
CSV = {**BEARER, "Content-Type": "text/csv"}
HUGE = "99999999999999999999999"
MONEY_LIMIT = "from 0 to 99999.999999"


@pytest.fixture
def api(app):
    return app.test_client()


@pytest.fixture
def floor(ledger, api):
    """A station that has reported, a listed location, a supplier."""
    ledger.status("pack-1", encode(StationStatus(state="online", conn=1)))
    assert api.post("/api/locations", json={"code": "A-01"}, headers=BEARER).status_code == 201
    assert api.post("/api/suppliers", json={"supplier": "acme", "name": "Acme"},
                    headers=BEARER).status_code == 201  # fmt: skip
    return ledger


def _outbox(ledger) -> list[str]:
    return [row[0] for row in ledger.conn.execute("SELECT topic FROM outbox ORDER BY id")]


@pytest.mark.parametrize(("body", "status", "reason"), [
    ({"station": "zz+probe", "location": "A-01"}, 400, "`$.station`"),
    ({"station": "pack-9", "location": "A-01"}, 422, "no station 'pack-9' has reported"),
    ({"station": "pack-1", "location": "NOWHERE"}, 422, "no location 'NOWHERE' is known"),
    ({"station": "pack-1", "location": "A 01"}, 400, "`$.location`"),
])  # fmt: skip
def test_a_count_task_no_station_could_close_is_refused(api, floor, body, status, reason):
    before = _outbox(floor)
    response = api.post("/api/count-tasks", json=body, headers=BEARER)
    assert response.status_code == status and reason in response.json["error"]
    assert store.count_tasks(floor.conn, None, None) == []
    assert _outbox(floor) == before


@pytest.mark.parametrize(("stations", "status", "reason"), [
    (["zz+probe"], 400, "`$.stations[0]`"),
    (["pack-1", "pack-9"], 422, "no station 'pack-9' has reported"),
])  # fmt: skip
def test_a_full_count_for_unknown_stations_is_refused(api, floor, stations, status, reason):
    before = _outbox(floor)
    response = api.post("/api/full-counts", json={"stations": stations}, headers=BEARER)
    assert response.status_code == status and reason in response.json["error"]
    assert store.count_tasks(floor.conn, None, None) == [] and _outbox(floor) == before


@pytest.mark.parametrize("cost", ["1e30", "1e999999", "NaN", "-1", "0.0000001"])
def test_a_unit_cost_out_of_range_is_refused_by_the_api(api, floor, cost):
    product = {"sku": "MUG-1", "name": "Mug", "unit_cost": cost}
    response = api.post("/api/products", json=product, headers=BEARER)
    assert response.status_code == 400
    assert "`unit_cost`" in response.json["error"] and MONEY_LIMIT in response.json["error"]
    supplier_cost = {"sku": "MUG-1", "name": "Mug",
                     "suppliers": [{"supplier": "acme", "unit_cost": cost}]}  # fmt: skip
    assert api.post("/api/products", json=supplier_cost, headers=BEARER).status_code == 400
    po = {"supplier": "acme", "lines": [{"sku": "MUG-1", "qty": 1, "unit_cost": cost}]}
    response = api.post("/api/purchase-orders", json=po, headers=BEARER)
    assert response.status_code == 400 and "`unit_cost`" in response.json["error"]
    assert store.product_exists(floor.conn, "MUG-1") is False
    assert store.po_list(floor.conn, None, 10, 0) == []


@pytest.mark.parametrize("dry_run", ["?dry_run=1", ""])
@pytest.mark.parametrize("cost", ["1e30", "1e999999", "NaN"])
def test_a_unit_cost_out_of_range_is_a_bad_csv_row(api, floor, cost, dry_run):
    text = f"sku,name,unit_cost\nMUG-1,Mug,1.50\nMUG-2,Mug 2,{cost}\n"
    response = api.post(f"/api/products.csv{dry_run}", data=text, headers=CSV)
    assert response.status_code == 422
    [row] = response.json["rows"]
    assert row["line"] == 3 and "`unit_cost`" in row["reason"] and MONEY_LIMIT in row["reason"]
    po_text = f"po,supplier,sku,qty,unit_cost\nPO-9,acme,MUG-1,1,{cost}\n"
    response = api.post(f"/api/purchase-orders.csv{dry_run}", data=po_text, headers=CSV)
    assert response.status_code == 422 and "`unit_cost`" in response.json["rows"][0]["reason"]
    assert store.product_exists(floor.conn, "MUG-1") is False


@pytest.mark.parametrize(("method", "path", "field"), [
    ("POST", f"/api/counts/{HUGE}/approve", "count_id"),
    ("POST", f"/api/counts/{HUGE}/reject", "count_id"),
    ("POST", f"/api/movements/{HUGE}/reverse", "movement_id"),
    ("DELETE", f"/api/uplifts/{HUGE}", "uplift_id"),
    ("GET", f"/api/movements?before={HUGE}", "before"),
])  # fmt: skip
def test_an_id_beyond_64_bits_is_a_400_naming_it(api, floor, method, path, field):
    response = api.open(path, method=method, json={"reason": "probe"}, headers=BEARER)
    assert response.status_code == 400
    assert f"`$.{field}`" in response.json["error"]
    assert "9223372036854775807" in response.json["error"]


@pytest.mark.parametrize("weight", ["1e999999", "1000000", "0.0001", "-5"])
def test_a_weight_out_of_range_is_refused_and_never_sent_to_stations(api, floor, weight):
    before = _outbox(floor)
    product = {"sku": "MUG-1", "name": "Mug", "unit_weight_g": weight}
    response = api.post("/api/products", json=product, headers=BEARER)
    assert response.status_code == 400 and "`unit_weight_g`" in response.json["error"]
    assert "from 0 to 999999.999" in response.json["error"]
    order = {"order": "SO-1", "packaging_weight_g": weight, "lines": [{"sku": "X", "qty": 1}]}
    response = api.post("/api/orders", json=order, headers=BEARER)
    assert response.status_code == 400 and "`packaging_weight_g`" in response.json["error"]
    assert _outbox(floor) == before


@pytest.mark.parametrize(("field", "value", "limit"), [
    ("qty", 1_000_001, "<= 1000000"), ("qty", 0, ">= 1"), ("sku", "x" * 65, "regex"),
])  # fmt: skip
def test_order_lines_are_held_to_the_quantity_and_code_limits(api, floor, field, value, limit):
    line = {"sku": "MUG-1", "qty": 1, field: value}
    response = api.post("/api/orders", json={"order": "SO-1", "lines": [line]}, headers=BEARER)
    assert response.status_code == 400
    assert f"`$.lines[0].{field}`" in response.json["error"] and limit in response.json["error"]


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("PUT", "/api/products", {"GET", "POST"}),
    ("DELETE", "/api/stock", {"GET"}),
    ("PUT", "/counts", {"GET"}),
])  # fmt: skip
def test_a_method_not_allowed_says_which_are(api, floor, method, path, allowed):
    response = api.open(path, method=method, headers=BEARER)
    assert response.status_code == 405
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


@pytest.mark.parametrize(("query", "status", "reason"), [
    ("today=1474-09-17", 400, "`today` must be a day from 1970 to 2099"),
    ("since=0001-01-01", 400, "`since` must be a day from 1970 to 2099"),
    ("since=2099-12-31", 422, "`since` 2099-12-31 is after `until`"),
    ("since=2026-02-01&until=2026-01-01", 422, "is after `until` 2026-01-01"),
])  # fmt: skip
def test_report_days_out_of_range_are_refused_not_a_500(api, floor, query, status, reason):
    for name in ("kpis", "abc", "dead-stock", "surplus"):
        response = api.get(f"/api/reports/{name}?{query}", headers=BEARER)
        assert response.status_code == status and reason in response.json["error"], name


@pytest.mark.parametrize("query", ["since=0001-01-01", "since=2099-12-31", "today=1474-09-17"])
def test_the_report_page_refuses_the_same_days(as_role, floor, query):
    response = as_role("viewer").get(f"/reports/kpis?{query}")
    assert response.status_code == 400
