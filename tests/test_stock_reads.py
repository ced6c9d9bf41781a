"""What publishing the stock of several SKUs reads in one statement for all of them
(hub.stock.Read) is what the per-SKU reads it replaced say of each: where each SKU is
picked from (first to expire, then first received, never from a held location), its
product's stock policy and its stored reorder plan."""

from datetime import UTC, date, datetime

import pytest

from hub import daily_refresh, planning, store
from protocol.events import Adjustment, Receipt
from tests.domain_helpers import Feed, open_ledger, products

pytestmark = pytest.mark.hub

SKUS = ["MUG", "TEA", "PEN", "CUP", "INK", "NONE"]
TODAY = date(2026, 3, 2)


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    products(
        conn,
        {"sku": "MUG", "name": "Mug", "reorder_point": 4},
        {"sku": "TEA", "name": "Tea", "par_level": 20, "safety_stock": 2},
        {"sku": "PEN", "name": "Pen", "owner": "acme"},
    )
    feed = Feed(conn)
    # MUG: the soonest expiry wins over the location's name and the older receipt.
    feed(Receipt(sku="MUG", qty=5, location="A-1", lot="LATE", expiry="2031-01-01"))
    feed(Receipt(sku="MUG", qty=5, location="Z-9", lot="SOON", expiry="2030-01-01"))
    feed(Receipt(sku="MUG", qty=5, location="B-2", lot="NONE"))
    # TEA: its first bin emptied, the held one never picked from.
    feed(Receipt(sku="TEA", qty=4, location="A-1"), Receipt(sku="TEA", qty=4, location="Q-1"),
         Receipt(sku="TEA", qty=4, location="C-3"))  # fmt: skip
    feed(Adjustment(sku="TEA", qty=-4, location="A-1", reason="lost"))
    with store.transaction(conn):
        store.location_hold(conn, "Q-1", "quarantine", datetime.now(UTC).isoformat())
    # PEN below zero at one bin, in stock at another; CUP only below zero; INK held only.
    feed(Adjustment(sku="PEN", qty=-2, location="A-1", reason="lost"),
         Receipt(sku="PEN", qty=1, location="D-4"))  # fmt: skip
    feed(Adjustment(sku="CUP", qty=-1, location="A-1", reason="lost"))
    feed(Receipt(sku="INK", qty=3, location="Q-1"))
    yield conn
    conn.close()


def test_the_pick_locations_of_a_set_are_each_skus_own(conn):
    one_by_one = {sku: store.pick_location(conn, sku) for sku in SKUS}
    assert one_by_one == {"MUG": "Z-9", "TEA": "C-3", "PEN": "D-4", "CUP": None, "INK": None,
                          "NONE": None}  # fmt: skip
    assert store.pick_locations_of(conn, SKUS) == {
        sku: location for sku, location in one_by_one.items() if location is not None
    }


def test_the_policies_and_stored_plans_of_a_set_are_each_products_own(conn):
    daily_refresh.refresh(conn, TODAY, datetime.now(UTC).isoformat(), force=True)
    policies = planning.Policies(conn, SKUS)
    assert policies.products == {sku: store.product_policy(conn, sku)
                                 for sku in ("MUG", "TEA", "PEN")}  # fmt: skip
    assert set(policies.plans) == {"MUG", "TEA", "PEN"}
    assert policies.plans == {sku: tuple(store.reorder_plan_get(conn, sku))
                              for sku in ("MUG", "TEA", "PEN")}  # fmt: skip
    assert planning.current_reorder_point(conn, "MUG", TODAY, policies) == 4
    assert planning.current_reorder_point(conn, "NONE", TODAY, policies) is None
