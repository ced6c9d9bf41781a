"""A worker whose writing transaction takes long while the worker itself is alive (the
daily housekeeping on a big catalog; here its lease turn held up by a row another session
locked) is waited for, never ended as stuck, however long the others wait for the writer
lock: a worker says it is alive from a thread of its own, without the writer lock
(hub.liveness). PostgreSQL only: what ends a stuck holder is PostgreSQL's.

Real `python -m hub run --role ingest` processes, a real Mosquitto, the run's PostgreSQL."""

import time

import psycopg
import pytest

from hub.ownership import worker_pid
from hub.store.writer_lock import WRITER_LOCK
from tests import postgres
from tests.harness import Hub, wait_until
from tests.ingest_workers import cursor, owner_pid, two_workers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.hub,
    pytest.mark.skipif(not postgres.enabled(), reason="PostgreSQL's sessions and locks"),
]

STATIONS = ("pack-a", "pack-b")
LEASE_S = 1.0  # a worker stuck this long twice over (hub.app.ALIVE_LEASES) may be ended
HELD_S = 10 * LEASE_S
LATER = 20


def writer_lock_holder(worker: Hub) -> tuple[int, str, str | None] | None:
    """(backend pid, application_name, wait_event_type) of the writer lock's holder."""
    rows = worker.query(
        "SELECT a.pid, a.application_name, a.wait_event_type FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
        "AND l.granted AND l.objid = ?", (WRITER_LOCK,))  # fmt: skip
    return rows[0] if rows else None


def writer_lock_waiters(worker: Hub) -> int:
    rows = worker.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND NOT granted AND objid = ?", (WRITER_LOCK,))  # fmt: skip
    return rows[0][0]


def test_a_live_workers_long_transaction_is_waited_for_not_ended(tmp_path):
    blocker = None
    with two_workers(tmp_path, STATIONS, lease_s=LEASE_S) as rig:
        try:
            watcher = rig.workers[0]
            # Another session locks pack-a's lease row: its owner's next lease turn takes the
            # writer lock and then waits for that row, as long as the session keeps it.
            blocker = psycopg.connect(watcher.database, autocommit=True)
            blocker.execute("BEGIN")
            blocker.execute("SELECT 1 FROM station_leases WHERE station = 'pack-a' FOR UPDATE")
            wait_until(lambda: (writer_lock_holder(watcher) or (0, "", None))[2] == "Lock", 30,
                       "pack-a's owner holding the writer lock, waiting for the row")  # fmt: skip
            holder = writer_lock_holder(watcher)
            assert worker_pid(holder[1]) == owner_pid(watcher, "pack-a")
            wait_until(lambda: writer_lock_waiters(watcher) > 0, 30,
                       "the other worker waiting for the writer lock")  # fmt: skip
            time.sleep(HELD_S)  # the other worker looks at the holder every second meanwhile
            assert writer_lock_holder(watcher) == holder, "the live worker's transaction ended"
            blocker.execute("COMMIT")

            # Every lease ran out meanwhile: once the workers have shared them again (and the
            # shares have settled), each station's events are applied as before.
            rig.wait_shared("one station each again")
            time.sleep(3 * LEASE_S)
            rig.wait_shared("one station each still")
            for publisher in rig.publishers:
                publisher.publish(range(2, LATER + 2))
            for station in STATIONS:
                wait_until(lambda s=station: cursor(watcher, s) == LATER + 1, 60,
                           f"{station} applied again")  # fmt: skip
            for worker in rig.workers:
                log = worker.proc.log_since_start()
                assert "ended the writer lock's holder" not in log
                assert "the database failed" not in log
        finally:
            if blocker is not None:
                blocker.close()
