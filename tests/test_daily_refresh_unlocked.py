"""The housekeeping's daily refresh of the ABC classes and stored reports reads the ledger
without the writer's lock: while its reads are held up (they take tens of seconds at
100,000 products), another writer (an ingest worker's batch, a web request) begins and
commits. Its rows are then stored as before.

The refresh is held up inside its reads as each backend allows, with the hub's code as it
is: on PostgreSQL another session holds an exclusive lock on `balances`, which the reports
read; on SQLite the refresh's own connection waits in SQLite's trace callback before its
first read of `balances`."""

import threading
from datetime import UTC, datetime

import psycopg
import pytest

from hub import housekeeping, store
from protocol.events import Receipt
from tests.domain_helpers import TOPICS, Feed, open_ledger, products
from tests.harness import wait_until
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub

NOW = datetime.now(UTC)
WAIT_S = 30  # for each step below: this long only when it fails


class HeldOnPostgres:
    """Another session's exclusive lock on `balances`: a read of it waits."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.locker = psycopg.connect(target, autocommit=True)
        self.locker.execute("BEGIN")
        self.locker.execute("LOCK TABLE balances IN ACCESS EXCLUSIVE MODE")

    def wait_reading(self) -> None:
        wait_until(self._waiting, WAIT_S, "the refresh waiting to read balances")

    def _waiting(self) -> bool:
        with psycopg.connect(self.target, autocommit=True) as look:
            return look.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND "
                                "relation = 'balances'::regclass").fetchone()[0] > 0  # fmt: skip

    def release(self) -> None:
        self.locker.close()


class HeldOnSqlite:
    """The refresh's connection stops before its first statement that reads `balances`."""

    def __init__(self, conn) -> None:
        self.reading, self.go_on = threading.Event(), threading.Event()
        self.conn = conn
        conn.set_trace_callback(self._statement)

    def _statement(self, sql: str) -> None:
        if "balances" in sql and not self.reading.is_set():
            self.reading.set()
            self.go_on.wait(WAIT_S)

    def wait_reading(self) -> None:
        assert self.reading.wait(WAIT_S), "the refresh never read balances"

    def release(self) -> None:
        self.go_on.set()


def committed_meanwhile(target) -> bool:
    """Another writer's whole transaction; whether it committed within WAIT_S."""
    done = threading.Event()

    def write() -> None:
        conn = store.connect(target)
        try:
            with store.transaction(conn):
                store.meta_set(conn, "written_meanwhile", "yes")
            done.set()
        finally:
            conn.close()

    threading.Thread(target=write, daemon=True).start()
    return done.wait(WAIT_S)


def test_another_writer_commits_while_the_daily_refresh_reads(tmp_path):
    target = ledger_target(tmp_path / "ledger.db")
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "2"})
    Feed(conn)(Receipt(sku="MUG", qty=5, location="A-1"))
    held = HeldOnPostgres(target) if store.is_postgres(conn) else HeldOnSqlite(conn)
    ticked = []
    refresh = threading.Thread(target=lambda: ticked.append(
        housekeeping.tick(conn, TOPICS, NOW, refresh=True)), daemon=True)  # fmt: skip
    try:
        refresh.start()
        held.wait_reading()
        assert committed_meanwhile(target), "another writer waited for the daily refresh's reads"
    finally:
        held.release()
    refresh.join(WAIT_S)
    assert [(t.abc_refreshed, t.reports_refreshed) for t in ticked] == [
        (True, ["dead-stock", "surplus", "reorder"])]  # fmt: skip
    assert store.meta_get(conn, "written_meanwhile") == "yes"
    assert store.report_run(conn, "surplus")[1] == NOW.isoformat()
    assert store.surplus_stored(conn, 10, 0) == [("MUG", 5, 0)]
    conn.close()
