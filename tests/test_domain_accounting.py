"""The accountant's export on a worked example over four days, and sale prices becoming
revenue and margin."""

from datetime import UTC, date
from decimal import Decimal

import pytest

from hub import accounting, ledger, orders, reports, store
from hub.catalog import Supplier, save_suppliers
from hub.ingest import Incoming, Ingest
from protocol.envelope import decode_event, encode_event
from protocol.events import Adjustment, Move, Receipt, Shipment, ShipmentLine
from protocol.messages import Order, OrderLine
from tests.domain_helpers import TOPICS, TS, open_ledger, products, reverse

pytestmark = pytest.mark.hub


class Days:
    """Applies station events through the real ledger with the hub's clock set to a given
    day (the ingest stamps today): periods before and after need other days."""

    def __init__(self, conn) -> None:
        self.conn, self.seq = conn, 0

    def on(self, day: str, *events) -> None:
        with store.transaction(self.conn):
            effects = ledger.Effects()
            for data in events:
                self.seq += 1
                event = decode_event(encode_event("st-1", "e1", self.seq, data, TS))
                ledger.apply_event(self.conn, TOPICS, event, f"{day}T12:00:00+00:00",
                                   effects, UTC)  # fmt: skip
            ledger.finish(self.conn, TOPICS, effects)  # what the change kept in memory


def _order(conn, order_id: str, *lines: OrderLine) -> None:
    orders.upsert_order(conn, TOPICS, Order(order=order_id, lines=list(lines)))


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "2"},
             {"sku": "VASE", "name": "Vase", "owner": "artisan", "consignment_pct": "40"})
    yield conn
    conn.close()


def test_the_export_ties_the_opening_value_to_the_closing_value(conn):
    """Worked by hand (period 2026-03-02 to 2026-03-03; MUG's fallback cost is 2.00):

    03-01  receipt 10 MUG @ 3.00 at A-1: +30.00; 2 VASE (consigned, not ours)
           opening value of the period = 30.00
    03-02  SO-1 ships 4 MUG from A-1: -12.00 (COGS) and 1 VASE at 50.00: owed 40 % = 20.00
           1 MUG damaged at A-1: -3.00 (adjustments)
           SO-2 ships 7 MUG from B-1, where there is none: a deficit at 2.00: -14.00
    03-03  receipt 12 MUG @ 5.00 at B-1: at cost +60.00; it settles the 7 of the deficit,
           whose true cost is 3.00 more each: a true-up row of -21.00 into COGS
           (stock rises 7 x 2.00 + 5 x 5.00 = 39.00 = 60.00 - 21.00)
           move 2 MUG A-1 -> C-1: -6.00 and +6.00 (transfers, 0 net)
    03-04  receipt 1 MUG @ 4.00 (after the period)

    receipts 60.00, COGS -12 - 14 - 21 = -47.00, adjustments -3.00, transfers 0.00:
    30.00 + 10.00 = 40.00 closing = A-1 3 x 3.00 + C-1 2 x 3.00 + B-1 5 x 5.00.
    """
    _order(conn, "SO-1", OrderLine(sku="MUG", qty=4, unit_price=Decimal("10")),
           OrderLine(sku="VASE", qty=1, unit_price=Decimal("50")))  # fmt: skip
    _order(conn, "SO-2", OrderLine(sku="MUG", qty=7))
    days = Days(conn)
    days.on("2026-03-01", Receipt(sku="MUG", qty=10, location="A-1", unit_cost=Decimal("3")),
            Receipt(sku="VASE", qty=2, location="A-1"))  # fmt: skip
    days.on("2026-03-02",
            Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=4, location="A-1"),
                                          ShipmentLine(sku="VASE", qty=1, location="A-1")]),
            Adjustment(sku="MUG", qty=-1, location="A-1", reason="damaged"),
            Shipment(order="SO-2", lines=[ShipmentLine(sku="MUG", qty=7, location="B-1")]))  # fmt: skip
    days.on("2026-03-03", Receipt(sku="MUG", qty=12, location="B-1", unit_cost=Decimal("5")),
            Move(sku="MUG", qty=2, from_="A-1", to="C-1"))  # fmt: skip
    days.on("2026-03-04", Receipt(sku="MUG", qty=1, location="A-1", unit_cost=Decimal("4")))

    period, totals = accounting.Period(date(2026, 3, 2), date(2026, 3, 3)), accounting.Totals()
    rows = list(accounting.postings(conn, period, totals))
    summary = accounting.summary(conn, period, totals)

    posted = [(r["date"], r["type"], r["category"], r["sku"], r["location"], r["owner"],
               r["qty"], r["unit_cost"], r["value"]) for r in rows]  # fmt: skip
    d = Decimal
    assert posted == [
        ("2026-03-02", "shipment", "cogs", "MUG", "A-1", "", -4, d("3"), d("-12")),
        ("2026-03-02", "shipment", "cogs", "VASE", "A-1", "artisan", -1, None, d("0")),
        ("2026-03-02", "adjustment", "adjustments", "MUG", "A-1", "", -1, d("3"), d("-3")),
        ("2026-03-02", "shipment", "cogs", "MUG", "B-1", "", -7, d("2"), d("-14")),
        ("2026-03-03", "receipt", "receipts", "MUG", "B-1", "", 12, d("5"), d("60")),
        ("2026-03-03", "true_up", "cogs", "MUG", "B-1", "", 0, None, d("-21")),
        ("2026-03-03", "move", "transfers", "MUG", "A-1", "", -2, d("3"), d("-6")),
        ("2026-03-03", "move", "transfers", "MUG", "C-1", "", 2, d("3"), d("6")),
    ]
    assert summary["opening_value"] == "30.00" and summary["closing_value"] == "40.00"
    assert summary["categories"] == {"receipts": "60.00", "cogs": "-47.00",
                                     "adjustments": "-3.00", "returns": "0.00",
                                     "transfers": "0.00", "kitting": "0.00",
                                     "corrections": "0.00"}  # fmt: skip
    assert summary["postings_value"] == "10.00" and summary["balanced"] is True
    assert summary["consignment_owed_by_owner"] == {"artisan": "20.00"}
    assert summary["postings"] == 7 and summary["unvalued_postings"] == 0


