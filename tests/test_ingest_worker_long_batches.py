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

import threading
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub import store
from protocol.envelope import encode_event
from protocol.events import Receipt
from protocol.topics import Topics
from tests.broker import start_broker
from tests.harness import Hub, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.hub]

TOPICS = Topics("test")
EPOCH = "e1"
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
FIRST, SECOND = "pack-a", "pack-b"
# Enough that applying FIRST's backlog takes several leases on either backend.
BACKLOG = 6000
SECOND_EVENTS = 200


def password(user: str) -> str:
    return f"{user}-secret"


class Publisher:
    """A station's events published once each, QoS 1, as fast as the broker takes them;
    never resent (as `mosquitto_pub` in the bench)."""

    def __init__(self, port: int, station: str) -> None:
        self.station = station
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=station,
                                  protocol=mqtt.MQTTv5)  # fmt: skip
        self.client.username_pw_set(station, password(station))
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)  # unbounded: the whole stream at once
        self.client.on_connect = lambda *_: self.ready.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.ready.wait(10), f"{station} did not connect"

    def publish(self, seqs: range) -> None:
        """Every event of `seqs`; returns once the broker has them all (PUBACK)."""
        infos = [self.client.publish(TOPICS.events(self.station), event(self.station, seq),
                                     qos=1) for seq in seqs]  # fmt: skip
        for info in infos:
            info.wait_for_publish(60)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def event(station: str, seq: int) -> bytes:
    return encode_event(station, EPOCH, seq,
                        Receipt(sku="MUG-1", qty=1, location="A-01"), TS)  # fmt: skip


def cursor(worker: Hub, station: str) -> int:
    rows = worker.query("SELECT applied FROM cursors WHERE station = ? AND epoch = ?",
                        (station, EPOCH))  # fmt: skip
    return rows[0][0] if rows else 0


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


def known(worker: Hub, stations: tuple[str, ...]) -> None:
    """The stations in the worker's ledger before it starts (lease rows, as a ledger with
    history has them)."""
    worker.data_path.mkdir(parents=True)
    conn = store.connect(worker.database)
    try:
        store.create_schema(conn)
        with store.transaction(conn):
            for station in stations:
                store.station_lease_add(conn, station)
    finally:
        conn.close()
