"""Reorder suggestions and ABC classes, on demand histories worked out by hand.

Demand history is written day by day through the same store call the ledger makes when
it applies a shipment (a ledger cannot be back-dated)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from hub import orders, planning, purchasing, reports, settings, store
from hub.catalog import Supplier, save_suppliers
from protocol.events import Receipt
from protocol.messages import Order, OrderLine
from tests.domain_helpers import TOPICS, Feed, open_ledger, products

pytestmark = pytest.mark.hub


def today() -> date:
    """Read at each use, not at import: a run that crosses midnight must not ask for the
    day before the one its movements were booked on."""
    return date.today()


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    with store.transaction(conn):
        save_suppliers(conn, [Supplier(supplier="acme", name="Acme", lead_time_days=4)])
        settings.save(conn, settings.Settings(demand_window_days=10, service_level_z=1.5))
    products(conn, {"sku": "MUG", "name": "Mug", "par_level": 30, "unit_cost": "2",
                    "suppliers": [{"supplier": "acme"}]},
             {"sku": "TEA", "name": "Tea"})  # fmt: skip
    yield conn
    conn.close()


def history(conn, sku: str, per_day: list[int]) -> None:
    """`per_day[0]` is today, `per_day[1]` yesterday, ..."""
    with store.transaction(conn):
        store.daily_sku_add(conn, [((today() - timedelta(days=back)).isoformat(), sku, qty, 0, 0)
                                   for back, qty in enumerate(per_day)])


def reorder(conn, **query) -> list[dict]:
    return reports.reorder(conn, reports.Query(today=today(), **query)).rows


def test_reorder_point_is_demand_over_lead_time_plus_safety_stock(conn):
    # 10 days: five of 4 and five of 0 -> mean 2/day, standard deviation 2.
    history(conn, "MUG", [4, 0] * 5)
    Feed(conn)(Receipt(sku="MUG", qty=10, location="A-1"))
    orders.upsert_order(conn, TOPICS, Order(order="SO-1", lines=[OrderLine(sku="MUG", qty=3)]))
    [row] = reorder(conn)
    # lead time 4 days (promised by acme); safety = ceil(1.5 x 2 x sqrt(4)) = 6;
    # reorder point = 2 x 4 + 6 = 14; position = 10 on hand - 3 committed = 7 <= 14: due;
    # order up to par 30: 23.
    assert (row["lead_time_days"], row["lead_time_source"]) == (4, "promised")
    assert (row["mean_daily_demand"], row["demand_sd"]) == (2.0, 2.0)
    assert (row["safety_stock"], row["reorder_point"], row["position"]) == (6, 14, 7)
    assert (row["due"], row["order_qty"], row["order_by"]) == (True, 23, today().isoformat())
    assert [r["sku"] for r in reorder(conn, all=True)] == ["MUG", "TEA"]


def test_a_contingency_plan_raises_the_reorder_point_on_its_days(conn):
    history(conn, "MUG", [4, 0] * 5)
    with store.transaction(conn):
        planning.add_uplift(conn, planning.Uplift(
            sku="MUG", start=today() + timedelta(days=2), end=today() + timedelta(days=30),
            factor=2.0))  # fmt: skip
    [row] = reorder(conn)
    # Lead-time days: today and tomorrow at 2, the next two at 2 x 2 = 4: 12, + 6 safety.
    assert (row["demand_over_lead_time"], row["reorder_point"]) == (12.0, 18)


def test_just_in_time_order_date_and_measured_lead_time(conn):
    history(conn, "MUG", [2] * 10)  # 2 a day, no variability: no safety stock
    ordered = (datetime.now(UTC) - timedelta(days=6)).isoformat()
    with store.transaction(conn):
        po = purchasing.create(conn, TOPICS, purchasing.PurchaseOrderIn(
            supplier="acme", lines=[purchasing.PoLineIn(sku="MUG", qty=28)]), ordered)
    Feed(conn)(Receipt(sku="MUG", qty=28, location="A-1", po=po))
    # acme took 6 days (measured beats promised): reorder point 2 x 6 = 12; 28 on hand
    # reaches it in (28 - 12) / 2 = 8 days: order by then.
    [row] = reorder(conn, all=True)[:1]
    assert (row["lead_time_days"], row["lead_time_source"], row["reorder_point"]) == (
        6, "measured", 12)  # fmt: skip
    assert (row["due"], row["order_by"]) == (False, (today() + timedelta(days=8)).isoformat())


def test_stock_that_outlasts_the_calendar_has_no_order_date_and_is_still_applied(conn):
    # One a day in ten: a million units reach the reorder point in ten million days, past
    # 9999-12-31. Every change of the product's stock checks its reorder point: that check
    # raised, and the hub set the receipt aside as a failed event.
    history(conn, "MUG", [1] + [0] * 9)
    Feed(conn)(Receipt(sku="MUG", qty=1_000_000, location="A-1"))
    assert store.on_hand(conn, "MUG") == 1_000_000
    [row] = reorder(conn, all=True)[:1]
    assert (row["sku"], row["due"], row["order_by"]) == ("MUG", False, None)


def test_abc_classes_follow_cumulative_consumption_value():
    values = [("P1", 700), ("P2", 200), ("P3", 60), ("P4", 40), ("P5", 0)]
    classes = [(sku, cls) for sku, cls, _v, _s in planning.classify(values, 0.8, 0.95)]
    # share before each: 0, .70, .90, .96 -> A, A, B, C; no consumption -> C
    assert classes == [("P1", "A"), ("P2", "A"), ("P3", "B"), ("P4", "C"), ("P5", "C")]


def test_the_abc_report_ranks_products_by_their_cogs(conn):
    with store.transaction(conn):
        store.daily_sku_add(conn, [
            (today().isoformat(), "TEA", 0, 0, 9_000_000),
            ((today() - timedelta(days=400)).isoformat(), "MUG", 0, 0, 99_000_000),  # a year ago
            (today().isoformat(), "MUG", 0, 0, 1_000_000),
        ])  # fmt: skip
    rows = reports.abc(conn, reports.Query(today=today())).rows
    assert rows == [
        {"rank": 1, "sku": "TEA", "class": "A", "annual_value": "9.00", "cumulative_share": 0.9},
        {"rank": 2, "sku": "MUG", "class": "B", "annual_value": "1.00", "cumulative_share": 1.0},
    ]
