"""The JSON API of the inventory domain, through Flask's test client on a real SQLite file."""

import pytest

from hub import store
from hub.web import close_app, create_app
from protocol.events import Count, Receipt, Shipment, ShipmentLine
from tests.domain_helpers import TOPICS, Feed
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub

AUTH = {"Authorization": "Bearer api-token"}

ENDPOINTS = [
    ("GET", "/api/products"), ("POST", "/api/products"), ("GET", "/api/products/MUG"),
    ("GET", "/api/products/MUG/history"), ("GET", "/api/products/MUG/fefo"),
    ("GET", "/api/products.csv"), ("POST", "/api/products.csv"),
    ("GET", "/api/locations"), ("POST", "/api/locations"), ("GET", "/api/locations.csv"),
    ("POST", "/api/locations.csv"), ("GET", "/api/suppliers"), ("POST", "/api/suppliers"),
    ("GET", "/api/suppliers.csv"), ("POST", "/api/suppliers.csv"),
    ("GET", "/api/suppliers/acme/lead-time"), ("GET", "/api/orders"), ("POST", "/api/orders"),
    ("GET", "/api/orders/SO-1"), ("POST", "/api/orders/SO-1/cancel"),
    ("POST", "/api/orders.csv"), ("GET", "/api/purchase-orders"),
    ("POST", "/api/purchase-orders"), ("GET", "/api/purchase-orders/PO-1"),
    ("POST", "/api/purchase-orders/PO-1/close"), ("POST", "/api/purchase-orders/PO-1/cancel"),
    ("POST", "/api/purchase-orders/PO-1/confirm"), ("POST", "/api/purchase-orders.csv"),
    ("POST", "/api/purchase-orders/from-reorder"), ("POST", "/api/movements/1/reverse"),
    ("GET", "/api/counts"), ("POST", "/api/counts/1/approve"), ("POST", "/api/counts/1/reject"),
    ("GET", "/api/count-tasks"), ("POST", "/api/count-tasks"), ("POST", "/api/full-counts"),
    ("GET", "/api/full-counts/FC-0001"), ("GET", "/api/settings"), ("PUT", "/api/settings"),
    ("GET", "/api/uplifts"), ("POST", "/api/uplifts"), ("DELETE", "/api/uplifts/1"),
    ("POST", "/api/housekeeping"), ("GET", "/api/stock"),
    *[("GET", f"/api/reports/{name}{ext}") for name in
      ("stock", "valuation", "reorder", "abc", "dead-stock", "surplus", "kpis", "alerts")
      for ext in ("", ".csv")],
]  # fmt: skip


@pytest.fixture
def db_path(tmp_path):
    path = ledger_target(tmp_path / "ledger.db")
    conn = store.connect(path)
    store.create_schema(conn)
    conn.close()
    return path


@pytest.fixture
def client(db_path, tmp_path):
    app = create_app(db_path, TOPICS, ["api-token"], data_dir=tmp_path)
    yield app.test_client()
    close_app(app)


@pytest.fixture
def stocked(client, db_path):
    """Acme, a mug with stock at A-1, and the raw connection for feeding events."""
    client.post("/api/suppliers", json={"supplier": "acme", "name": "Acme", "lead_time_days": 3},
                headers=AUTH)  # fmt: skip
    client.post("/api/products", json=[{"sku": "MUG", "name": "Mug", "unit_cost": "2",
                                        "par_level": 20, "reorder_point": 12, "suppliers": [{"supplier": "acme"}]}],
                headers=AUTH)  # fmt: skip
    conn = store.connect(db_path)
    Feed(conn)(Receipt(sku="MUG", qty=10, location="A-1", lot="L1", expiry="2027-01-01"))
    yield conn
    conn.close()


@pytest.mark.parametrize("method, path", ENDPOINTS)
def test_every_endpoint_needs_a_token(client, method, path):
    response = client.open(path, method=method, json={})
    assert response.status_code == 401 and "Bearer" in response.get_json()["error"]


