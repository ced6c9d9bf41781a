"""Alerts: low stock, expiring lots, station offline, pick-error spikes; and the daily
housekeeping that classifies products and issues the cycle counts they are due."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest

from hub import housekeeping, orders, planning, settings, store
from hub.ingest import Incoming
from protocol.envelope import CLOCK_OFFSET_ENV
from protocol.events import Adjustment, Receipt, Scan
from protocol.messages import Order, OrderLine, StationStatus
from tests.domain_helpers import TOPICS, Feed, open_ledger, products

pytestmark = pytest.mark.hub


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug", "reorder_point": 5, "high_risk": True},
             {"sku": "TEA", "name": "Tea"})  # fmt: skip
    yield conn
    conn.close()


def open_kinds(conn) -> list[str]:
    return [a["kind"] for a in store.alerts_open(conn)]


def test_low_stock_alerts_once_and_clears_when_stock_recovers(conn):
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=8, location="A-1"))
    feed(Adjustment(sku="MUG", qty=-3, location="A-1", reason="damaged"))
    feed(Adjustment(sku="MUG", qty=-1, location="A-1", reason="damaged"))
    assert open_kinds(conn).count("low_stock") == 1
    feed(Receipt(sku="MUG", qty=10, location="A-1"))
    assert "low_stock" not in open_kinds(conn)


def retained_stock(conn, sku: str) -> dict:
    row = conn.execute("SELECT payload FROM outbox WHERE topic = ? ORDER BY id DESC LIMIT 1",
                       (TOPICS.stock(sku),)).fetchone()  # fmt: skip
    return msgspec.json.decode(bytes(row[0]))


def test_the_alerts_of_a_kind_are_listed_and_a_name_no_kind_has_lists_none(conn):
    """A kind is written into the page's SQL (store.conditions.word); a value that is no
    such word is bound instead, and matches nothing, without an error."""
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=8, location="A-1"))
    feed(Adjustment(sku="MUG", qty=-4, location="A-1", reason="damaged"))
    assert [a["sku"] for a in store.alerts_page(conn, False, "low_stock", 10, 0)] == ["MUG"]
    assert store.alerts_page(conn, False, "expiring_lot", 10, 0) == []
    for odd in ("LOW_STOCK", "low_stock' OR 'a' = 'a", "low-stock", ""):
        assert store.alerts_page(conn, False, odd, 10, 0) == [], odd


def test_an_order_that_commits_stock_down_to_the_reorder_point_alerts_at_once(conn):
    Feed(conn)(Receipt(sku="MUG", qty=8, location="A-1"))
    assert "low_stock" not in open_kinds(conn)
    orders.upsert_order(conn, TOPICS, Order(order="SO-1", lines=[OrderLine(sku="MUG", qty=3)]))
    assert open_kinds(conn) == ["low_stock"]  # 5 available, reorder point 5: no movement yet
    assert retained_stock(conn, "MUG")["committed"] == 3
    with store.transaction(conn):
        orders.cancel(conn, TOPICS, "SO-1", datetime.now(UTC).isoformat())
    assert "low_stock" not in open_kinds(conn)
    assert retained_stock(conn, "MUG")["available"] == 8


def test_a_new_reorder_point_is_judged_at_once_and_none_is_never_low(conn):
    Feed(conn)(Receipt(sku="TEA", qty=8, location="A-1"))
    products(conn, {"sku": "TEA", "name": "Tea", "reorder_point": 10})
    assert open_kinds(conn) == ["low_stock"]
    products(conn, {"sku": "TEA", "name": "Tea"})
    assert open_kinds(conn) == []


def test_low_stock_lists_what_the_low_stock_alert_holds_by_sku(conn):
    products(conn, {"sku": "CUP", "name": "Cup", "reorder_point": 2})
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=4, location="A-1"), Receipt(sku="CUP", qty=1, location="A-1"),
         Receipt(sku="TEA", qty=1, location="A-1"))  # TEA has no reorder point: never low
    today = datetime.now(UTC).date()
    low = planning.low_stock(conn, today, "", 10)
    assert low == [
        {"sku": "CUP", "name": "Cup", "on_hand": 1, "quarantined": 0, "available": 1,
         "reorder_point": 2},
        {"sku": "MUG", "name": "Mug", "on_hand": 4, "quarantined": 0, "available": 4,
         "reorder_point": 5},
    ]
    assert [r["sku"] for r in planning.low_stock(conn, today, "CUP", 10)] == ["MUG"]
    feed(Receipt(sku="MUG", qty=10, location="A-1"))
    assert [r["sku"] for r in planning.low_stock(conn, today, "", 10)] == ["CUP"]


def test_a_lot_about_to_expire_is_alerted_once(conn):
    soon = date.today() + timedelta(days=10)
    Feed(conn)(Receipt(sku="TEA", qty=3, location="A-1", lot="B1", expiry=soon),
               Receipt(sku="TEA", qty=3, location="A-1", lot="B2",
                       expiry=date.today() + timedelta(days=300)))  # fmt: skip
    assert housekeeping.tick(conn, TOPICS, datetime.now(UTC)).expiring == 1
    assert housekeeping.tick(conn, TOPICS, datetime.now(UTC)).expiring == 0
    assert open_kinds(conn) == ["expiring_lot"]


def test_a_station_going_offline_is_alerted_and_cleared_when_back(conn):
    feed = Feed(conn)
    def status(state, n):
        return Incoming(TOPICS.station_status("st-1"),
                        msgspec.json.encode(StationStatus(state=state, conn=n)))
    feed.ingest.process([status("online", 1), status("offline", 1)])
    assert open_kinds(conn) == ["station_offline"]
    feed.ingest.process([status("online", 2)])
    assert open_kinds(conn) == []


def test_a_spike_of_pick_errors_is_alerted(conn):
    with store.transaction(conn):
        settings.save(conn, settings.Settings(pick_error_min_scans=4, pick_error_rate=0.25))
    feed = Feed(conn)
    feed(*[Scan(code="C", verdict="ok", mode="pack") for _ in range(3)])
    feed(Scan(code="X", verdict="wrong_item", mode="pack"))  # 1 in 4: not above 25 %
    assert "pick_errors" not in open_kinds(conn)
    feed(Scan(code="X", verdict="wrong_item", mode="pack"))  # 2 in 5
    assert open_kinds(conn) == ["pick_errors"]


def test_housekeeping_issues_cycle_counts_to_the_count_stations_once_a_day(conn):
    with store.transaction(conn):
        settings.save(conn, settings.Settings(count_stations=["st-9"]))
    Feed(conn)(Receipt(sku="MUG", qty=2, location="A-1"), Receipt(sku="TEA", qty=2, location="B-1"))
    first = housekeeping.tick(conn, TOPICS, datetime.now(UTC))
    assert first.abc_refreshed and len(first.tasks) == 2  # never counted: both due
    assert [t["station"] for t in store.count_tasks(conn, None, "open")] == ["st-9", "st-9"]
    assert housekeeping.tick(conn, TOPICS, datetime.now(UTC)).tasks == []


def published_alerts(conn) -> list[dict]:
    rows = conn.execute("SELECT payload FROM outbox WHERE topic = ? ORDER BY id",
                        (TOPICS.alerts,)).fetchall()  # fmt: skip
    return [msgspec.json.decode(bytes(row[0])) for row in rows]


def test_a_pick_error_alert_follows_the_days_figures_under_the_same_id(conn):
    with store.transaction(conn):
        settings.save(conn, settings.Settings(pick_error_min_scans=4, pick_error_rate=0.25))
    feed = Feed(conn)
    feed(*[Scan(code="C", verdict="ok", mode="pack") for _ in range(3)])
    feed(*[Scan(code="X", verdict="wrong_item", mode="pack") for _ in range(2)])
    [raised] = [a for a in published_alerts(conn) if a["kind"] == "pick_errors"]
    assert raised["message"] == "st-1: 2 scan errors in 5 scans today"
    feed(*[Scan(code="C", verdict="ok", mode="pack") for _ in range(10)])
    [alert] = store.alerts_open(conn)
    assert alert["message"] == "st-1: 2 scan errors in 15 scans today"  # the page reads this
    assert len([a for a in published_alerts(conn) if a["kind"] == "pick_errors"]) == 1
    feed(Scan(code="X", verdict="wrong_item", mode="pack"))
    [alert] = store.alerts_open(conn)
    assert alert["message"] == "st-1: 3 scan errors in 16 scans today"
    announced = [a for a in published_alerts(conn) if a["kind"] == "pick_errors"]
    states = [(a["id"], a.get("state", "raised")) for a in announced]
    assert states == [(raised["id"], "raised")] * 2
    assert announced[-1]["message"] == alert["message"]


def test_a_pick_error_alerts_day_is_the_sites_not_utcs(conn, monkeypatch):
    """Kiritimati is UTC+14: 09:00 UTC on 1 June is 23:00 there, 11:00 UTC is 01:00 on
    2 June. The same UTC day, two site days: each counts its own scans and has its alert."""
    def hub_clock_at(moment: datetime) -> None:
        offset = (moment - datetime.now(UTC)).total_seconds()
        monkeypatch.setenv(CLOCK_OFFSET_ENV, str(offset))

    with store.transaction(conn):
        settings.save(conn, settings.Settings(pick_error_min_scans=4, pick_error_rate=0.25))
    feed = Feed(conn, zone=ZoneInfo("Pacific/Kiritimati"))
    for hour in (9, 11):
        hub_clock_at(datetime(2030, 6, 1, hour, tzinfo=UTC))
        feed(*[Scan(code="C", verdict="ok", mode="pack") for _ in range(3)])
        feed(*[Scan(code="X", verdict="wrong_item", mode="pack") for _ in range(2)])
    assert [(a["message"], a["dedupe"]) for a in store.alerts_open(conn)] == [
        ("st-1: 2 scan errors in 5 scans today", "pick_errors:st-1:2030-06-02"),
        ("st-1: 2 scan errors in 5 scans today", "pick_errors:st-1:2030-06-01"),
    ]
