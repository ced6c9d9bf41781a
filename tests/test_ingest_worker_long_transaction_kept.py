"""A worker whose writing transaction takes long while the worker itself is alive (the
daily housekeeping on a big catalog; here its lease turn held up by a row another session
locked) is waited for, never ended as stuck, however long the others wait for the writer
lock: a worker says it is alive from a thread of its own, without the writer lock
(hub.liveness). PostgreSQL only: what ends a stuck holder is PostgreSQL's.

Real `python -m hub run --role ingest` processes, a real Mosquitto, the run's PostgreSQL."""

import time

import psycopg
import pytest

from hub.store.writer_lock import WRITER_LOCK
from tests import postgres
from tests.broker import start_broker
from tests.harness import Hub, wait_until
from tests.test_ingest_worker_frozen_in_transaction import owner_pid
from tests.test_ingest_worker_long_batches import Publisher, cursor, known, password

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
    users = {f"hub-{i}": (password(f"hub-{i}"), "hub") for i in (1, 2)}
    users |= {s: (password(s), "station") for s in STATIONS}
    broker = start_broker(tmp_path / "broker", users)
    workers = [Hub(tmp_path / f"worker-{i}", broker, password(f"hub-{i}"), role="ingest",
                   username=f"hub-{i}", data_dir=tmp_path / "data",
                   ingest_config=f"lease_s = {LEASE_S}\n") for i in (1, 2)]  # fmt: skip
    publishers: list[Publisher] = []
    blocker = None
    try:
        known(workers[0], STATIONS)
        for worker in workers:
            worker.start()
        pids = {w.proc.process.pid for w in workers}
        wait_until(lambda: {owner_pid(workers[0], s) for s in STATIONS} == pids, 60,
                   "one station each")  # fmt: skip
        publishers = [Publisher(broker.port, s) for s in STATIONS]
        for publisher in publishers:
            wait_until(lambda p=publisher: p.publish(range(1, 2)) or cursor(workers[0], p.station),
                       30, f"{publisher.station}'s subscription", step=0.5)  # fmt: skip

        # Another session locks pack-a's lease row: its owner's next lease turn takes the
        # writer lock and then waits for that row, as long as the session keeps it.
        blocker = psycopg.connect(workers[0].database, autocommit=True)
        blocker.execute("BEGIN")
        blocker.execute("SELECT 1 FROM station_leases WHERE station = 'pack-a' FOR UPDATE")
        wait_until(lambda: (writer_lock_holder(workers[0]) or (0, "", None))[2] == "Lock", 30,
                   "pack-a's owner holding the writer lock, waiting for the row")  # fmt: skip
        holder = writer_lock_holder(workers[0])
        owner = str(owner_pid(workers[0], "pack-a"))
        assert holder[1].split(":")[1] == owner
        wait_until(lambda: writer_lock_waiters(workers[0]) > 0, 30,
                   "the other worker waiting for the writer lock")  # fmt: skip
        time.sleep(HELD_S)  # the other worker looks at the holder every second meanwhile
        assert writer_lock_holder(workers[0]) == holder, "the live worker's transaction ended"
        blocker.execute("COMMIT")

        # Every lease ran out meanwhile: once the workers have shared them again (and the
        # shares have settled), each station's events are applied as before.
        wait_until(lambda: {owner_pid(workers[0], s) for s in STATIONS} == pids, 60,
                   "one station each again")  # fmt: skip
        time.sleep(3 * LEASE_S)
        wait_until(lambda: {owner_pid(workers[0], s) for s in STATIONS} == pids, 60,
                   "one station each still")  # fmt: skip
        for publisher in publishers:
            publisher.publish(range(2, LATER + 2))
        for station in STATIONS:
            wait_until(lambda s=station: cursor(workers[0], s) == LATER + 1, 60,
                       f"{station} applied again")  # fmt: skip
        for worker in workers:
            log = worker.proc.log_since_start()
            assert "ended the writer lock's holder" not in log
            assert "the database failed" not in log
    finally:
        if blocker is not None:
            blocker.close()
        for publisher in publishers:
            publisher.close()
        for worker in workers:
            if worker.proc:
                worker.stop()
        broker.stop()
