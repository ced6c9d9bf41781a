"""An ingest worker with a backlog: its batches must not outlast its leases.

A worker renews its station leases between batches, and the applying transaction applies
a station's events only while the lease row says this worker (docs/scaling.md). A backlog
makes long batches: here one station's thousands of events are queued at the worker ahead
of another station's first ones, with the shortest lease the config allows (1 s). Were the
batch to take all of them, the second station's events would reach the lease check after
the lease ran out, and be acknowledged and left (a station's journal would resend them
when asked; this test's publishers, like the bench's `mosquitto_pub`, never do). Every
event must be applied once, in order, without any resend.

A real `python -m hub run --role ingest` process, a real Mosquitto, the run's real backend
(SQLite, or PostgreSQL with HUB_TEST_DB=postgresql, where the backlog is far slower to
apply). The backlog comes from publishers faster than the worker applies.
"""

import pytest

from tests.broker import start_broker
from tests.harness import Hub, wait_until
from tests.ingest_workers import Publisher, cursor, known, password

pytestmark = [pytest.mark.slow, pytest.mark.hub]

FIRST, SECOND = "pack-a", "pack-b"
# Enough that applying FIRST's backlog takes several leases on either backend.
BACKLOG = 6000
SECOND_EVENTS = 200


def test_a_backlog_ahead_of_a_stations_first_events_loses_none_of_them(tmp_path):
    users = {"hub-1": (password("hub-1"), "hub")}
    users |= {s: (password(s), "station") for s in (FIRST, SECOND)}
    broker = start_broker(tmp_path / "broker", users)
    worker = Hub(tmp_path / "worker", broker, password("hub-1"), role="ingest",
                 username="hub-1", ingest_config="lease_s = 1\nmax_batch = 100000\n")  # fmt: skip
    publishers: list[Publisher] = []
    try:
        known(worker, (FIRST, SECOND))
        publishers = [Publisher(broker.port, s) for s in (FIRST, SECOND)]
        worker.start()
        first, second = publishers
        # Once a station's first event is applied, the worker owns it and hears it.
        for publisher in publishers:
            wait_until(lambda p=publisher: p.publish(range(1, 2)) or cursor(worker, p.station),
                       30, f"{publisher.station}'s subscription", step=0.5)  # fmt: skip
        first.publish(range(2, BACKLOG + 1))  # queued at the worker faster than it applies
        second.publish(range(2, SECOND_EVENTS + 1))  # behind all of them
        wait_until(lambda: cursor(worker, FIRST) == BACKLOG
                   and cursor(worker, SECOND) == SECOND_EVENTS, 180,
                   "every event applied without a resend", step=0.5)  # fmt: skip
        rows = worker.query("SELECT station, seq FROM events ORDER BY id")
        for station, count in ((FIRST, BACKLOG), (SECOND, SECOND_EVENTS)):
            assert [seq for s, seq in rows if s == station] == list(range(1, count + 1))
        assert worker.query("SELECT count(*) FROM pending") == [(0,)]
        assert worker.query("SELECT count(*) FROM dead_letters") == [(0,)]
    finally:
        for publisher in publishers:
            publisher.close()
        if worker.proc:
            worker.stop()
        broker.stop()

