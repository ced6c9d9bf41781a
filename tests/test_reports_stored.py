"""The stored reports (dead stock, surplus, reorder): the housekeeping computes their rows
once a day, pages read them and say when they were computed; other days and changed
settings are computed from the ledger."""

from datetime import UTC, datetime, timedelta

import pytest

from hub import housekeeping, orders, planning, purchasing, reports, settings, store
from hub.catalog import Supplier, save_suppliers
from protocol.events import Receipt, Shipment, ShipmentLine
from protocol.messages import Order, OrderLine
from tests.domain_helpers import TOPICS, Feed, open_ledger, products
from tests.webapp import hub_clock_at

pytestmark = pytest.mark.hub

# Noon UTC of the day the module is imported; each test sets the hub's clock to it
# (`at_noon`), so what the feed applies falls on TODAY however long after the import the
# test runs: a run crossing midnight UTC between collection and the test used to fail.
NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
TODAY = NOW.date()
STORED = ["dead-stock", "surplus", "reorder"]


@pytest.fixture(autouse=True)
def at_noon(monkeypatch):
    hub_clock_at(monkeypatch, NOW)


@pytest.fixture
def conn(tmp_path):
    """MUG: 100 on hand after shipping 10 (surplus); TEA: 5 after shipping 10; PEN: 5, never
    shipped (dead stock, and surplus: no demand). Windows of 10 and 20 days, dead after 30."""
    conn = open_ledger(tmp_path / "ledger.db")
    with store.transaction(conn):
        save_suppliers(conn, [Supplier(supplier="acme", name="Acme", lead_time_days=4)])
        settings.save(conn, settings.Settings(demand_window_days=10, surplus_days=20,
                                              dead_stock_days=30))  # fmt: skip
    products(conn, {"sku": "MUG", "name": "Mug", "par_level": 30, "unit_cost": "2",
                    "suppliers": [{"supplier": "acme"}]},
             {"sku": "TEA", "name": "Tea"}, {"sku": "PEN", "name": "Pen"},
             {"sku": "CUP", "name": "Cup"})  # fmt: skip
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=110, location="A-1"), Receipt(sku="TEA", qty=15, location="A-1"),
         Receipt(sku="PEN", qty=5, location="A-1"))  # fmt: skip
    feed(
        Shipment(
            order="SO-1",
            lines=[
                ShipmentLine(sku="MUG", qty=10, location="A-1"),
                ShipmentLine(sku="TEA", qty=10, location="A-1"),
            ],
        )
    )
    yield conn
    conn.close()


def run(conn, name: str, **query) -> reports.Report:
    return reports.REPORTS[name](conn, reports.Query(**{"today": TODAY, **query}))


def tick(conn, now: datetime = NOW, refresh: bool = False) -> housekeeping.Tick:
    return housekeeping.tick(conn, TOPICS, now, refresh)


def test_the_refresh_stores_each_report_and_the_report_says_when(conn):
    assert tick(conn).reports_refreshed == STORED
    stored = conn.execute("SELECT sku, on_hand, last_out FROM dead_stock_rows").fetchall()
    assert stored == [("PEN", 5, None)]
    assert conn.execute("SELECT * FROM surplus_rows ORDER BY sku").fetchall() == [
        ("MUG", 100, 10),
        ("PEN", 5, 0),
    ]
    dead = run(conn, "dead-stock")
    assert dead.rows == [{"sku": "PEN", "on_hand": 5, "last_outbound": None}]
    assert dead.summary == {"days": 30, "computed": NOW.isoformat()}
    surplus = run(conn, "surplus")
    assert [r["sku"] for r in surplus.rows] == ["MUG", "PEN"]
    assert surplus.summary["computed"] == NOW.isoformat()


def test_stored_rows_answer_until_the_next_days_refresh_or_one_asked_for(conn):
    tick(conn)
    Feed(conn, station="st-2")(Receipt(sku="CUP", qty=2, location="A-1"))  # dead stock too
    assert [r["sku"] for r in run(conn, "dead-stock").rows] == ["PEN"]
    assert tick(conn, NOW + timedelta(minutes=1)).reports_refreshed == []
    later = NOW + timedelta(minutes=2)
    assert tick(conn, later, refresh=True).reports_refreshed == STORED
    report = run(conn, "dead-stock")
    assert [r["sku"] for r in report.rows] == ["CUP", "PEN"]
    assert report.summary["computed"] == later.isoformat()
    assert tick(conn, NOW + timedelta(days=1)).reports_refreshed == STORED


def test_another_day_or_changed_settings_are_computed_from_the_ledger(conn):
    tick(conn)
    in_31_days = run(conn, "dead-stock", today=TODAY + timedelta(days=31))
    assert [r["sku"] for r in in_31_days.rows] == ["MUG", "PEN", "TEA"]
    assert in_31_days.summary["computed"] != NOW.isoformat()
    Feed(conn, station="st-2")(Receipt(sku="CUP", qty=2, location="A-1"))
    with store.transaction(conn):
        settings.save(conn, settings.Settings(demand_window_days=10, surplus_days=20,
                                              dead_stock_days=60))  # fmt: skip
    live = run(conn, "dead-stock")
    assert [r["sku"] for r in live.rows] == ["CUP", "PEN"]
    assert live.summary["computed"] != NOW.isoformat()
    assert tick(conn, NOW + timedelta(minutes=1)).reports_refreshed == ["dead-stock"]


