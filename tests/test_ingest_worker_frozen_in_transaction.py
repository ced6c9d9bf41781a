"""An ingest worker that stops answering in the middle of its applying transaction (the
process frozen, or its host cut off from the database server) must not stop the other
workers: docs/scaling.md promises that its leases expire and the others take over. On
PostgreSQL every writing transaction holds the one writer lock (an advisory lock) until
it ends, and the server ends a session that is gone quiet only when TCP gives up on it
(hours by default): the other workers' transactions, and their lease turns, would wait
for it. A writer that waits for the lock ends its holder once the holder's process has not
said it is alive for two lease periods (hub.store.writer_lock, docs/scaling.md).

Real `python -m hub run --role ingest` processes, a real Mosquitto, the run's PostgreSQL;
the worker frozen with SIGSTOP at a moment the server shows it holding the writer lock
(tried again until it is caught so); then woken again."""

import os
import signal
import time

import pytest

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
BACKLOG = 20000  # keeps the frozen worker's station in long batches
LATER = 50  # events of the other worker's station, sent once the first is frozen
TRIES = 30


def lock_held_by_a_quiet_session(worker: Hub) -> bool:
    """The writer lock of this ledger's database is granted to a session that has waited
    for its client a while ('idle in transaction', or 'active' inside a pipeline not yet
    synced). Of this database: the run's other tests' hubs take the same lock in theirs."""
    rows = worker.query(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = ? "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND a.wait_event = 'ClientRead' AND now() - a.state_change > interval '0.5 s'",
        (WRITER_LOCK,),
    )
    return rows[0][0] > 0


def freeze_holding_the_lock(worker: Hub, victim: Hub) -> None:
    pid = victim.proc.process.pid
    for _ in range(TRIES):
        os.kill(pid, signal.SIGSTOP)
        time.sleep(1.0)
        if lock_held_by_a_quiet_session(worker):
            return
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.1)
    raise AssertionError(f"never caught the worker inside its transaction in {TRIES} tries")


def test_a_worker_frozen_inside_its_transaction_does_not_stop_the_others(tmp_path):
    frozen = None
    with two_workers(tmp_path, STATIONS, lease_s=2) as rig:
        try:
            first, second = rig.publishers
            watcher = rig.workers[0]
            victim = next(w for w in rig.workers
                          if w.proc.process.pid == owner_pid(w, first.station))  # fmt: skip
            first.publish(range(2, BACKLOG + 1))
            wait_until(lambda: cursor(victim, first.station) > 1, 30, "the backlog under way")
            freeze_holding_the_lock(watcher, victim)
            frozen = victim.proc.process.pid

            # The other worker goes on with its own station, frozen worker or not. Its own
            # lease runs out too while it waits for the frozen holder to be ended (two
            # lease periods of silence): a batch it took meanwhile finds the station not
            # its own and leaves it, and the worker, taking the lease back, asks the
            # station to send it again (hub.ownership), as a station's journal does.
            second.answer_resyncs()
            second.publish(range(2, LATER + 2))
            rig.wait_until(lambda: cursor(watcher, second.station) == LATER + 1, 60,
                           "the other worker's station applied while the first is frozen")  # fmt: skip

            # Woken, the worker finds its transaction ended (rolled back whole): it connects
            # again and carries on, with its share of the stations once more; nothing of the
            # frozen station was applied twice or out of order.
            os.kill(frozen, signal.SIGCONT)
            frozen = None
            rig.wait_shared("one station each again")
            applied = watcher.query("SELECT seq FROM events WHERE station = ? ORDER BY id",
                                    (first.station,))  # fmt: skip
            assert [seq for (seq,) in applied] == list(range(1, cursor(watcher, first.station) + 1))
        finally:
            if frozen is not None:
                os.kill(frozen, signal.SIGCONT)
