"""The JSON API as one surface: each route registered once, a product's history in one
shape, keyset paging where OFFSET would be slow, CSV imports (dry run, roles) and the
reorder-to-PO call refusing bad input with the reason."""

from collections import Counter

import msgspec
import pytest

from hub import catalog, store
from protocol.events import Receipt
from protocol.messages import Product
from tests.webapp import TOKEN, TOPICS

pytestmark = pytest.mark.hub

BEARER = {"Authorization": f"Bearer {TOKEN}"}
CSV = {**BEARER, "Content-Type": "text/csv"}


@pytest.fixture
def api(app):
    return app.test_client()


@pytest.fixture
def skus(ledger):
    """Five products with stock, SKU-1 to SKU-5; SKU-3 below zero."""
    catalog.upsert_products(ledger.conn, TOPICS,
                            [Product(sku=f"SKU-{n}", name=f"Product {n}") for n in range(1, 6)])
    ledger.apply(*[Receipt(sku=f"SKU-{n}", qty=n, location="A-01") for n in (1, 2, 4, 5)])
    ledger.apply(Receipt(sku="SKU-3", qty=1, location="A-01"))
    ledger.conn.execute("UPDATE balances SET qty = -1 WHERE sku = 'SKU-3'")  # a shortfall
    return ledger


def test_every_route_and_method_is_registered_once(app):
    seen = Counter((m, r.rule) for r in app.url_map.iter_rules()
                   for m in r.methods - {"HEAD", "OPTIONS"})  # fmt: skip
    assert [key for key, n in seen.items() if n > 1] == []


@pytest.mark.parametrize("gone", ["/api/reorder/purchase-order", "/api/import/products"])
def test_the_duplicates_of_domain_routes_are_gone(api, gone):
    assert api.post(gone, headers=BEARER, json={}).status_code == 404


def test_stock_pages_by_key_with_next(api, skus):
    first = api.get("/api/stock?limit=2", headers=BEARER).json
    assert [s["sku"] for s in first["stock"]] == ["SKU-1", "SKU-2"]
    assert first["next"] == {"after": "SKU-2"}
    rest = api.get("/api/stock?limit=3&after=SKU-2", headers=BEARER).json
    assert [s["sku"] for s in rest["stock"]] == ["SKU-3", "SKU-4", "SKU-5"]
    last = api.get("/api/stock?limit=3&after=SKU-5", headers=BEARER).json
    assert last == {"stock": [], "next": None}


def test_stock_refuses_offset_and_says_how_to_page(api, skus):
    response = api.get("/api/stock?offset=100", headers=BEARER)
    assert response.status_code == 400 and "`after`" in response.json["error"]


def test_stock_search_lists_pages_by_key_and_searches_page_by_offset(api, skus):
    listed = api.get("/api/stock/search?limit=2&after=SKU-1", headers=BEARER).json
    assert [s["sku"] for s in listed["stock"]] == ["SKU-2", "SKU-3"]
    assert listed["next"] == {"after": "SKU-3"}
    negative = api.get("/api/stock/search?negative=1", headers=BEARER).json
    assert [s["sku"] for s in negative["stock"]] == ["SKU-3"] and negative["next"] is None
    found = api.get("/api/stock/search?q=Product&limit=2&offset=2", headers=BEARER).json
    assert [s["sku"] for s in found["stock"]] == ["SKU-3", "SKU-4"]
    assert found["next"] == {"offset": 4}


def test_a_product_history_pages_back_through_its_movements(api, skus):
    skus.apply(*[Receipt(sku="SKU-1", qty=1, location="B-01") for _ in range(3)])
    first = api.get("/api/products/SKU-1/history?limit=2", headers=BEARER).json
    assert first["on_hand"] == 4 and first["details"]["name"] == "Product 1"
    assert [m["location"] for m in first["movements"]] == ["B-01", "B-01"]
    assert [p["on_hand"] for p in first["series"]] == [1, 2, 3, 4]
    older = api.get(f"/api/products/SKU-1/history?limit=2&before={first['next']['before']}",
                    headers=BEARER).json  # fmt: skip
    assert [m["location"] for m in older["movements"]] == ["B-01", "A-01"]
    assert api.get("/api/products/NEVER/history", headers=BEARER).status_code == 404


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"skus": "MUG"}, 400, "`$.skus`"), ({"skus": []}, 400, "length >= 1 - at `$.skus`"),
    ({"skus": [1]}, 400, "`$.skus[0]`"), ({"skus": ["GHOST"]}, 422, "unknown sku GHOST"),
])  # fmt: skip
def test_reorder_to_purchase_orders_refuses_bad_input(api, skus, body, status, message):
    response = api.post("/api/purchase-orders/from-reorder", json=body, headers=BEARER)
    assert response.status_code == status and message in response.json["error"]
    assert store.po_list(skus.conn, None, 10, 0) == []


def test_a_csv_dry_run_checks_and_keeps_nothing(api, ledger):
    checked = api.post("/api/locations.csv?dry_run=1", data="code\nA-01\nB-01\n", headers=CSV)
    assert checked.status_code == 200 and checked.json == {"checked": 2, "dry_run": True}
    assert catalog.list_locations(ledger.conn, 10, 0) == []
    bad = api.post("/api/locations.csv?dry_run=1", data="code\nA-01\nnot ok\n", headers=CSV)
    assert bad.status_code == 422 and bad.json["rows"][0]["line"] == 3
    assert api.post("/api/locations.csv", data="code\nA-01\n", headers=CSV).status_code == 201
    assert [x.code for x in catalog.list_locations(ledger.conn, 10, 0)] == ["A-01"]


def test_csv_imports_need_an_admin_login_or_a_token(as_role):
    csv = {"Content-Type": "text/csv"}
    for role, status in (("supervisor", 403), ("admin", 201)):
        client = as_role(role)
        csrf = client.get("/api/me").json["csrf_token"]
        response = client.post("/api/suppliers.csv", data="supplier,name\nacme,Acme\n",
                               headers={**csv, "X-CSRF-Token": csrf})  # fmt: skip
        assert response.status_code == status, role


def test_what_the_pages_show_is_in_the_api_too(api, ledger):
    catalog.upsert_products(ledger.conn, TOPICS, [
        msgspec.convert({"sku": "MUG-1", "name": "Mug", "reorder_point": 5, "unit_cost": "2"},
                        catalog.ProductRecord)])  # fmt: skip
    ledger.apply(Receipt(sku="MUG-1", qty=3, location="A-01"))
    layers = api.get("/api/products/MUG-1/layers", headers=BEARER).json["layers"]
    assert [(x["location"], x["qty"], x["value"]) for x in layers] == [("A-01", 3, "6.00")]
    low = api.get("/api/stock/search?low=1", headers=BEARER).json
    assert low["stock"] == [{"sku": "MUG-1", "name": "Mug", "on_hand": 3, "quarantined": 0,
                             "available": 3, "reorder_point": 5}]  # fmt: skip
    due = api.get("/api/counts/due", headers=BEARER).json["due"]
    assert [(d["sku"], d["location"], d["due"]) for d in due] == [("MUG-1", "A-01", None)]
    assert api.get("/api/counts/due?limit=0", headers=BEARER).status_code == 400
