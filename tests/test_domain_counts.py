"""Counts: reconciled against the book at their place in the station's sequence; big
variances wait for a supervisor; tasks and full counts."""

from datetime import UTC, datetime

import pytest

from hub import corrections, counts, ledger, settings, store
from hub.check import check
from protocol.events import Count, Receipt, Shipment, ShipmentLine
from tests.domain_helpers import TOPICS, Feed, open_ledger, products

pytestmark = pytest.mark.hub


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "2"})
    yield conn
    conn.close()


def decide(conn, count_id: int, approve: bool) -> store.CountRow:
    with store.transaction(conn):
        return corrections.decide_count(conn, TOPICS, count_id, approve, "sam",
                                        datetime.now(UTC), ledger.Effects())  # fmt: skip


def test_a_small_variance_posts_at_once(conn):
    Feed(conn)(Receipt(sku="MUG", qty=100, location="A-1"), Count(sku="MUG", location="A-1",
                                                                  counted=97))  # fmt: skip
    [count] = store.count_list(conn, None, 10, 0)
    assert (count.book, count.variance, count.status) == (100, -3, "posted")
    assert store.on_hand(conn, "MUG") == 97


def test_a_big_variance_waits_and_approval_posts_the_variance_found_at_count_time(conn):
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=50, location="A-1"), Count(sku="MUG", location="A-1", counted=30))
    [count] = store.count_list(conn, "pending", 10, 0)
    assert store.on_hand(conn, "MUG") == 50
    assert any(a["kind"] == "count_variance" for a in store.alerts_open(conn))
    # Shipped after the count: already in the book, so the approval must not recount it.
    feed(Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=5, location="A-1")]))
    assert decide(conn, count.id, True).status == "approved"
    assert store.on_hand(conn, "MUG") == 25  # 50 - 20 variance - 5 shipped
    assert not any(a["kind"] == "count_variance" for a in store.alerts_open(conn))
    assert check(conn).ok


def test_a_rejected_count_posts_nothing_and_cannot_be_decided_twice(conn):
    Feed(conn)(Receipt(sku="MUG", qty=50, location="A-1"), Count(sku="MUG", location="A-1",
                                                                 counted=0))  # fmt: skip
    [count] = store.count_list(conn, "pending", 10, 0)
    assert decide(conn, count.id, False).status == "rejected"
    assert store.on_hand(conn, "MUG") == 50
    with pytest.raises(corrections.CorrectionError, match="not pending"):
        decide(conn, count.id, True)


def test_a_newer_count_of_the_line_replaces_the_one_waiting_for_approval(conn):
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=20, location="A-1"), Count(sku="MUG", location="A-1", counted=32))
    [first] = store.count_list(conn, "pending", 10, 0)
    feed(Count(sku="MUG", location="A-1", counted=32))  # the same unbooked case, counted again
    [second] = store.count_list(conn, "pending", 10, 0)
    assert second.id != first.id
    assert store.count_get(conn, first.id).status == "superseded"
    with pytest.raises(corrections.CorrectionError, match="superseded, not pending"):
        decide(conn, first.id, True)
    assert decide(conn, second.id, True).status == "approved"
    assert store.on_hand(conn, "MUG") == 32  # +12 once, not twice
    assert [a["kind"] for a in store.alerts_open(conn)] == []
    assert check(conn).ok


def test_a_small_variance_count_also_ends_a_waiting_one(conn):
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=20, location="A-1"), Count(sku="MUG", location="A-1", counted=32))
    feed(Count(sku="MUG", location="A-1", counted=19))  # posts at once
    assert store.count_list(conn, "pending", 10, 0) == []
    assert store.on_hand(conn, "MUG") == 19


def test_a_count_without_a_lot_covers_every_lot_at_the_location(conn):
    Feed(conn)(Receipt(sku="MUG", qty=4, location="A-1", lot="L1"),
               Receipt(sku="MUG", qty=4, location="A-1", lot="L2"),
               Count(sku="MUG", location="A-1", counted=6))  # fmt: skip
    [count] = store.count_list(conn, None, 10, 0)
    assert (count.book, count.variance) == (8, -2)
    assert store.balance_get(conn, "MUG", "A-1", "L1") == 2  # the loss leaves FEFO / by lot


