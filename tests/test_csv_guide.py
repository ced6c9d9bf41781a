"""The Import page explains every column of every kind and offers a template for each,
from csvio's column lists and csvguide's one set of descriptions: a template downloaded
from the page imports as it is, in the order a new site imports its files."""

import csv
import io

import pytest

from hub import catalog, csvguide, csvio, store
from tests.test_web_domain_pages import upload

pytestmark = pytest.mark.hub


def test_every_import_column_is_described_and_nothing_else_is():
    for kind in csvio.IMPORT_KINDS:
        names, _required = csvio.IMPORTS[kind]
        assert list(csvguide.DESCRIPTIONS[kind]) == names, kind
    assert set(csvguide.DESCRIPTIONS) == set(csvio.IMPORT_KINDS) == set(csvio.IMPORT_ORDER)


def test_the_import_page_explains_each_column_and_links_its_template(as_role):
    page = as_role("admin").get("/import").text
    for kind, columns in csvguide.DESCRIPTIONS.items():
        section = page.split(f'id="guide-{kind}"')[1].split("</section>")[0]
        assert f'href="/import/{kind}-template.csv"' in section
        for name, (meaning, _example) in columns.items():
            assert f"<code>{name}</code>" in section
            assert str(meaning).replace(",", "") in section.replace(",", "").replace("&#39;", "'")
    assert "<td><code>sku</code></td><td>yes</td>" in page


def test_each_template_imports_as_it_is_on_a_new_hub(as_role, ledger):
    client = as_role("admin")
    for kind in csvio.IMPORT_ORDER:
        response = client.get(f"/import/{kind}-template.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == csvio.IMPORTS[kind][0] and len(rows) == 2
        saved = upload(client, kind, response.text, confirm="1")
        assert saved.status_code == 302, (kind, saved.text[:2000])
    assert catalog.get_record(ledger.conn, "MUG-WHT").suppliers[0].supplier == "acme"
    assert store.order_get(ledger.conn, "SO-1001") is not None
    assert store.po_get(ledger.conn, "PO-2001").supplier == "acme"


def test_an_unknown_template_is_a_404_that_names_the_kinds(as_role):
    response = as_role("admin").get("/import/customers-template.csv")
    assert response.status_code == 404 and "purchase-orders" in response.text
