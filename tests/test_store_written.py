"""What a writing transaction knows of the rows it writes instead of reading them back
(store.written): a line's balance, the alerts open, a SKU's last layer cost. Each must stay
what the database says, through a batch's read-ahead, a rolled-back savepoint (a site's
handler that fails inside the batch: hub.site_inbox) and the next transaction."""

import pytest

from hub import store
from protocol.events import Adjustment, Receipt
from tests.domain_helpers import TS, Feed, open_ledger

pytestmark = pytest.mark.hub

NOW = TS.isoformat()


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    yield conn
    conn.close()


def move(conn, sku: str, delta: int, location: str = "A-1") -> int:
    """One movement in the transaction; the new balance it reports."""
    seq = conn.execute("SELECT count(*) FROM events").fetchone()[0] + 1
    event = store.event_insert(conn, "hub", "e1", seq, "adjustment", NOW, NOW, b"{}")
    return store.movement_add(conn, event, "adjustment", sku, location, "", "", delta, NOW,
                              NOW)[1]  # fmt: skip


def stored(conn, sku: str, location: str = "A-1") -> int:
    row = conn.execute("SELECT qty FROM balances WHERE sku = ? AND location = ?",
                       (sku, location)).fetchone()  # fmt: skip
    return row[0] if row else 0


def test_a_movement_reports_its_lines_balance_as_the_database_has_it(conn):
    with store.transaction(conn):
        assert move(conn, "MUG", 5) == 5
        assert move(conn, "MUG", 2, "B-1") == 2
    with store.transaction(conn):
        store.balances_read_ahead(conn, ["MUG"])
        assert move(conn, "MUG", -7) == -2  # read ahead
        assert move(conn, "MUG", 1, "B-1") == 3
        assert move(conn, "TEA", -1) == -1  # no line yet: read at its first movement
    assert (stored(conn, "MUG"), stored(conn, "MUG", "B-1"), stored(conn, "TEA")) == (-2, 3, -1)


def test_a_rolled_back_savepoint_leaves_no_trace_in_what_the_transaction_knows(conn):
    with store.transaction(conn):
        move(conn, "MUG", 5)
        store.alert_add(conn, "unknown_sku", "warning", "first", NOW, dedupe="k:1")
        store.alert_clear(conn, "k:1", NOW)
        with pytest.raises(ValueError), store.savepoint(conn, "handler"):
            move(conn, "MUG", -10)
            store.layer_add(conn, "MUG", "A-1", "", 1, NOW, 3, 9_000_000, "layer")
            store.alert_add(conn, "unknown_sku", "warning", "rolled back", NOW, dedupe="k:1")
            raise ValueError("the handler refuses")
        assert move(conn, "MUG", -3) == 2
        assert store.last_layer_cost(conn, "MUG") is None
        # Raised again for real: the one of the savepoint is gone.
        assert store.alert_add(conn, "unknown_sku", "warning", "again", NOW,
                               dedupe="k:1") is not None  # fmt: skip
    assert stored(conn, "MUG") == 2
    assert [a["message"] for a in store.alerts_open(conn)] == ["again"]


def test_an_alert_is_raised_once_a_transaction_and_again_after_its_clearing(conn):
    with store.transaction(conn):
        first = store.alert_add(conn, "unknown_sku", "warning", "one", NOW, dedupe="k:2")
        assert first is not None
        assert store.alert_add(conn, "unknown_sku", "warning", "two", NOW, dedupe="k:2") is None
        [cleared] = store.alert_clear(conn, "k:2", NOW)
        assert cleared["id"] == first
        assert store.alert_add(conn, "unknown_sku", "warning", "three", NOW,
                               dedupe="k:2") is not None  # fmt: skip
        store.alert_clear_id(conn, first, NOW)  # already cleared: changes nothing
    with store.transaction(conn):  # the next transaction asks the database again
        assert store.alert_add(conn, "unknown_sku", "warning", "four", NOW, dedupe="k:2") is None
        [open_] = store.alerts_open(conn)
        assert store.alert_clear_id(conn, open_["id"], NOW)
        assert store.alert_add(conn, "unknown_sku", "warning", "five", NOW,
                               dedupe="k:2") is not None  # fmt: skip
    assert [a["message"] for a in store.alerts_open(conn)] == ["five"]


