"""A change a crash may lose without harm (the outbox rows the broker has taken: lost,
they are only published again) commits without waiting for the disk
(`store.transaction(conn, durable=False)`), and every other commit still waits for it:
the connection is back to durable commits after it, whether it committed or failed."""

import pytest

from hub import store
from tests.domain_helpers import open_ledger

pytestmark = pytest.mark.hub


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    with store.transaction(conn):
        for topic in ("a", "b", "c"):
            store.outbox_put(conn, topic, b"x", False)
    yield conn
    conn.close()


def durability(conn) -> str:
    """What a commit on `conn` waits for now: "disk", or "none"."""
    if store.is_postgres(conn):
        return "disk" if conn.execute("SHOW synchronous_commit").fetchone()[0] == "on" \
            else "none"  # fmt: skip
    return {2: "disk", 1: "none"}[conn.execute("PRAGMA synchronous").fetchone()[0]]


def ids(conn) -> list[int]:
    return [row[0] for row in store.outbox_read(conn, 0, 10)]


def test_an_undurable_change_commits_without_the_disk_and_the_next_waits_again(conn):
    assert durability(conn) == "disk"
    first, *rest = ids(conn)
    with store.transaction(conn, durable=False):
        assert durability(conn) == "none"
        store.outbox_delete(conn, [first])
    assert ids(conn) == rest  # committed
    assert durability(conn) == "disk"
    with store.transaction(conn):
        assert durability(conn) == "disk"


def test_a_failed_undurable_change_leaves_nothing_and_durable_commits(conn):
    before = ids(conn)
    with pytest.raises(RuntimeError), store.transaction(conn, durable=False):
        store.outbox_delete(conn, before)
        raise RuntimeError("the publisher's ids were wrong")
    assert ids(conn) == before
    assert durability(conn) == "disk"
