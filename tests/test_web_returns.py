"""The returns API: return authorisations refused with the reason or created with their
label, and a quarantine hold lifted so its stock is available again."""

import msgspec
import pytest

from hub import catalog, orders
from protocol.events import Receipt, Shipment, ShipmentLine
from protocol.messages import Order, OrderLine, Product, Stock
from protocol.returns import Return, ReturnLine
from tests.webapp import TOKEN, TOPICS

pytestmark = pytest.mark.hub

BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(app):
    return app.test_client()


@pytest.fixture
def shipped(ledger):
    catalog.upsert_products(ledger.conn, TOPICS, [Product(sku="MUG", name="Mug")])
    ledger.apply(Receipt(sku="MUG", qty=5, location="A-1"), station="dock-1")
    orders.upsert_order(
        ledger.conn, TOPICS, Order(order="SO-1", lines=[OrderLine(sku="MUG", qty=2)])
    )
    ledger.apply(Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=2, location="A-1")]))
    return ledger


@pytest.mark.parametrize(("body", "status", "said"), [
    (b"{", 400, "body: "),
    (b'{"rma": "R 1", "order": "SO-1"}', 400, "$.rma"),
    (b'{"rma": "R-1", "order": "SO-1", "colour": "red"}', 400, "colour"),
    (b'{"rma": "R-1", "order": "SO-404"}', 404, "no order SO-404"),
    (b'{"rma": "R-1", "order": "SO-1", "lines": [{"sku": "MUG", "qty": 3}]}', 422,
     "MUG: 3 asked, 2 may come back"),
])  # fmt: skip
def test_a_bad_return_authorisation_is_refused_with_the_reason(api, shipped, body, status, said):
    response = api.post("/api/returns", data=body, headers=BEARER)
    assert response.status_code == status and said in response.json["error"]


def test_a_return_authorisation_gives_its_label_and_is_refused_twice(api, shipped):
    body = {"rma": "R-1", "order": "SO-1", "lines": [{"sku": "MUG", "qty": 1}], "note": "dent"}
    made = api.post("/api/returns", json=body, headers=BEARER)
    assert made.status_code == 201
    assert (made.json["label"], made.json["returnable"]) == ("RMA:R-1", [{"sku": "MUG", "qty": 1}])
    assert api.get("/api/returns/R-1", headers=BEARER).json["note"] == "dent"
    assert api.post("/api/returns", json=body, headers=BEARER).status_code == 409
    assert api.get("/api/returns/R-2", headers=BEARER).status_code == 404


def test_lifting_a_quarantine_hold_makes_its_stock_available(api, shipped):
    shipped.apply(Return(order="SO-1", lines=[ReturnLine(
        sku="MUG", qty=1, condition="damaged", reason="defective", location="Q-1")]),
        station="dock-1")  # fmt: skip
    rows = api.get("/api/reports/quarantine", headers=BEARER).json["rows"]
    assert [(r["location"], r["sku"], r["qty"]) for r in rows] == [("Q-1", "MUG", 1)]

    lifted = api.delete("/api/quarantine/Q-1", headers=BEARER)
    assert lifted.status_code == 200 and lifted.json["released"] == ["MUG"]
    assert api.get("/api/reports/quarantine", headers=BEARER).json["rows"] == []
    payload = shipped.conn.execute("SELECT payload FROM outbox WHERE topic = ? ORDER BY id DESC",
                                   (TOPICS.stock("MUG"),)).fetchone()[0]  # fmt: skip
    stock = msgspec.json.decode(bytes(payload), type=Stock)
    assert (stock.on_hand, stock.quarantined, stock.available) == (4, 0, 4)
    assert b"quarantined" not in bytes(payload)  # left out when 0, as a 1.2 hub sent it
    assert api.delete("/api/quarantine/Q-1", headers=BEARER).status_code == 404


def test_quarantined_stock_is_shown_apart_and_not_counted_available(api, shipped, as_role):
    orders.upsert_order(
        shipped.conn, TOPICS, Order(order="SO-2", lines=[OrderLine(sku="MUG", qty=1)])
    )
    shipped.apply(Return(order="SO-1", lines=[ReturnLine(
        sku="MUG", qty=2, condition="damaged", reason="defective", location="Q-1")]),
        station="dock-1")  # fmt: skip
    # On hand 5: 3 on the shelf, 2 in quarantine; 1 committed to SO-2.
    figures = ("on_hand", "committed", "quarantined", "available")
    (item,) = api.get("/api/stock?sku=MUG", headers=BEARER).json["stock"]
    assert [item[k] for k in figures] == [5, 1, 2, 2]
    listed = api.get("/api/stock", headers=BEARER).json["stock"]
    assert [(r["sku"], r["quarantined"], r["available"]) for r in listed] == [("MUG", 2, 2)]
    product = api.get("/api/products/MUG", headers=BEARER).json
    assert [product[k] for k in figures] == [5, 1, 2, 2]

    viewer = as_role("viewer")
    assert viewer.get("/stock.csv").text.splitlines() == ["sku,name,on_hand,quarantined",
                                                          "MUG,Mug,5,2"]  # fmt: skip
    page = viewer.get("/stock").text
    assert "<th>Quarantined</th>" in page
    found = api.get("/api/stock/search?q=MUG", headers=BEARER).json["stock"]
    assert [(r["on_hand"], r["quarantined"]) for r in found] == [(5, 2)]
