"""Printable labels: every barcode the hub prints is one the stations read, drawn as Code
128 SVG by the hub; anything else is refused with a reason."""

import re

import pytest

from hub import catalog
from protocol.labels import COMMAND_SHEET
from station.barcodes import Command, Location, Operator, OrderRef, Quantity, interpret
from tests.webapp import TOPICS

pytestmark = pytest.mark.hub


class NoCatalog:
    def product(self, sku):
        return None

    def product_by_gtin(self, gtin):
        return None

    def order(self, order):
        return None

    def purchase_order(self, po):
        return None


@pytest.fixture
def viewer(as_role):
    return as_role("viewer")


def shown_codes(html: str) -> list[str]:
    """The codes of the barcode images on a page (their alt text)."""
    return re.findall(r'<img src="/barcode.svg\?code=[^"]+" alt="([^"]+)"', html)


def test_every_command_on_the_sheet_is_a_command_the_stations_read(viewer):
    codes = shown_codes(viewer.get("/labels").text)
    assert [c for c in codes if c.startswith("CMD:")] == [code for code, _ in COMMAND_SHEET]
    for code in codes:
        meaning = interpret(code, "]C0", NoCatalog())
        assert isinstance(meaning, Command | Quantity), (code, meaning)


def test_a_barcode_is_an_svg_of_the_code(viewer):
    response = viewer.get("/barcode.svg?code=LOC:A-03-2")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.text
    assert svg.count("<rect") > 20 and ">LOC:A-03-2</text>" in svg


@pytest.mark.parametrize("code", ["", "LOC:a b", "HELLO:1", "CMD:FLY", "QTY:0",
                                  "LOC:<script>", "OP:" + "x" * 65, "ORD:é"])  # fmt: skip
def test_anything_but_our_labels_is_refused_with_a_reason(viewer, code):
    response = viewer.get("/barcode.svg", query_string={"code": code})
    assert response.status_code == 400
    assert "is not one of the warehouse" in response.text


def test_badges_orders_and_pos_print_as_the_stations_read_them(viewer):
    page = viewer.get("/labels/print?names=alice,bob&code=ORD:SO-1&code=PO:PO-7")
    codes = shown_codes(page.text)
    assert codes == ["ORD:SO-1", "PO:PO-7", "OP:alice", "OP:bob"]
    meanings = [interpret(code, "]C0", NoCatalog()) for code in codes]
    assert meanings[0] == OrderRef("SO-1") and meanings[2] == Operator("alice")
    assert "Operator badge alice" in page.text


def test_a_badge_name_that_cannot_be_scanned_is_refused(viewer):
    response = viewer.get("/labels/print?names=ann+b%C3%B6b")
    assert response.status_code == 400 and "letters, digits" in response.text


def test_location_labels_page_through_the_locations(viewer, ledger):
    catalog.save_locations(ledger.conn, [catalog.Location(code=f"A-{i:02d}") for i in range(5)])
    first = shown_codes(viewer.get("/labels/locations?limit=3").text)
    rest = shown_codes(viewer.get("/labels/locations?limit=3&offset=3").text)
    assert first + rest == [f"LOC:A-{i:02d}" for i in range(5)]
    assert all(isinstance(interpret(c, "]C0", NoCatalog()), Location) for c in first)


def test_the_order_page_links_its_barcode(viewer, ledger):
    from hub import orders
    from protocol.messages import Order, OrderLine

    catalog.upsert_products(ledger.conn, TOPICS, [catalog.ProductRecord(sku="MUG", name="Mug")])
    orders.upsert_order(ledger.conn, TOPICS, Order(order="SO-1", lines=[OrderLine(sku="MUG", qty=1)]))
    assert "/labels/print?code=ORD:SO-1" in viewer.get("/orders/SO-1").text


def test_other_systems_get_the_same_svg_with_a_token(app, viewer):
    bearer = {"Authorization": "Bearer test-token"}
    by_token = app.test_client().get("/api/barcode.svg?code=PO:PO-7", headers=bearer)
    assert by_token.status_code == 200 and by_token.data == viewer.get(
        "/barcode.svg?code=PO:PO-7").data
    assert app.test_client().get("/api/barcode.svg?code=PO:a%20b", headers=bearer).status_code \
        == 400