def test_a_batch_that_takes_a_line_below_zero_alerts_at_the_crossing_only(conn):
    """The negative-stock alert is raised by the balance a movement reports: counted from
    the batch's read-ahead, across the movements of one line in one batch."""
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=2, location="A-1"))
    feed(Adjustment(sku="MUG", qty=-1, location="A-1", reason="lost"),
         Adjustment(sku="MUG", qty=-3, location="A-1", reason="lost"),
         Adjustment(sku="MUG", qty=-1, location="A-1", reason="lost"),
         Receipt(sku="MUG", qty=5, location="A-1"),
         Adjustment(sku="MUG", qty=-5, location="A-1", reason="lost"))  # fmt: skip
    negative = sorted(a["message"] for a in store.alerts_open(conn)
                      if a["kind"] == "negative_stock")  # fmt: skip
    assert negative == ["MUG at A-1 is below zero (-2)", "MUG at A-1 is below zero (-3)"]
    assert stored(conn, "MUG") == -3


def test_alerts_read_ahead_are_raised_and_cleared_as_the_database_says(conn):
    """A key read ahead is known open or not: raising a known-new one inserts without
    asking back, clearing a known-closed one runs nothing; a savepoint's rollback puts
    the knowledge back, and each alert's id is the next one (store.ledger.next_id)."""
    with store.transaction(conn):
        opened = store.alert_add(conn, "low_stock", "warning", "old", NOW, dedupe="low:A")
    with store.transaction(conn):
        store.alerts_read_ahead(conn, ["low:A", "low:B"])
        assert store.alert_add(conn, "low_stock", "warning", "dup", NOW, dedupe="low:A") is None
        assert store.alert_clear(conn, "low:B", NOW) == []
        with pytest.raises(ValueError), store.savepoint(conn, "handler"):
            assert store.alert_add(conn, "low_stock", "warning", "gone", NOW,
                                   dedupe="low:B") == opened + 1  # fmt: skip
            [cleared] = store.alert_clear(conn, "low:A", NOW)
            raise ValueError("the handler refuses")
        assert cleared["id"] == opened
        assert store.alert_add(conn, "low_stock", "warning", "B", NOW, dedupe="low:B") == opened + 1
        [again] = store.alert_clear(conn, "low:A", NOW)  # open again after the rollback
        assert again["id"] == opened
        assert store.alert_add(conn, "negative_stock", "critical", "C", NOW) == opened + 2
    rows = conn.execute("SELECT id, message, cleared IS NULL FROM alerts ORDER BY id").fetchall()
    assert rows == [(opened, "old", 0), (opened + 1, "B", 1), (opened + 2, "C", 1)]


def test_an_alert_refused_as_a_duplicate_gives_its_number_back(conn):
    with store.transaction(conn):
        first = store.alert_add(conn, "low_stock", "warning", "one", NOW, dedupe="low:A")
    with store.transaction(conn):  # not known: the database says it is open
        assert store.alert_add(conn, "low_stock", "warning", "two", NOW, dedupe="low:A") is None
        assert store.alert_add(conn, "low_stock", "warning", "B", NOW, dedupe="low:B") == first + 1


def test_alerts_are_raised_and_cleared_only_in_a_writing_transaction(conn):
    with pytest.raises(RuntimeError, match="writing transaction"):
        store.alert_add(conn, "low_stock", "warning", "one", NOW, dedupe="low:A")
    with pytest.raises(RuntimeError, match="writing transaction"):
        store.alert_clear(conn, "low:A", NOW)
