"""Ingest workers (`python -m hub run --role ingest`) and the stations that feed them, for
the tests of several workers on one ledger: publishers that send a station's events once
each (never resent, as the bench's `mosquitto_pub`), the stations' lease rows written
before the workers start, and a rig of two workers with one station each."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hub import store
from hub.ownership import worker_pid
from protocol.envelope import decode_message, encode_event
from protocol.events import Receipt
from protocol.messages import Resync
from protocol.topics import Topics
from tests.broker import Broker, start_broker
from tests.harness import Hub, wait_until

TOPICS = Topics("test")
EPOCH = "e1"
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def password(user: str) -> str:
    return f"{user}-secret"


class Publisher:
    """A station's events published once each, QoS 1, as fast as the broker takes them;
    never resent (as `mosquitto_pub` in the bench), unless told to `answer_resyncs`."""

    def __init__(self, port: int, station: str) -> None:
        self.station = station
        self.last = 0  # the highest seq published
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
        self.last = max(self.last, seqs[-1]) if seqs else self.last
        infos = [self.client.publish(TOPICS.events(self.station), event(self.station, seq),
                                     qos=1) for seq in seqs]  # fmt: skip
        for info in infos:
            info.wait_for_publish(60)

    def answer_resyncs(self) -> None:
        """From now on, send again what a resync asks for, as a station does from its
        journal: a worker that found its own lease run out (while another held the writer
        lock too long) left the events that came meanwhile and asks for them again."""
        topic = TOPICS.command(self.station, "resync")
        self.client.message_callback_add(topic, self._resend)
        self.client.subscribe(topic, qos=1)

    def _resend(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        asked = decode_message(message.payload, Resync, "resync")
        if asked.epoch in (None, EPOCH):
            for seq in range(asked.from_, self.last + 1):
                self.client.publish(TOPICS.events(self.station), event(self.station, seq), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def event(station: str, seq: int) -> bytes:
    return encode_event(station, EPOCH, seq,
                        Receipt(sku="MUG-1", qty=1, location="A-01"), TS)  # fmt: skip


def cursor(worker: Hub, station: str) -> int:
    """How far the ledger has applied `station`'s events (0: none yet)."""
    rows = worker.query("SELECT applied FROM cursors WHERE station = ? AND epoch = ?",
                        (station, EPOCH))  # fmt: skip
    return rows[0][0] if rows else 0


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


def owner_pid(worker: Hub, station: str) -> int | None:
    """The process id of the worker whose live lease holds `station`."""
    rows = worker.query("SELECT worker FROM station_leases WHERE station = ? AND expires_at >= ?",
                        (station, time.time()))  # fmt: skip
    return worker_pid(rows[0][0]) if rows else None


@dataclass
class TwoWorkers:
    broker: Broker
    workers: list[Hub]
    publishers: list[Publisher] = field(default_factory=list)

    @property
    def pids(self) -> set[int]:
        return {w.proc.process.pid for w in self.workers}

    def owners(self) -> set[int | None]:
        return {owner_pid(self.workers[0], p.station) for p in self.publishers}

    def wait_shared(self, what: str) -> None:
        """Until each worker owns one of the stations."""
        self.wait_until(lambda: self.owners() == self.pids, 60, what)

    def wait_until(self, check: Callable[[], object], timeout: float, what: str) -> None:
        """`wait_until`, whose timeout tells what each worker logged (what a failure on a
        loaded CI machine leaves to go on: the test's folder is gone by then)."""
        try:
            wait_until(check, timeout, what)
        except TimeoutError as e:
            logs = "\n".join(f"--- worker {w.proc.process.pid} logged:\n{w.proc.log_since_start()}"
                             for w in self.workers)  # fmt: skip
            raise TimeoutError(f"{e}\n{logs}") from e


@contextmanager
def two_workers(tmp_path: Path, stations: tuple[str, str], lease_s: float) -> Iterator[TwoWorkers]:
    """Two ingest workers on one ledger with `lease_s` leases, one of `stations` each, and a
    publisher per station whose first event is applied (its owner hears it); all stopped
    after."""
    users = {f"hub-{i}": (password(f"hub-{i}"), "hub") for i in (1, 2)}
    users |= {s: (password(s), "station") for s in stations}
    broker = start_broker(tmp_path / "broker", users)
    workers = [Hub(tmp_path / f"worker-{i}", broker, password(f"hub-{i}"), role="ingest",
                   username=f"hub-{i}", data_dir=tmp_path / "data",
                   ingest_config=f"lease_s = {lease_s}\n") for i in (1, 2)]  # fmt: skip
    rig = TwoWorkers(broker, workers)
    try:
        known(workers[0], stations)
        for worker in workers:
            worker.start()
        rig.publishers = [Publisher(broker.port, s) for s in stations]
        rig.wait_shared("one station each")
        for publisher in rig.publishers:
            wait_until(lambda p=publisher: p.publish(range(1, 2)) or cursor(workers[0], p.station),
                       30, f"{publisher.station}'s subscription", step=0.5)  # fmt: skip
        yield rig
    finally:
        for publisher in rig.publishers:
            publisher.close()
        for worker in workers:
            if worker.proc:
                worker.stop()
        broker.stop()
