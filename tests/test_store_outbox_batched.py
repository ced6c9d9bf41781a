"""An ingest batch's outbox rows are kept in memory and written at its end
(store.outbox_batched): the publisher finds the same rows in the same order as when each
was written at once, a retained topic's last message where it was put and its earlier
ones gone, and a savepoint rolled back takes its rows with it."""

import pytest

from hub import store
from tests.domain_helpers import open_ledger

pytestmark = pytest.mark.hub

PUTS = [
    ("stock/A", b"a1", True), ("movements", b"m1", False), ("stock/B", b"b1", True),
    ("stock/A", b"a2", True), ("alerts", b"x1", False), ("stock/A", b"", True),
    ("movements", b"m2", False), ("stock/B", b"b2", True), ("stock/A", b"a3", True),
]


@pytest.fixture
def ledgers(tmp_path):
    conns = [open_ledger(tmp_path / name) for name in ("batched.db", "each.db")]
    for conn in conns:  # retained rows of an earlier change, not yet published
        with store.transaction(conn):
            store.outbox_put(conn, "stock/A", b"a0", True)
            store.outbox_put(conn, "stock/C", b"c0", True)
    yield conns
    for conn in conns:
        conn.close()


def rows(conn) -> list[tuple]:
    return [row[1:] for row in store.outbox_read(conn, 0, 100)]


def test_a_batched_outbox_holds_what_message_by_message_writes_would(ledgers):
    batched, each = ledgers
    with store.transaction(batched), store.outbox_batched(batched):
        for put in PUTS:
            store.outbox_put(batched, *put)
        written = batched.execute("SELECT topic FROM outbox ORDER BY id").fetchall()
        assert [row[0] for row in written] == ["stock/A", "stock/C"]  # nothing yet
    with store.transaction(each):
        for put in PUTS:
            store.outbox_put(each, *put)
    assert rows(batched) == rows(each) == [
        ("stock/C", b"c0", True), ("movements", b"m1", False), ("alerts", b"x1", False),
        ("movements", b"m2", False), ("stock/B", b"b2", True), ("stock/A", b"a3", True),
    ]


def test_a_batch_that_fails_writes_no_outbox_row(ledgers):
    conn = ledgers[0]
    with pytest.raises(RuntimeError), store.transaction(conn), store.outbox_batched(conn):
        store.outbox_put(conn, "stock/A", b"a1", True)
        raise RuntimeError("the batch failed")
    assert rows(conn) == [("stock/A", b"a0", True), ("stock/C", b"c0", True)]
    with store.transaction(conn), store.outbox_batched(conn):  # and the next starts afresh
        store.outbox_put(conn, "movements", b"m1", False)
    assert rows(conn)[-1] == ("movements", b"m1", False)


def test_a_savepoint_rolled_back_takes_its_outbox_rows_back(ledgers):
    conn = ledgers[0]
    with store.transaction(conn), store.outbox_batched(conn):
        store.outbox_put(conn, "stock/A", b"a1", True)
        with pytest.raises(ValueError), store.savepoint(conn, "intake"):
            store.outbox_put(conn, "stock/A", b"a2", True)  # would drop a1
            store.outbox_put(conn, "orders/O-1", b"o1", True)
            raise ValueError("not an order")
        with store.savepoint(conn, "intake"):
            store.outbox_put(conn, "movements", b"m1", False)
    assert rows(conn) == [("stock/C", b"c0", True), ("stock/A", b"a1", True),
                          ("movements", b"m1", False)]  # fmt: skip


def test_the_outbox_is_not_read_inside_a_batched_block(ledgers):
    """Its rows are written only at the block's end: a read inside would miss them, so it
    is refused loudly rather than answered wrong."""
    conn, _ = ledgers
    with store.transaction(conn), store.outbox_batched(conn):
        store.outbox_put(conn, "movements", b"m1", False)
        for read in (lambda: store.outbox_read(conn, 0, 10), lambda: store.outbox_last_id(conn),
                     lambda: store.outbox_first_id(conn), lambda: store.outbox_delete(conn, [1]),
                     lambda: store.outbox_set_aside(conn, 1, "why", "2026-01-01")):  # fmt: skip
            with pytest.raises(RuntimeError, match="outbox_batched"):
                read()
    assert rows(conn)[-1] == ("movements", b"m1", False)
