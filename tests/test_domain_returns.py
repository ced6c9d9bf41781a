"""Customer returns in the ledger: stock back at the cost it left with, quarantine held
from orders, scrap written off, RMAs, what stations are told may come back, and the
reports."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from hub import corrections, orders, planning, reports, returns, settings, store
from protocol.events import Receipt, Shipment, ShipmentLine
from protocol.messages import Order, OrderLine, Stock
from protocol.returns import AppliedReturn, Return, Returnable, ReturnLine
from tests.domain_helpers import TOPICS, Feed, open_ledger, products, reverse

pytestmark = pytest.mark.hub


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "9"},
             {"sku": "PHONE", "name": "Phone", "serial_tracked": True})  # fmt: skip
    Feed(conn, station="dock")(
        Receipt(sku="MUG", qty=10, location="A-1", unit_cost=Decimal("2.50")),
        Receipt(sku="PHONE", qty=2, location="P-1", unit_cost=Decimal("100")),
    )
    orders.upsert_order(conn, TOPICS, Order(order="SO-1", customer="Acme", lines=[
        OrderLine(sku="MUG", qty=3), OrderLine(sku="PHONE", qty=2)]))  # fmt: skip
    Feed(conn, station="pack")(Shipment(order="SO-1", lines=[
        ShipmentLine(sku="MUG", qty=3, location="A-1"),
        ShipmentLine(sku="PHONE", qty=2, location="P-1", serials=["SN-1", "SN-2"]),
    ]))  # fmt: skip
    yield conn
    conn.close()


def retained(conn, topic: str) -> bytes | None:
    row = conn.execute("SELECT payload FROM outbox WHERE topic = ? ORDER BY id DESC LIMIT 1",
                       (topic,)).fetchone()  # fmt: skip
    return None if row is None else bytes(row[0])


def balances(conn) -> dict[tuple[str, str], int]:
    rows = conn.execute("SELECT sku, location, sum(qty) FROM balances GROUP BY 1, 2")
    return {(sku, loc): qty for sku, loc, qty in rows}


def today_query() -> reports.Query:
    today = datetime.now(UTC).date()
    return reports.Query(today=today, since=today, until=today)


def kpis(conn) -> dict:
    return {r["kpi"]: r["value"] for r in reports.kpis(conn, today_query()).rows
            if r["scope"] == ""}  # fmt: skip


RETURN = Return(order="SO-1", operator="rita", lines=[
    ReturnLine(sku="MUG", qty=1, condition="resellable", reason="not_wanted", location="A-1"),
    ReturnLine(sku="MUG", qty=1, condition="damaged", reason="defective", location="QUARANTINE"),
    ReturnLine(sku="PHONE", qty=1, condition="scrap", reason="damaged_in_transit",
               location="DOCK", serials=["SN-2"]),
])  # fmt: skip


def test_a_shipped_order_tells_the_stations_what_may_come_back(conn):
    found = msgspec.json.decode(retained(conn, TOPICS.returnable("SO-1")), type=Returnable)
    assert (found.order, found.customer) == ("SO-1", "Acme")
    assert [(x.sku, x.qty, x.shipped, x.location, x.serials) for x in found.lines] == [
        ("MUG", 3, 3, "A-1", []), ("PHONE", 2, 2, "P-1", ["SN-1", "SN-2"])]  # fmt: skip


def test_a_return_books_stock_back_at_its_cost_quarantines_and_writes_off(conn):
    before = kpis(conn)["cogs"]
    Feed(conn, station="dock-2")(RETURN)

    assert balances(conn) == {("MUG", "A-1"): 8, ("MUG", "QUARANTINE"): 1, ("PHONE", "P-1"): 0}
    # COGS of 3 mugs (7.50) and 2 phones (200) less the two mugs back at 2.50 each.
    assert (before, kpis(conn)["cogs"]) == ("207.50", "202.50")
    assert store.layer_value(conn, "MUG", "QUARANTINE", "") == (1, 2_500_000)
    # Quarantine is on hand, but neither available nor a pick location.
    stock = msgspec.json.decode(retained(conn, TOPICS.stock("MUG")), type=Stock)
    assert (stock.on_hand, stock.available) == (9, 8)
    assert store.pick_location(conn, "MUG") == "A-1"
    # For the systems that refund: each line with its value.
    booked = msgspec.json.decode(retained(conn, TOPICS.returns), type=AppliedReturn)
    assert [(x.sku, x.condition, x.value) for x in booked.lines] == [
        ("MUG", "resellable", Decimal("2.50")), ("MUG", "damaged", Decimal("2.50")),
        ("PHONE", "scrap", Decimal("100.00"))]  # fmt: skip
    # What may still come back: 1 mug, and the phone whose serial did not come back.
    left = msgspec.json.decode(retained(conn, TOPICS.returnable("SO-1")), type=Returnable)
    assert [(x.sku, x.qty, x.serials) for x in left.lines] == [
        ("MUG", 1, []),
        ("PHONE", 1, ["SN-1"]),
    ]


def test_returns_reports_and_kpis(conn):
    Feed(conn, station="dock-2")(RETURN)
    rows = reports.returns(conn, today_query()).rows
    assert [(r["sku"], r["reason"], r["condition"], r["returned"], r["shipped"],
             r["return_rate"], r["value"]) for r in rows] == [
        ("MUG", "defective", "damaged", 1, 3, 0.3333, "2.50"),
        ("MUG", "not_wanted", "resellable", 1, 3, 0.3333, "2.50"),
        ("PHONE", "damaged_in_transit", "scrap", 1, 2, 0.5, "100.00"),
    ]  # fmt: skip
    held = reports.quarantine(conn, today_query()).rows
    assert held == [{"location": "QUARANTINE", "sku": "MUG", "lot": "", "owner": "", "qty": 1}]
    kpi = kpis(conn)
    assert (kpi["units_returned"], kpi["return_rate"], kpi["returns_written_off"]) == (
        3, 0.6, "100.00")  # fmt: skip


def test_quarantined_stock_is_out_of_the_reorder_position_and_the_low_stock_figures(conn):
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "9", "reorder_point": 7,
                    "par_level": 20})  # fmt: skip
    today = datetime.now(UTC).date()
    planning.refresh_reorder(conn, today, f"{today}T00:00:00+00:00")
    Feed(conn, station="dock-2")(Return(order="SO-1", lines=[ReturnLine(
        sku="MUG", qty=2, condition="damaged", reason="defective", location="QUARANTINE")]))
    # 9 on hand, 2 of them held: a position of 7, at the reorder point, so due.
    plan = planning.plan(conn, "MUG", today, settings.load(conn))
    assert (plan.on_hand, plan.quarantined, plan.position, plan.due, plan.order_qty) == (
        9, 2, 7, True, 13)  # fmt: skip
    stored, _ = planning.stored_reorder_page(conn, today, "", 10, due_only=True)
    assert [(p.quarantined, p.position) for p in stored if p.sku == "MUG"] == [(2, 7)]
    assert store.reorder_plan_get(conn, "MUG")[0] == 1  # the due flag followed the return
    planning.refresh_reorder(conn, today, f"{today}T01:00:00+00:00")
    assert store.reorder_plan_get(conn, "MUG")[0] == 1
    low = planning.low_stock(conn, today, "", 10)
    assert [(r["on_hand"], r["quarantined"], r["available"]) for r in low if r["sku"] == "MUG"] == [
        (9, 2, 7)]  # fmt: skip


def test_a_new_quarantine_holds_what_else_lies_there_and_its_orders_pick_elsewhere(conn):
    products(conn, {"sku": "CUP", "name": "Cup"})
    Feed(conn, station="dock-3")(Receipt(sku="CUP", qty=4, location="BIN-9"),
                                 Receipt(sku="CUP", qty=1, location="C-2"))  # fmt: skip
    orders.upsert_order(conn, TOPICS, Order(order="SO-3", lines=[OrderLine(sku="CUP", qty=2)]))
    sent = msgspec.json.decode(retained(conn, TOPICS.order("SO-3")), type=Order)
    assert sent.lines[0].location == "BIN-9"

    Feed(conn, station="dock-2")(Return(order="SO-1", lines=[ReturnLine(
        sku="MUG", qty=1, condition="damaged", reason="defective", location="BIN-9")]))
    sent = msgspec.json.decode(retained(conn, TOPICS.order("SO-3")), type=Order)
    assert sent.lines[0].location == "C-2"
    cup = msgspec.json.decode(retained(conn, TOPICS.stock("CUP")), type=Stock)
    assert (cup.on_hand, cup.committed, cup.quarantined, cup.available) == (5, 2, 4, -1)


def test_everything_back_empties_the_returnable_and_more_raises_an_alert(conn):
    Feed(conn, station="dock-2")(Return(order="SO-1", lines=[
        ReturnLine(sku="MUG", qty=4, condition="resellable", reason="other", location="A-1"),
        ReturnLine(sku="PHONE", qty=2, condition="resellable", reason="other", location="P-1",
                   serials=["SN-1", "SN-2"]),
    ]))  # fmt: skip
    assert retained(conn, TOPICS.returnable("SO-1")) == b""
    assert balances(conn)[("MUG", "A-1")] == 11
    kinds = [a["kind"] for a in store.alerts_open(conn)]
    assert "return_not_shipped" in kinds


def test_an_rma_limits_what_may_come_back_and_is_checked(conn):
    def create(body: dict) -> dict:
        with store.transaction(conn):
            rma = msgspec.convert(body, returns.RmaIn)
            return returns.create_rma(conn, TOPICS, rma, "2026-03-02T10:00:00+00:00")

    made = create({"rma": "R-1", "order": "SO-1", "lines": [{"sku": "MUG", "qty": 2}]})
    assert made["label"] == "RMA:R-1" and made["returnable"] == [{"sku": "MUG", "qty": 2}]
    found = msgspec.json.decode(retained(conn, TOPICS.returnable("R-1")), type=Returnable)
    assert (found.rma, [(x.sku, x.qty) for x in found.lines]) == ("R-1", [("MUG", 2)])
    with pytest.raises(returns.ReturnConflict):
        create({"rma": "R-1", "order": "SO-1"})
    with pytest.raises(returns.ReturnNotFound):
        create({"rma": "R-2", "order": "SO-404"})
    with pytest.raises(returns.ReturnError, match="TEA was not shipped"):
        create({"rma": "R-3", "order": "SO-1", "lines": [{"sku": "TEA", "qty": 1}]})
    with pytest.raises(returns.ReturnError, match="4 asked, 3 may come back"):
        create({"rma": "R-4", "order": "SO-1", "lines": [{"sku": "MUG", "qty": 4}]})

    Feed(conn, station="dock-2")(
        Return(
            order="SO-1",
            rma="R-1",
            lines=[
                ReturnLine(sku="MUG", qty=2, condition="resellable", reason="other", location="A-1")
            ],
        )
    )
    assert retained(conn, TOPICS.returnable("R-1")) == b""
    left = msgspec.json.decode(retained(conn, TOPICS.returnable("SO-1")), type=Returnable)
    assert [(x.sku, x.qty) for x in left.lines] == [("MUG", 1), ("PHONE", 2)]


def test_the_return_window_closes_an_old_order_to_returns_but_an_rma_reopens_it(conn):
    assert retained(conn, TOPICS.returnable("SO-1")) != b""
    (closed,) = conn.execute("SELECT closed FROM orders WHERE order_id = 'SO-1'").fetchone()
    shipped = datetime.fromisoformat(closed).date()
    with store.transaction(conn):
        assert returns.close_window(conn, TOPICS, shipped + timedelta(days=60), 60) == 0
        assert returns.close_window(conn, TOPICS, shipped + timedelta(days=61), 60) == 1
        assert returns.close_window(conn, TOPICS, shipped + timedelta(days=62), 60) == 0
    assert retained(conn, TOPICS.returnable("SO-1")) == b""
    with store.transaction(conn):
        returns.create_rma(conn, TOPICS, returns.RmaIn(rma="R-9", order="SO-1"), "now")
    assert msgspec.json.decode(retained(conn, TOPICS.returnable("R-9")), type=Returnable).lines


def test_a_customer_return_is_corrected_by_an_adjustment_not_reversed(conn):
    Feed(conn, station="dock-2")(RETURN)
    (movement,) = conn.execute("SELECT id FROM movements WHERE type = 'return' LIMIT 1").fetchone()
    with pytest.raises(corrections.CorrectionError, match="customer return"):
        reverse(conn, movement)
