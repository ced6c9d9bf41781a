"""Values from stations, CSV and MQTT are shown escaped; search text never becomes SQL;
download names never become paths."""

import msgspec
import pytest

from hub import catalog
from protocol.events import Receipt
from protocol.messages import Product, StationStatus
from tests.webapp import TOKEN, TOPICS

pytestmark = pytest.mark.hub

XSS = "<script>alert(1)</script>"


@pytest.fixture
def viewer(as_role):
    return as_role("viewer")


def test_a_product_name_with_a_script_tag_renders_escaped(ledger, viewer):
    catalog.upsert_products(ledger.conn, TOPICS, [Product(sku="EVIL-1", name=XSS)])
    ledger.apply(Receipt(sku="EVIL-1", qty=1, location="A-01"))
    for path in ("/stock?q=EVIL", "/products/EVIL-1", "/locations/A-01"):
        page = viewer.get(path).text
        assert XSS not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


def test_a_station_status_with_markup_renders_escaped(ledger, viewer):
    status = StationStatus(state="online", operator=XSS, devices={"<img src=x>": XSS})
    ledger.status("pack-1", msgspec.json.encode(status))
    for path in ("/", "/stations", "/stations/pack-1"):
        page = viewer.get(path).text
        assert XSS not in page and "<img src=x>" not in page, path


def test_chart_data_cannot_close_its_script_element(ledger, viewer):
    ledger.apply(Receipt(sku="MUG-1", qty=1, location="A-01"))
    page = viewer.get("/products/MUG-1").text
    series = page.split('id="series">')[1].split("</script>")[0]
    assert "<" not in series


@pytest.mark.parametrize("text", ["' OR 1=1 --", "%", "_", "MUG'; DROP TABLE balances; --",
                                  "\\", '" UNION SELECT name, password, 1 FROM users --'])
def test_search_text_is_data_not_sql(ledger, viewer, text):
    catalog.upsert_products(ledger.conn, TOPICS, [Product(sku="MUG-1", name="Mug")])
    ledger.apply(Receipt(sku="MUG-1", qty=3, location="A-01"))
    ledger.user("admin", "admin")
    response = viewer.get("/api/stock/search", query_string={"q": text})
    assert response.status_code == 200
    assert response.json["stock"] == []
    assert ledger.conn.execute("SELECT sum(qty) FROM balances").fetchone() == (3,)


@pytest.mark.parametrize("path", [
    "/reports/..%2F..%2Fetc%2Fpasswd.csv", "/reports/../../etc/passwd.csv",
    "/reports/%2Fetc%2Fpasswd.csv", "/reports/abc%00.csv", "/static/..%2F..%2Fstore.py",
])  # fmt: skip
def test_download_names_cannot_leave_their_folder(viewer, path):
    response = viewer.get(path)
    assert response.status_code in (400, 404)
    assert "root:" not in response.text and "def connect" not in response.text


def test_a_report_name_outside_the_list_is_not_found(viewer):
    assert viewer.get("/reports/passwd.csv").status_code == 404


def test_csv_cells_that_look_like_formulas_are_defused(ledger, viewer):
    catalog.upsert_products(ledger.conn, TOPICS, [Product(sku="F-1", name="=HYPERLINK(1)")])
    text = viewer.get("/stock.csv?q=F-1").text
    assert "'=HYPERLINK(1)" in text


@pytest.mark.parametrize(("method", "path", "kwargs", "named"), [
    ("post", "/api/suppliers",
     {"json": [{"supplier": "S-1", "name": "Acme\x00Ltd", "lead_time_days": 3}]},
     "body[0].name"),
    ("get", "/api/stock/search", {"query_string": {"q": "M\x00G"}}, "query.q"),
    ("get", "/api/stock/search", {"query_string": {"after": "A\x00"}}, "query.after"),
    ("get", "/api/products/MUG%00-1", {}, "path.sku"),
])  # fmt: skip
def test_a_nul_character_is_refused_alike_on_both_backends(app, method, path, kwargs, named):
    """PostgreSQL cannot store one and SQLite can: the API refuses it on both (400, as its
    document says), naming where it was, before anything is stored or searched."""
    api = app.test_client()
    answer = getattr(api, method)(path, headers={"Authorization": f"Bearer {TOKEN}"}, **kwargs)
    assert answer.status_code == 400, answer.text
    assert answer.json["error"].startswith(named) and "NUL" in answer.json["error"]


def test_a_csv_row_with_a_nul_character_is_refused_by_line(app):
    answer = app.test_client().post(
        "/api/suppliers.csv", data="supplier,name\nS-1,Acme\nS-2,Bad\x00Co\n",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv"},
    )  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert answer.json["rows"] == [
        {"line": 3, "reason": "column 'name' holds a NUL character (U+0000)"}
    ]


@pytest.mark.parametrize("note", ["\u0085", "\ufeff", "\x1f", " \u00a0\t"])
def test_a_note_of_only_blanks_is_refused_as_its_documented_pattern_says(app, note):
    """The pattern is checked by Python's `re` here and by ECMA-262 regexes in the OpenAPI
    document's readers, whose "whitespace" differ (U+0085 and U+001C-1F are blank only to
    Python, U+FEFF only to ECMA): a note blank to either is refused, so both agree."""
    answer = app.test_client().post(
        "/api/event-failures/dock-1/epoch-a/2/skip", json={"note": note},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert "note" in answer.json["error"]