@pytest.mark.parametrize("method, path, body, status, message", [
    ("POST", "/api/products", {"sku": "MUG"}, 400, "name"),
    ("POST", "/api/products", [{"sku": "KIT", "name": "K", "kit": [{"sku": "NO", "qty": 1}]}],
     422, "NO is not a product"),
    ("POST", "/api/products", [{"sku": "KIT", "name": "K", "kit": [{"sku": "MUG", "qty": 1},
                                                                   {"sku": "MUG", "qty": 2}]}],
     422, "a component is listed twice"),
    ("POST", "/api/locations", {"code": "bad code"}, 400, "code"),
    ("POST", "/api/locations", [{"code": "A-2"}, {"code": "A-2", "zone": "B"}],
     422, "code A-2 is listed twice"),
    ("POST", "/api/suppliers", {"supplier": "x", "name": "X", "email": "nope"}, 400, "email"),
    ("POST", "/api/orders", {"order": "SO-9", "lines": [{"sku": "GHOST", "qty": 1}]},
     422, "unknown sku GHOST"),
    ("POST", "/api/orders", [{"order": "SO-9", "lines": [{"sku": "MUG", "qty": 1}]},
                             {"order": "SO-9", "lines": [{"sku": "MUG", "qty": 2}]}],
     422, "order SO-9 is listed twice"),
    ("POST", "/api/purchase-orders", [{"po": "PO-9", "lines": [{"sku": "MUG", "qty": 1}]},
                                      {"po": "PO-9", "lines": [{"sku": "MUG", "qty": 2}]}],
     422, "po PO-9 is listed twice"),
    ("POST", "/api/purchase-orders", {"lines": []}, 400, "lines"),
    ("POST", "/api/movements/1/reverse", {}, 400, "`reason`"),
    ("POST", "/api/movements/999/reverse", {"reason": "typo"}, 404, "no movement 999"),
    ("POST", "/api/count-tasks", {"station": "st-1"}, 400, "`location`"),
    ("POST", "/api/full-counts", {"stations": []}, 400, "`$.stations`"),
    ("PUT", "/api/settings", {"abc_a_share": 2}, 400, "abc_a_share"),
    ("PUT", "/api/settings", {"colour": "red"}, 400, "colour"),
    ("POST", "/api/uplifts", {"start": "2026-05-02", "end": "2026-05-01", "factor": 2},
     422, "before"),
    ("GET", "/api/reports/kpis?since=yesterday", None, 400, "date"),
    ("GET", "/api/reports/stock?limit=0", None, 400, "limit"),
])  # fmt: skip
def test_bad_input_is_refused_with_the_reason(client, method, path, body, status, message):
    """400: the request does not match the API's document; 404: what the path names does
    not exist; 422: well formed but against a rule of the warehouse."""
    response = client.open(path, method=method, json=body, headers=AUTH)
    assert response.status_code == status, response.get_json()
    assert message in response.get_json()["error"]


def test_a_gtin_scans_as_one_product_and_moves_only_with_both_saved_together(client):
    # A station resolves each scan to one product: a GTIN on two of them was taken by the
    # last one saved in the hub while the first still listed it (and its stations too).
    def save(*products: dict):
        return client.post("/api/products", json=list(products), headers=AUTH)

    gtin = [{"gtin": "4006381333931"}]
    assert save({"sku": "MUG", "name": "Mug", "gtins": gtin}).status_code == 201
    taken = save({"sku": "BOX", "name": "Box", "gtins": gtin})
    assert taken.status_code == 422
    assert "GTIN 4006381333931 belongs to MUG" in taken.get_json()["error"]
    twice = save({"sku": "CUP", "name": "Cup", "gtins": [*gtin, {"gtin": "04006381333931"}]})
    assert "CUP: GTIN 04006381333931 is listed twice" in twice.get_json()["error"]
    both = save({"sku": "A", "name": "A", "gtins": [{"gtin": "96385074"}]},
                {"sku": "B", "name": "B", "gtins": [{"gtin": "96385074"}]})  # fmt: skip
    assert "A: GTIN 96385074 is also given to B" in both.get_json()["error"]
    moved = save({"sku": "MUG", "name": "Mug"}, {"sku": "BOX", "name": "Box", "gtins": gtin})
    assert moved.status_code == 201
    read = {sku: client.get(f"/api/products/{sku}", headers=AUTH).get_json().get("gtins")
            for sku in ("MUG", "BOX")}  # fmt: skip
    assert read == {"MUG": None, "BOX": gtin}


def test_products_read_back_with_stock_history_and_fefo(client, stocked):
    product = client.get("/api/products/MUG", headers=AUTH).get_json()
    assert (product["on_hand"], product["available"], product["par_level"]) == (10, 10, 20)
    assert client.get("/api/products", headers=AUTH).get_json()["products"][0]["sku"] == "MUG"
    history = client.get("/api/products/MUG/history", headers=AUTH).get_json()["movements"]
    assert [(m["type"], m["delta"]) for m in history] == [("receipt", 10)]
    pick = client.get("/api/products/MUG/fefo", headers=AUTH).get_json()["pick"]
    assert pick == [{"location": "A-1", "lot": "L1", "owner": None, "qty": 10,
                     "expiry": "2027-01-01"}]  # fmt: skip
    assert client.get("/api/products/NOPE", headers=AUTH).status_code == 404


