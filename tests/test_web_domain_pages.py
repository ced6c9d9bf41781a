"""Pages backed by the inventory domain: purchase orders, reorder lines to purchase orders,
low stock, FIFO layers, reports with their pages and CSV, and the two-step CSV import."""

import io
from decimal import Decimal

import msgspec
import pytest

from hub import catalog, purchasing, store
from hub.catalog import Supplier
from protocol.events import Receipt
from tests.webapp import TOPICS, page_csrf

pytestmark = pytest.mark.hub


def products(ledger, *records: dict) -> None:
    catalog.upsert_products(ledger.conn, TOPICS,
                            [msgspec.convert(r, catalog.ProductRecord) for r in records])


@pytest.fixture
def planned(ledger):
    """MUG is below its reorder point (due), TEA well above it."""
    with store.transaction(ledger.conn):
        catalog.save_suppliers(ledger.conn, [Supplier(supplier="acme", name="Acme")])
    products(ledger, {"sku": "MUG-1", "name": "Mug", "reorder_point": 5, "par_level": 12,
                      "unit_cost": "2", "suppliers": [{"supplier": "acme"}]},
             {"sku": "TEA-1", "name": "Tea", "reorder_point": 2, "par_level": 6})  # fmt: skip
    ledger.apply(Receipt(sku="MUG-1", qty=3, location="A-01", unit_cost=Decimal("1.5")),
                 Receipt(sku="TEA-1", qty=9, location="B-01"))  # fmt: skip
    return ledger


def test_the_purchase_orders_page_shows_status_and_progress(as_role, planned):
    with store.transaction(planned.conn):
        purchasing.create(planned.conn, TOPICS, purchasing.PurchaseOrderIn(
            po="PO-7", supplier="acme", lines=[purchasing.PoLineIn(sku="MUG-1", qty=10)]),
            "2026-01-02T00:00:00+00:00")  # fmt: skip
    planned.apply(Receipt(sku="MUG-1", qty=4, location="DOCK", po="PO-7"))
    page = as_role("viewer").get("/purchase-orders").text
    row = page.split('data-po="PO-7"')[1].split("</tr>")[0]
    assert "acme" in row and "receiving" in row and "4 / 10" in row
    assert "PO-7" not in as_role("supervisor").get("/purchase-orders?status=open").text


def test_a_supervisor_turns_ticked_reorder_lines_into_a_purchase_order(as_role, planned):
    client = as_role("supervisor")
    report = client.get("/reports/reorder").text
    assert 'name="sku" value="MUG-1"' in report and 'value="TEA-1"' not in report
    response = client.post("/reports/reorder/purchase-order",
                           data={"csrf_token": page_csrf(client), "sku": ["MUG-1"]},
                           follow_redirects=True)  # fmt: skip
    [po] = purchasing.po_page(planned.conn, None, 10, 0)
    assert f"Created {po['po']}." in response.text and po["po"] in response.text
    assert [(x["sku"], x["qty"]) for x in po["lines"]] == [("MUG-1", 9)]  # up to par 12


def test_reorder_lines_that_are_not_due_or_unknown_make_no_purchase_order(as_role, planned):
    client = as_role("supervisor")
    for skus, message in ((["TEA-1"], "None of the selected lines is due"),
                          (["GHOST"], "unknown sku GHOST"), ([], "Select at least one line")):
        page = client.post("/reports/reorder/purchase-order", follow_redirects=True,
                           data={"csrf_token": page_csrf(client), "sku": skus}).text
        assert message in page, skus
    assert purchasing.po_page(planned.conn, None, 10, 0) == []


def test_a_viewer_cannot_create_purchase_orders(as_role, planned):
    client = as_role("viewer")
    response = client.post("/reports/reorder/purchase-order",
                           data={"csrf_token": page_csrf(client), "sku": ["MUG-1"]})
    assert response.status_code == 403
    assert 'name="sku"' not in client.get("/reports/reorder").text


def test_the_low_stock_filter_lists_products_at_their_reorder_point(as_role, planned):
    page = as_role("viewer").get("/stock?filter=low").text
    table = page.split('id="stock"')[1].split("</table>")[0]
    assert "MUG-1" in table and "TEA-1" not in table
    assert '<td class="num">5</td>' in table  # the reorder point


def test_the_product_page_shows_fifo_layers_and_availability(as_role, planned):
    page = as_role("viewer").get("/products/MUG-1").text
    layers = page.split('id="layers"')[1].split("</table>")[0]
    assert "A-01" in layers and "1.50" in layers and "4.50" in layers
    assert 'id="available"' in page and "acme" in page


def test_reports_page_on_with_next_and_download_in_full(as_role, planned):
    client = as_role("viewer")
    first = client.get("/reports/stock?limit=1").text
    assert "MUG-1" in first and "TEA-1" not in first
    assert "offset=1" in first.split('class="pager"')[1]
    assert "TEA-1" in client.get("/reports/stock?limit=1&offset=1").text
    csv = client.get("/reports/stock.csv?limit=10000")
    rows = csv.text.splitlines()
    assert csv.mimetype == "text/csv" and [r.split(",")[0] for r in rows[1:]] == ["MUG-1", "TEA-1"]
    assert client.get("/reports/nope").status_code == 404
    assert client.get("/reports/kpis?since=yesterday").status_code == 400


def test_the_abc_report_draws_its_pareto_chart_from_the_annual_values(as_role, planned):
    page = as_role("viewer").get("/reports/abc").text
    data = msgspec.json.decode(page.split('id="chart-data">')[1].split("</script>")[0])
    assert {item["label"] for item in data} == {"MUG-1", "TEA-1"}


def upload(client, kind: str, text: str, **form):
    data = {"csrf_token": page_csrf(client, "/import"), "kind": kind, **form}
    if "confirm" not in form:
        data["file"] = (io.BytesIO(text.encode()), "file.csv")
    else:
        data["text"] = text
    return client.post("/import", data=data, content_type="multipart/form-data")


def test_an_import_is_checked_first_and_saved_only_when_confirmed(as_role, ledger):
    client = as_role("admin")
    text = "code,zone\nA-01,A\nB-01,B\n"
    checked = upload(client, "locations", text)
    assert checked.status_code == 200 and "2 locations to save" in checked.text
    assert catalog.list_locations(ledger.conn, 10, 0) == []  # the check saved nothing
    saved = upload(client, "locations", text, confirm="1")
    assert saved.status_code == 302
    assert [x.code for x in catalog.list_locations(ledger.conn, 10, 0)] == ["A-01", "B-01"]


def test_an_import_with_bad_rows_names_each_line_and_saves_nothing(as_role, ledger):
    client = as_role("admin")
    text = "order,sku,qty\nSO-1,GHOST,1\nSO-2,,1\n"
    response = upload(client, "orders", text)
    assert response.status_code == 422
    errors = response.text.split('id="import-errors"')[1]
    assert ">3<" in errors and "unknown sku" not in errors  # row checks first: line 3
    response = upload(client, "orders", "order,sku,qty\nSO-1,GHOST,1\n", confirm="1")
    assert response.status_code == 422 and "unknown sku GHOST" in response.text
    assert store.order_get(ledger.conn, "SO-1") is None
    assert upload(client, "customers", text).status_code == 400