def test_a_counted_task_is_done_and_leaves_the_station(conn):
    with store.transaction(conn):
        task = counts.issue_task(conn, TOPICS, "st-1", "A-1", "MUG", None, "2026-03-02")
    topic = TOPICS.count_task("st-1", task)
    assert conn.execute("SELECT retain FROM outbox WHERE topic = ?", (topic,)).fetchone() == (1,)
    Feed(conn)(Count(sku="MUG", location="A-1", counted=0, task=task))
    assert store.count_task_get(conn, task)[3] == "done"
    payload = conn.execute("SELECT payload FROM outbox WHERE topic = ? ORDER BY id DESC",
                           (topic,)).fetchone()[0]  # fmt: skip
    assert bytes(payload) == b""


def test_a_full_count_issues_a_task_per_location_and_is_done_when_all_are_counted(conn):
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=5, location="A-1"))
    Feed(conn, station="st-2")(Receipt(sku="MUG", qty=5, location="B-1"))  # both reported
    with store.transaction(conn):
        run, tasks = counts.start_full_count(conn, TOPICS, ["st-1", "st-2"], "2026-03-02")
    assert [store.count_task_get(conn, t)[:2] for t in tasks] == [("st-1", "A-1"),
                                                                  ("st-2", "B-1")]
    feed(Count(sku="MUG", location="A-1", counted=5, task=tasks[0]))
    assert counts.full_count_report(conn, run)["open"] == ["B-1"]
    feed(Count(sku="MUG", location="B-1", counted=4, task=tasks[1]))
    report = counts.full_count_report(conn, run)
    assert (report["status"], report["variance_units"], report["open"]) == ("done", -1, [])


def test_variances_pending_lists_the_waiting_ones_oldest_first_with_the_operator(conn):
    Feed(conn)(Receipt(sku="MUG", qty=100, location="A-1"),
               Count(sku="MUG", location="A-1", counted=97, operator="kim"),  # posted
               Count(sku="MUG", location="A-1", counted=40, operator="kim"),
               Count(sku="MUG", location="B-2", counted=9, operator="lee"))  # fmt: skip
    waiting = counts.variances_pending(conn, 10, 0)
    assert [(v["location"], v["variance"], v["operator"]) for v in waiting] == [
        ("A-1", -57, "kim"), ("B-2", 9, "lee")]  # fmt: skip
    assert counts.variances_pending(conn, 1, 1)[0]["location"] == "B-2"
    decide(conn, waiting[0]["id"], False)
    assert [v["location"] for v in counts.variances_pending(conn, 10, 0)] == ["B-2"]


def test_settling_a_count_publishes_the_stock_it_moved(conn):
    Feed(conn)(Receipt(sku="MUG", qty=50, location="A-1"), Count(sku="MUG", location="A-1",
                                                                 counted=20))  # fmt: skip
    [waiting] = counts.variances_pending(conn, 10, 0)
    conn.execute("DELETE FROM outbox")
    with store.transaction(conn):
        settled = corrections.settle_count(conn, TOPICS, waiting["id"], True, "sam",
                                           datetime.now(UTC))  # fmt: skip
    assert settled.status == "approved" and store.on_hand(conn, "MUG") == 20
    topics = [r[1] for r in store.outbox_read(conn, 0, 100)]
    assert TOPICS.stock("MUG") in topics


def test_due_now_takes_the_first_due_lines_and_skips_products_with_an_open_task(conn):
    products(conn, {"sku": "TEA", "name": "Tea"}, {"sku": "PEN", "name": "Pen"})
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=5, location="A-1"), Receipt(sku="PEN", qty=5, location="C-1"),
         Receipt(sku="TEA", qty=5, location="B-1"))  # fmt: skip
    today = datetime.now(UTC).date()
    with store.transaction(conn):
        counts.issue_task(conn, TOPICS, "st-1", "B-1", "TEA", None, "2026-03-01T00:00:00")
    due = counts.due_now(conn, settings.load(conn), today, 10)
    assert [(d.sku, d.location, d.last_count, d.due) for d in due] == [
        ("MUG", "A-1", None, None), ("PEN", "C-1", None, None)]  # fmt: skip
    assert [d.sku for d in counts.due_now(conn, settings.load(conn), today, 1)] == ["MUG"]
    # Counted today: a C product is next due in 365 days, so it leaves the list.
    feed(Count(sku="MUG", location="A-1", counted=5))
    assert [d.sku for d in counts.due_now(conn, settings.load(conn), today, 10)] == ["PEN"]
    assert [t["sku"] for t in counts.open_tasks(conn, 10)] == ["TEA"]