def test_master_data_csv_endpoints_import_and_export(client, stocked):
    csv_headers = {**AUTH, "Content-Type": "text/csv"}
    bad = client.post("/api/locations.csv", data="code\nok-1\nnot ok\n", headers=csv_headers)
    assert bad.status_code == 422 and bad.get_json()["rows"][0]["line"] == 3
    good = client.post("/api/locations.csv", data="code,zone\nA-1,A\n", headers=csv_headers)
    assert good.status_code == 201 and good.get_json() == {"imported": 1}
    exported = client.get("/api/locations.csv", headers=AUTH)
    assert exported.mimetype == "text/csv" and "LOC:A-1" in exported.get_data(as_text=True)
    assert "acme" in client.get("/api/suppliers.csv", headers=AUTH).get_data(as_text=True)
    assert client.post("/api/suppliers.csv", data="supplier,name\nbeta,Beta\n",
                       headers=csv_headers).status_code == 201  # fmt: skip
    assert client.post("/api/products.csv", data="sku,name\nTEA,Tea\n",
                       headers=csv_headers).status_code == 201  # fmt: skip
    assert "TEA,Tea" in client.get("/api/products.csv", headers=AUTH).get_data(as_text=True)
    assert client.get("/api/locations", headers=AUTH).get_json()["locations"][0]["barcode"] == (
        "LOC:A-1")  # fmt: skip
    assert [s["supplier"] for s in client.get("/api/suppliers", headers=AUTH).get_json()[
        "suppliers"]] == ["acme", "beta"]  # fmt: skip


def test_orders_commit_cancel_and_come_from_csv(client, stocked):
    assert client.post("/api/orders", json={"order": "SO-1", "lines": [{"sku": "MUG", "qty": 4}]},
                       headers=AUTH).status_code == 201  # fmt: skip
    stock = client.get("/api/stock?sku=MUG", headers=AUTH).get_json()["stock"][0]
    assert (stock["committed"], stock["available"]) == (4, 6)
    assert client.get("/api/orders/SO-1", headers=AUTH).get_json()["rows"][0]["qty"] == 4
    assert client.get("/api/orders?status=open", headers=AUTH).get_json()["orders"][0][
        "order"] == "SO-1"  # fmt: skip
    assert client.post("/api/orders/SO-1/cancel", headers=AUTH).status_code == 200
    assert client.post("/api/orders/SO-1/cancel", headers=AUTH).status_code == 409
    assert client.post("/api/orders/SO-X/cancel", headers=AUTH).status_code == 404
    imported = client.post("/api/orders.csv", data="order,sku,qty\nSO-2,MUG,1\n",
                           headers={**AUTH, "Content-Type": "text/csv"})  # fmt: skip
    assert imported.status_code == 201 and imported.get_json() == {"imported": ["SO-2"]}


def test_purchase_orders_by_hand_from_csv_and_from_reorder_then_close(client, stocked):
    made = client.post("/api/purchase-orders", json={"po": "PO-1", "supplier": "acme",
                       "lines": [{"sku": "MUG", "qty": 5, "unit_cost": "1.5"}]}, headers=AUTH)
    assert made.status_code == 201 and made.get_json() == {"saved": ["PO-1"]}
    assert client.get("/api/purchase-orders/PO-1", headers=AUTH).get_json()["expected"]
    closed = client.post("/api/purchase-orders/PO-1/close", headers=AUTH)
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert client.post("/api/purchase-orders/PO-1/close", headers=AUTH).status_code == 409
    assert client.post("/api/purchase-orders/PO-1/confirm", headers=AUTH).status_code == 422
    assert client.get("/api/suppliers/acme/lead-time", headers=AUTH).get_json()[
        "purchase_orders"] == 1  # fmt: skip
    csv = client.post("/api/purchase-orders.csv", data="po,sku,qty\nPO-2,MUG,1\n",
                      headers={**AUTH, "Content-Type": "text/csv"})  # fmt: skip
    assert csv.status_code == 201
    assert client.post("/api/purchase-orders/PO-2/cancel", headers=AUTH).status_code == 200
    # 10 on hand is below the reorder point of 12: due, order up to par 20.
    suggested = client.post("/api/purchase-orders/from-reorder", json={"skus": ["MUG"]},
                            headers=AUTH).get_json()["saved"]  # fmt: skip
    [po] = client.get("/api/purchase-orders?status=open", headers=AUTH).get_json()[
        "purchase_orders"]  # fmt: skip
    assert [po["po"]] == suggested and po["lines"][0]["qty"] == 10


def test_dropship_confirmation_closes_the_order(client, stocked):
    client.post("/api/orders", json={"order": "SO-3", "lines": [
        {"sku": "MUG", "qty": 2, "dropship": True}]}, headers=AUTH)  # fmt: skip
    [row] = client.get("/api/orders/SO-3", headers=AUTH).get_json()["rows"]
    confirmed = client.post(f"/api/purchase-orders/{row['po']}/confirm", headers=AUTH)
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "received"
    assert client.get("/api/orders/SO-3", headers=AUTH).get_json()["status"] == "shipped"