def test_sale_prices_become_revenue_and_margin_and_a_reversal_takes_them_back(conn):
    """SO-1: 3 MUG @ 10.00 (cost 3.00) and a kit line BOX @ 25.00 built from 2 MUG: 1 kit
    shipped, 2 MUG at 3.00 = 6.00. Revenue 30 + 25 = 55; COGS 9 + 6 = 15; margin 40,
    72.73 %. Per sku: MUG 30 - 9 = 21, BOX 25 - 6 = 19 (the kit carries its parts' cost,
    which MUG does not count again)."""
    products(conn, {"sku": "BOX", "name": "Gift box", "kit": [{"sku": "MUG", "qty": 2}]})
    _order(conn, "SO-1", OrderLine(sku="MUG", qty=3, unit_price=Decimal("10")),
           OrderLine(sku="BOX", qty=1, unit_price=Decimal("25")))  # fmt: skip
    days = Days(conn)
    today = date.today().isoformat()
    days.on(today, Receipt(sku="MUG", qty=10, location="A-1", unit_cost=Decimal("3")))
    days.on(today, Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=5, location="A-1")]))

    q = reports.Query(today=date.today(), since=date.today(), until=date.today())

    def kpis() -> dict:
        return {(r["kpi"], r["scope"]): r["value"] for r in reports.kpis(conn, q).rows}

    def margins() -> dict:
        return {r["sku"]: r for r in reports.margins(conn, q).rows}

    kpi = kpis()
    assert kpi[("revenue", "")] == "55.00" and kpi[("cogs", "")] == "15.00"
    assert kpi[("gross_margin", "")] == "40.00" and kpi[("margin_pct", "")] == 72.73
    assert kpi[("revenue", f"day:{today}")] == "55.00"
    per_sku = margins()
    assert [(per_sku[sku]["revenue"], per_sku[sku]["cogs"], per_sku[sku]["gross_margin"])
            for sku in ("MUG", "BOX")] == [("30.00", "9.00", "21.00"), ("25.00", "6.00", "19.00")]  # fmt: skip
    assert per_sku["BOX"]["margin_pct"] == 76.0 and per_sku["BOX"]["class"] is None
    assert kpi[("revenue", "class:-")] == "55.00"  # no ABC classes computed yet
    assert not [scope for _kpi, scope in kpi if scope.startswith("sku:")]  # the margins report's
    shipment = store.movements_latest(conn, 1)[0]["id"]
    reverse(conn, shipment)
    kpi = kpis()
    assert kpi[("revenue", "")] == "0.00" and kpi[("gross_margin", "")] == "0.00"
    assert all(margins().get(sku, {}).get(k) in (None, "0.00") for sku in ("MUG", "BOX")
               for k in ("revenue", "cogs"))  # fmt: skip


