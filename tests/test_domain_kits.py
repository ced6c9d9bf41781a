"""Kits as stock items of their own: shipped whole (from kit stock, or backflushed from
their parts when none is booked), and what that does to the order and the KPIs."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hub import kits, orders, reports, store
from protocol import limits
from protocol.events import Adjustment, Receipt, Shipment, ShipmentLine
from protocol.messages import Order, OrderLine
from protocol.returns import Assembly, AssemblyPart
from tests.domain_helpers import TOPICS, Feed, open_ledger, products

pytestmark = pytest.mark.hub


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    products(
        conn,
        {"sku": "MUG", "name": "Mug", "unit_cost": "2"},
        {"sku": "TEA", "name": "Tea", "unit_cost": "1"},
        {"sku": "GIFT", "name": "Gift box", "kit": [{"sku": "MUG", "qty": 2},
                                                    {"sku": "TEA", "qty": 1}]},
    )  # fmt: skip
    Feed(conn, station="dock")(
        Receipt(sku="MUG", qty=10, location="A-1", unit_cost=Decimal("2.50")),
        Receipt(sku="TEA", qty=5, location="B-1", unit_cost=Decimal("1.20")),
    )
    orders.upsert_order(conn, TOPICS, Order(order="SO-K", lines=[OrderLine(sku="GIFT", qty=1)]))
    yield conn
    conn.close()


def balances(conn) -> dict[tuple[str, str], int]:
    rows = conn.execute("SELECT sku, location, sum(qty) FROM balances GROUP BY 1, 2")
    return {(sku, loc): qty for sku, loc, qty in rows}


def kpi(conn, name: str):
    today = datetime.now(UTC).date()
    report = reports.kpis(conn, reports.Query(today=today, since=today, until=today))
    return {r["kpi"]: r["value"] for r in report.rows if r["scope"] == ""}[name]


def alert_kinds(conn) -> list[str]:
    return sorted(a["kind"] for a in store.alerts_open(conn) if a["kind"] != "low_stock")


def test_a_kit_packed_whole_without_kit_stock_is_backflushed_from_its_parts(conn):
    Feed(conn)(Shipment(order="SO-K", lines=[ShipmentLine(sku="GIFT", qty=1, location="PACK")]))

    assert store.order_get(conn, "SO-K")[0] == "shipped"
    rows = {r.sku: (r.shipped, r.short) for r in store.order_lines(conn, "SO-K")}
    assert rows == {"GIFT": (1, 0), "MUG": (2, 0), "TEA": (1, 0)}
    assert kpi(conn, "fill_rate") == 1.0  # 3 of 3 units
    # The parts left their pick locations; the kit came and went at the bench.
    assert balances(conn) == {("MUG", "A-1"): 8, ("TEA", "B-1"): 4, ("GIFT", "PACK"): 0}
    assert alert_kinds(conn) == ["kit_backflushed"]
    # COGS: the kit at its parts' cost (2 x 2.50 + 1.20), booked once.
    assert kpi(conn, "cogs") == "6.20"
    types = conn.execute("SELECT type, sku, delta FROM movements WHERE event_id = "
                         "(SELECT max(id) FROM events) ORDER BY id").fetchall()  # fmt: skip
    assert types == [("assembly", "MUG", -2), ("assembly", "TEA", -1), ("assembly", "GIFT", 1),
                     ("shipment", "GIFT", -1)]  # fmt: skip


def test_a_kit_packed_whole_from_kit_stock_leaves_the_parts_alone(conn):
    Feed(conn, station="dock-2")(Receipt(sku="GIFT", qty=2, location="K-1", unit_cost=Decimal("7")))
    Feed(conn)(Shipment(order="SO-K", lines=[ShipmentLine(sku="GIFT", qty=1, location="K-1")]))

    assert store.order_get(conn, "SO-K")[0] == "shipped"
    assert balances(conn) == {("MUG", "A-1"): 10, ("TEA", "B-1"): 5, ("GIFT", "K-1"): 1}
    assert alert_kinds(conn) == []
    assert kpi(conn, "cogs") == "7.00" and kpi(conn, "fill_rate") == 1.0


def test_kit_parts_packed_one_by_one_still_ship_the_kit_line(conn):
    Feed(conn)(
        Shipment(
            order="SO-K",
            lines=[
                ShipmentLine(sku="MUG", qty=2, location="A-1"),
                ShipmentLine(sku="TEA", qty=1, location="B-1"),
            ],
        )
    )
    rows = {r.sku: (r.shipped, r.short) for r in store.order_lines(conn, "SO-K")}
    assert rows == {"GIFT": (1, 0), "MUG": (2, 0), "TEA": (1, 0)}
    assert store.order_get(conn, "SO-K")[0] == "shipped"
    assert kpi(conn, "cogs") == "6.20"


def test_a_short_kit_line_is_short_in_its_parts(conn):
    orders.upsert_order(conn, TOPICS, Order(order="SO-2", lines=[OrderLine(sku="GIFT", qty=3)]))
    Feed(conn)(Shipment(order="SO-2", lines=[
        ShipmentLine(sku="GIFT", qty=1, location="PACK"),
        ShipmentLine(sku="MUG", qty=2, location="A-1"), ShipmentLine(sku="TEA", qty=1,
                                                                     location="B-1"),
        ShipmentLine(sku="GIFT", qty=0, location="PACK", short=1, short_reason="out_of_stock"),
    ]))  # fmt: skip
    rows = {r.sku: (r.shipped, r.short) for r in store.order_lines(conn, "SO-2")}
    assert rows == {"GIFT": (2, 1), "MUG": (4, 2), "TEA": (2, 1)}
    assert store.order_get(conn, "SO-2")[0] == "short"
    assert kpi(conn, "fill_rate") == round(6 / 9, 4)


def test_kits_built_at_the_bench_carry_their_parts_cost_and_come_apart_at_it(conn):
    feed = Feed(conn, station="bench")
    feed(Assembly(kit="GIFT", qty=2, location="K-1", parts=[
        AssemblyPart(sku="MUG", qty=4, location="A-1"),
        AssemblyPart(sku="TEA", qty=2, location="B-1")]))  # fmt: skip
    assert balances(conn) == {("MUG", "A-1"): 6, ("TEA", "B-1"): 3, ("GIFT", "K-1"): 2}
    assert store.layer_value(conn, "GIFT", "K-1", "") == (2, 2 * 6_200_000)
    assert kpi(conn, "cogs") == "0.00"  # building kits sells nothing

    feed(Assembly(kit="GIFT", qty=1, location="K-1", disassembly=True, parts=[
        AssemblyPart(sku="MUG", qty=2, location="A-1"),
        AssemblyPart(sku="TEA", qty=1, location="B-1")]))  # fmt: skip
    assert balances(conn) == {("MUG", "A-1"): 8, ("TEA", "B-1"): 4, ("GIFT", "K-1"): 1}
    # The kit's 6.20 shared by the parts' unit costs (2 x 2 + 1 x 1): 4.96 and 1.24.
    assert store.layer_value(conn, "MUG", "A-1", "")[1] == 6 * 2_500_000 + 4_960_000
    assert store.layer_value(conn, "TEA", "B-1", "")[1] == 3 * 1_200_000 + 1_240_000
    types = {t for (t,) in conn.execute("SELECT type FROM movements WHERE event_id = "
                                        "(SELECT max(id) FROM events)")}  # fmt: skip
    assert types == {"disassembly"}


@pytest.mark.parametrize("disassembly", [False, True])
def test_a_unit_worth_more_than_any_price_is_capped_and_the_ledger_goes_on(conn, disassembly):
    # A million parts at the highest price in one kit, then a million of those kits found:
    # unbounded, 10^23 micros overflowed SQLite's integers and held the station for ever.
    most = limits.MONEY.most
    products(conn, {"sku": "BIG", "name": "Big part", "unit_cost": f"{most:f}"},
             {"sku": "CRATE", "name": "Crate", "kit": [{"sku": "BIG", "qty": 1}]})  # fmt: skip
    feed = Feed(conn, station="bench")
    feed(Receipt(sku="BIG", qty=limits.QTY_MAX, location="A-9", unit_cost=most))
    feed(Assembly(kit="CRATE", qty=1, location="K-9",
                  parts=[AssemblyPart(sku="BIG", qty=limits.QTY_MAX, location="A-9")]))  # fmt: skip
    found, capped = ("BIG", "A-9") if disassembly else ("CRATE", "K-9")
    if disassembly:  # the crate's whole value back into one part
        feed(Assembly(kit="CRATE", qty=1, location="K-9", disassembly=True,
                      parts=[AssemblyPart(sku="BIG", qty=1, location="A-9")]))  # fmt: skip
    feed(Adjustment(sku=found, qty=limits.QTY_MAX, location=capped, reason="found"))

    unit_costs = {c for (c,) in conn.execute("SELECT unit_cost FROM cost_layers")}
    assert max(unit_costs) <= kits.UNIT_COST_MAX
    assert "unit_cost_capped" in alert_kinds(conn)
    assert store.check_ledger(conn) == [] and store.check_layers(conn) == []