def test_a_movement_is_reversed_once(client, stocked):
    response = client.post("/api/movements/1/reverse", json={"reason": "double scan"},
                           headers=AUTH)  # fmt: skip
    assert response.status_code == 201 and response.get_json()["movements"] == 1
    assert client.get("/api/stock?sku=MUG", headers=AUTH).get_json()["stock"][0]["on_hand"] == 0
    again = client.post("/api/movements/1/reverse", json={"reason": "x"}, headers=AUTH)
    assert again.status_code == 409 and "already reversed" in again.get_json()["error"]


def test_counts_wait_for_approval_and_tasks_are_issued(client, stocked):
    Feed(stocked, station="st-2")(Count(sku="MUG", location="A-1", counted=0))
    pending = client.get("/api/counts?status=pending", headers=AUTH).get_json()["counts"]
    assert len(pending) == 1 and pending[0]["variance"] == -10
    approved = client.post(f"/api/counts/{pending[0]['id']}/approve", json={"by": "sam"},
                           headers=AUTH)  # fmt: skip
    assert approved.status_code == 201 and approved.get_json()["status"] == "approved"
    assert client.post(f"/api/counts/{pending[0]['id']}/reject",
                       headers=AUTH).status_code == 409  # fmt: skip
    task = client.post("/api/count-tasks", json={"station": "st-2", "location": "A-1"},
                       headers=AUTH).get_json()["task"]  # fmt: skip
    assert client.get("/api/count-tasks?status=open", headers=AUTH).get_json()["tasks"][0][
        "task"] == task  # fmt: skip
    run = client.post("/api/full-counts", json={"stations": ["st-2"]}, headers=AUTH).get_json()
    report = client.get(f"/api/full-counts/{run['run']}", headers=AUTH).get_json()
    assert report["tasks"] == 1 and report["open"] == ["A-1"]
    assert client.get("/api/full-counts/FC-9999", headers=AUTH).status_code == 404


def test_settings_uplifts_and_housekeeping(client, stocked):
    changed = client.put("/api/settings", json={"dead_stock_days": 90}, headers=AUTH)
    assert changed.get_json()["dead_stock_days"] == 90
    assert client.get("/api/settings", headers=AUTH).get_json()["dead_stock_days"] == 90
    saved = client.post("/api/uplifts", json={"sku": "MUG", "start": "2026-12-01",
                        "end": "2026-12-24", "factor": 1.5}, headers=AUTH)  # fmt: skip
    [uplift_id] = saved.get_json()["saved"]
    assert client.get("/api/uplifts", headers=AUTH).get_json()["uplifts"][0]["factor"] == 1.5
    assert client.delete(f"/api/uplifts/{uplift_id}", headers=AUTH).status_code == 200
    assert client.delete(f"/api/uplifts/{uplift_id}", headers=AUTH).status_code == 404
    tick = client.post("/api/housekeeping", headers=AUTH).get_json()
    assert tick["abc_refreshed"] is True


def test_housekeeping_on_demand_recomputes_the_stored_reports_now(client, stocked):
    assert client.post("/api/housekeeping", headers=AUTH).get_json()["reports_refreshed"] == [
        "dead-stock", "surplus", "reorder"]  # fmt: skip
    computed = client.get("/api/reports/reorder", headers=AUTH).get_json()["summary"]["computed"]
    assert client.post("/api/housekeeping", headers=AUTH).get_json()["reports_refreshed"] == []
    again = client.post("/api/housekeeping?refresh=1", headers=AUTH).get_json()
    assert again["reports_refreshed"] == ["dead-stock", "surplus", "reorder"]
    assert again["abc_refreshed"] is True
    later = client.get("/api/reports/reorder", headers=AUTH).get_json()["summary"]["computed"]
    assert later > computed


@pytest.mark.parametrize("name", ["stock", "valuation", "reorder", "abc", "dead-stock",
                                  "surplus", "kpis", "alerts"])  # fmt: skip
def test_every_report_answers_as_json_and_csv(client, stocked, name):
    Feed(stocked, station="st-3")(
        Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=2, location="A-1")]),
        Receipt(sku="TEA", qty=3, location="A-1"),  # never shipped: dead stock
    )
    report = client.get(f"/api/reports/{name}", headers=AUTH).get_json()
    assert report["report"] == name and report["rows"], report
    csv = client.get(f"/api/reports/{name}.csv?limit=5", headers=AUTH)
    assert csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines()[0] == ",".join(report["columns"])


def test_an_unknown_report_is_404_naming_the_reports(client):
    response = client.get("/api/reports/nope", headers=AUTH)
    assert response.status_code == 404 and "valuation" in response.get_json()["error"]