def test_intake_orders_carry_a_sale_price_and_old_publishers_keep_working(conn):
    ingest = Ingest(conn, TOPICS)
    priced = b'{"order":"SO-7","lines":[{"sku":"MUG","qty":2,"unit_price":"9.95"}]}'
    plain = b'{"order":"SO-8","lines":[{"sku":"MUG","qty":1}]}'
    negative = b'{"order":"SO-9","lines":[{"sku":"MUG","qty":1,"unit_price":"-1"}]}'
    ingest.process([Incoming(TOPICS.order_intake, body) for body in (priced, plain, negative)])
    assert orders.get_order(conn, "SO-7").lines[0].unit_price == Decimal("9.95")
    assert orders.get_order(conn, "SO-8").lines[0].unit_price is None
    assert orders.get_order(conn, "SO-9") is None
    (dead,) = store.dead_letters(conn)
    assert "unit_price" in dead["reason"]


def test_a_dropship_sale_earns_its_price_and_costs_its_purchase_order_line(conn):
    """SO-D: 3 MUG dropship at 10.00, bought from acme at 6.00 (its supplier cost), and
    1 MUG from the bench at 10.00 (cost 3.00). Confirmed on 03-05: revenue 30 + 10 = 40,
    COGS 3 (the ledger's), dropship cost 18, margin 19 (47.5 %); the export lists the
    dropship sale after the postings, apart from the stock's values."""
    with store.transaction(conn):
        save_suppliers(conn, [Supplier(supplier="acme", name="Acme")])
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "2",
                    "suppliers": [{"supplier": "acme", "unit_cost": "6"}]})  # fmt: skip
    _order(conn, "SO-D", OrderLine(sku="MUG", qty=3, dropship=True, unit_price=Decimal("10")),
           OrderLine(sku="MUG", qty=1, unit_price=Decimal("10")))  # fmt: skip
    (po,) = [r.po for r in store.order_lines(conn, "SO-D") if r.role == "dropship"]
    days = Days(conn)
    days.on("2026-03-05", Receipt(sku="MUG", qty=5, location="A-1", unit_cost=Decimal("3")),
            Shipment(order="SO-D", lines=[ShipmentLine(sku="MUG", qty=1, location="A-1")]))
    with store.transaction(conn):
        orders.confirm_dropship(conn, TOPICS, po, "2026-03-05T15:00:00+00:00", "2026-03-05")

    q = reports.Query(today=date(2026, 3, 5), since=date(2026, 3, 5), until=date(2026, 3, 5))
    kpi = {(r["kpi"], r["scope"]): r["value"] for r in reports.kpis(conn, q).rows}
    figures = ("revenue", "cogs", "dropship_cost", "gross_margin", "margin_pct")
    assert [kpi[(f, "")] for f in figures] == ["40.00", "3.00", "18.00", "19.00", 47.5]
    (mug,) = reports.margins(conn, q).rows
    assert [mug[f] for f in figures] == ["40.00", "3.00", "18.00", "19.00", 47.5]
    assert [kpi[(f, "day:2026-03-05")] for f in figures[:3]] == ["40.00", "3.00", "18.00"]

    period, totals = accounting.Period(date(2026, 3, 5), date(2026, 3, 5)), accounting.Totals()
    rows = list(accounting.rows(conn, period, totals))
    summary = accounting.summary(conn, period, totals)
    assert [(r["type"], r["sku"], r["qty"], r["unit_cost"], r.get("value"), r.get("order"),
             r.get("po"), r.get("revenue"), r.get("cost")) for r in rows[-1:]] == [
        ("dropship_sale", "MUG", -3, Decimal(6), None, "SO-D", po, Decimal(30), Decimal(18))]
    assert summary["dropship"] == {"sales": 1, "revenue": "30.00", "cost": "18.00",
                                   "uncosted_sales": 0}  # fmt: skip
    assert summary["balanced"] is True and summary["postings_value"] == "12.00"
