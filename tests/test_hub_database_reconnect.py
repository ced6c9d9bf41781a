"""After the ingest has connected to its database again (a failed batch, a PostgreSQL
restart), every part of it uses the new connection: a gap that opens afterwards is asked
for again, and /healthz says 200 once the database answers. The real hub and broker; the
database broken as it breaks: on SQLite a full disk under a batch (a small tmpfs), on
PostgreSQL the server ending the hub's sessions (`pg_terminate_backend`)."""

import os

import msgspec
import psycopg
import pytest

from protocol.envelope import encode, encode_event
from protocol.events import Adjustment
from protocol.messages import Alert, Resync, StationStatus
from protocol.topics import Topics
from tests import postgres
from tests.conftest import PASSWORDS
from tests.faults.disk import SmallDisk
from tests.harness import Hub, wait_until
from tests.mqtt_client import TestClient

pytestmark = [
    pytest.mark.hub,
    pytest.mark.skipif(
        not postgres.enabled() and not SmallDisk.available(),
        reason="on SQLite, needs root to mount a small tmpfs",
    ),  # fmt: skip
]

TOPICS = Topics("test")


def event(seq: int) -> bytes:
    adjustment = Adjustment(sku="MUG-1", qty=1, location="A-01", reason="found")
    return encode_event("pack-1", "e1", seq, adjustment)


def applied(hub: Hub) -> list[tuple]:
    return hub.query("SELECT count(*), max(seq) FROM events")


class Breaker:
    """Breaks the hub's database once, the way it breaks on each backend."""

    def __init__(self, tmp_path) -> None:
        self.disk = None if postgres.enabled() else SmallDisk(tmp_path / "ledger", size="8m")

    def data_dir(self, tmp_path):
        return tmp_path / "hub" / "data" if self.disk is None else self.disk.mount().path

    def break_(self, hub: Hub) -> None:
        if self.disk is not None:
            self.disk.fill()
            return
        name = hub.database.split("?")[0].rsplit("/", 1)[1]
        with psycopg.connect(os.environ[postgres.ADMIN_URL], autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))  # fmt: skip

    def mend(self) -> None:
        if self.disk is not None:
            self.disk.free()

    def close(self) -> None:
        if self.disk is not None:
            self.disk.unmount()


def fail_while_sending(hub: Hub, station: TestClient, breaker: Breaker, last: int) -> None:
    """pack-1 online and its seq 1 applied; the database broken while seqs 2..`last` come;
    mended, and every one of them applied once."""
    station.publish(TOPICS.station_status("pack-1"),
                    encode(StationStatus(state="online", conn=1, epoch="e1")), retain=True)  # fmt: skip
    station.publish(TOPICS.events("pack-1"), event(1))
    wait_until(lambda: applied(hub) == [(1, 1)], 20, "seq 1")
    breaker.break_(hub)
    for seq in range(2, last + 1):
        station.publish(TOPICS.events("pack-1"), event(seq))
    wait_until(lambda: "ingest: the database failed" in hub.proc.log_since_start(), 30,
               "the ingest's database failure")  # fmt: skip
    breaker.mend()
    wait_until(lambda: applied(hub) == [(last, last)], 30, "what was taken, applied once back")


def test_a_gap_after_the_database_came_back_is_asked_for_and_health_recovers(tmp_path, broker):
    breaker = Breaker(tmp_path)
    hub = Hub(tmp_path / "hub", broker, PASSWORDS["hub"], data_dir=breaker.data_dir(tmp_path))
    station = None
    try:
        hub.start()
        station = TestClient(broker.port, "pack-1", PASSWORDS["pack-1"])
        station.subscribe(TOPICS.command("pack-1", "resync"))
        fail_while_sending(hub, station, breaker, last=9)

        # A gap now: seq 10 never comes, 11 does. The hub must ask the station for 10.
        station.publish(TOPICS.events("pack-1"), event(11))
        resync = station.next(TOPICS.command("pack-1", "resync"), timeout=20)
        assert msgspec.json.decode(resync.payload, type=Resync).from_ == 10
        wait_until(lambda: hub.health()[0] == 200, 30,
                   "/healthz 200 with the database back")  # fmt: skip
    finally:
        if station is not None:
            station.close()
        hub.stop()
        breaker.close()


def loop_alerts(watch: TestClient) -> tuple[Alert, Alert]:
    """The ingest loop's `loop_failed` alert as published: raised, then cleared (the
    outbox publisher's connection fails too on PostgreSQL, and has an alert of its own)."""
    seen = []
    while len(seen) < 2:
        alert = msgspec.json.decode(watch.next(TOPICS.alerts, timeout=60).payload, type=Alert)
        if alert.kind == "loop_failed" and "the hub's ingest loop" in alert.message:
            seen.append(alert)
    return seen[0], seen[1]


def test_a_database_failure_is_alerted_once_it_answers_and_cleared_when_clean(tmp_path, broker):
    """The alert cannot be written while the database fails: it lands on the new
    connection, saying what failed, and clears once the loop has run clean for
    `stall_after_s` (it used to be written on the failed connection, so never, and a
    `loop_failed` alert of the ingest never cleared)."""
    breaker = Breaker(tmp_path)
    hub = Hub(tmp_path / "hub", broker, PASSWORDS["hub"], data_dir=breaker.data_dir(tmp_path),
              extra_config="[health]\nstall_after_s = 2\n")  # fmt: skip
    station = watch = None
    try:
        hub.start()
        watch = TestClient(broker.port, "observer_test", PASSWORDS["observer_test"])
        watch.subscribe(TOPICS.alerts)
        station = TestClient(broker.port, "pack-1", PASSWORDS["pack-1"])
        fail_while_sending(hub, station, breaker, last=5)

        raised, cleared = loop_alerts(watch)
        assert (raised.state, cleared.state, cleared.id) == ("raised", "cleared", raised.id)
        assert "the hub's ingest loop failed since" in raised.message, raised
        assert "Error" in raised.message or "Shutdown" in raised.message, raised
        wait_until(lambda: hub.query("SELECT count(*) FROM alerts WHERE kind = 'loop_failed' "
                                     "AND cleared IS NULL") == [(0,)], 30,
                   "every loop's alert cleared, the outbox's too")  # fmt: skip
    finally:
        for client in (station, watch):
            if client is not None:
                client.close()
        hub.stop()
        breaker.close()
