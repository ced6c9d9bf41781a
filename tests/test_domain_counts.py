"""Counts: reconciled against the book at their place in the station's sequence; big
variances wait for a supervisor; tasks and full counts."""

from datetime import UTC, datetime

import pytest

from hub import corrections, counts, ledger, store
from hub.check import check
from protocol.events import Count, Receipt, Shipment, ShipmentLine
from tests.domain_helpers import TOPICS, Feed, open_ledger, products


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
    feed(Receipt(sku="MUG", qty=5, location="A-1"), Receipt(sku="MUG", qty=5, location="B-1"))
    with store.transaction(conn):
        run, tasks = counts.start_full_count(conn, TOPICS, ["st-1", "st-2"], "2026-03-02")
    assert [store.count_task_get(conn, t)[:2] for t in tasks] == [("st-1", "A-1"),
                                                                  ("st-2", "B-1")]
    feed(Count(sku="MUG", location="A-1", counted=5, task=tasks[0]))
    assert counts.full_count_report(conn, run)["open"] == ["B-1"]
    feed(Count(sku="MUG", location="B-1", counted=4, task=tasks[1]))
    report = counts.full_count_report(conn, run)
    assert (report["status"], report["variance_units"], report["open"]) == ("done", -1, [])