def test_stored_reorder_plans_are_each_products_plan(conn):
    # Every source of a plan: demand history, a measured lead time (acme's PO took 6 days),
    # a promised one (beta), the default (no supplier), contingency plans for one product
    # and for all, a fixed safety stock, an open order (committed), an open PO (on order).
    with store.transaction(conn):
        save_suppliers(conn, [Supplier(supplier="beta", name="Beta", lead_time_days=9)])
        store.daily_sku_add(conn, [((TODAY - timedelta(days=back)).isoformat(), "CUP", qty, 0, 0)
                                   for back, qty in enumerate([3, 0, 5, 1, 0, 2, 7, 0, 1, 4])])
        planning.add_uplift(conn, planning.Uplift(
            sku="CUP", start=TODAY + timedelta(days=1), end=TODAY + timedelta(days=3),
            factor=1.7))  # fmt: skip
        planning.add_uplift(conn, planning.Uplift(start=TODAY, end=TODAY, factor=1.2))
        done = purchasing.create(conn, TOPICS, purchasing.PurchaseOrderIn(
            supplier="acme", lines=[purchasing.PoLineIn(sku="MUG", qty=5)]),
            (NOW - timedelta(days=6)).isoformat())  # fmt: skip
        purchasing.create(
            conn,
            TOPICS,
            purchasing.PurchaseOrderIn(
                supplier="beta", lines=[purchasing.PoLineIn(sku="TEA", qty=8)]
            ),
            NOW.isoformat(),
        )
    products(conn, {"sku": "TEA", "name": "Tea", "safety_stock": 3,
                    "suppliers": [{"supplier": "beta"}]},
             {"sku": "CUP", "name": "Cup", "suppliers": [{"supplier": "beta"}, {"supplier": "acme"}]})  # fmt: skip
    Feed(conn, station="st-2")(Receipt(sku="MUG", qty=5, location="A-1", po=done))
    orders.upsert_order(conn, TOPICS, Order(order="SO-2", lines=[OrderLine(sku="CUP", qty=4)]))
    with store.transaction(conn):
        assert planning.refresh_reorder(conn, TODAY, NOW.isoformat()) == 4
    stored, _next = planning.stored_reorder_page(conn, TODAY, "", 100, due_only=False)
    each = settings.load(conn)
    expected = [planning.plan(conn, sku, TODAY, each) for sku in ["CUP", "MUG", "PEN", "TEA"]]
    assert stored == expected
    assert {(p.sku, p.lead_time_source) for p in stored} == {
        ("CUP", "promised"),
        ("MUG", "measured"),
        ("PEN", "default"),
        ("TEA", "promised"),
    }
    report = run(conn, "reorder", all=True)
    assert report.summary == {"computed": NOW.isoformat()}
    assert [r["sku"] for r in report.rows] == ["CUP", "MUG", "PEN", "TEA"]


def test_a_stored_reorder_line_follows_the_stock_position(conn):
    # MUG: 100 on hand, 10 shipped in the window; an order for 200 makes it due (position
    # -100). TEA is due too (5 on hand, 10 shipped).
    orders.upsert_order(conn, TOPICS, Order(order="SO-2", lines=[OrderLine(sku="MUG", qty=200)]))
    tick(conn)
    [due, tea] = run(conn, "reorder").rows
    assert (due["sku"], due["position"], due["due"]) == ("MUG", -100, True)
    with store.transaction(conn):
        [po] = purchasing.from_reorder(conn, TOPICS, ["MUG"], TODAY, NOW.isoformat())
    # Ordered since the refresh: the line shows it, and leaves the due lines.
    report = run(conn, "reorder")
    assert report.rows == [tea] and report.summary == {"computed": NOW.isoformat()}
    [mug] = [r for r in run(conn, "reorder", all=True).rows if r["sku"] == "MUG"]
    assert (mug["on_order"], mug["due"], mug["order_qty"]) == (due["order_qty"], False, 0)
    assert po


def test_a_product_falling_to_its_reorder_point_is_due_without_a_refresh(conn):
    tick(conn)
    assert [r["sku"] for r in run(conn, "reorder").rows] == ["TEA"]
    # MUG (100 on hand) is ordered for 200 after the refresh: due now, not tomorrow.
    orders.upsert_order(conn, TOPICS, Order(order="SO-2", lines=[OrderLine(sku="MUG", qty=200)]))
    [mug, _tea] = run(conn, "reorder").rows
    assert (mug["sku"], mug["position"], mug["due"]) == ("MUG", -100, True)
    with store.transaction(conn):
        orders.cancel(conn, TOPICS, "SO-2", NOW.isoformat())
    assert [r["sku"] for r in run(conn, "reorder").rows] == ["TEA"]
    Feed(conn, epoch="e2")(Shipment(order="SO-3",
                                   lines=[ShipmentLine(sku="MUG", qty=99, location="A-1")]))
    assert [r["sku"] for r in run(conn, "reorder").rows] == ["MUG", "TEA"]


def test_low_stock_uses_todays_stored_reorder_point(conn):
    tick(conn)
    [tea] = run(conn, "reorder").rows
    def point(day):
        return planning.current_reorder_point(conn, "TEA", day, planning.Policies(conn, ["TEA"]))

    assert point(TODAY) == tea["reorder_point"]
    conn.execute("UPDATE reorder_plans SET mean = 0 WHERE sku = 'TEA'")  # read, not replanned
    assert point(TODAY) is None
    assert point(TODAY + timedelta(days=1)) == tea["reorder_point"]  # planned from the ledger
