"""4. Backlog drain: a station that journaled 100,000 events offline reconnects; how long
until the hub has applied them all. Against the bare pipeline draining the same count."""

import threading
import time
from pathlib import Path

import msgspec
from bench_env import SITE, Broker, HubProcess, event_data, station_ids, station_password
from bench_ingest import bare_rate
from bench_report import Figure

from protocol.messages import Applied
from protocol.topics import Topics
from station.config import MqttSection
from station.inputs import HubMessage
from station.ledger.journal import Journal
from station.ledger.uplink import Uplink

TOPICS = Topics(SITE)


def journal_offline(path: Path, station: str, count: int) -> Journal:
    journal = Journal(path, station)
    for first in range(1, count + 1, 1000):
        last = min(count, first + 999)
        journal.append([event_data(0, seq) for seq in range(first, last + 1)])
    return journal


def project_seconds(dir: Path, count: int) -> float:
    (station,) = station_ids(1)
    broker = Broker(dir / "broker", [station])
    hub = HubProcess(dir / "hub", broker)
    journal = journal_offline(dir / station / "journal.db", station, count)
    done = threading.Event()

    def emit(item) -> None:
        if isinstance(item, HubMessage) and item.topic == TOPICS.applied(station) and item.payload:
            applied = msgspec.json.decode(item.payload, type=Applied)
            if applied.epoch == journal.epoch and applied.seq >= count:
                done.set()

    config = MqttSection(port=broker.port, username=station, password=station_password(station))
    uplink = Uplink(config, TOPICS, station, journal.reader(), emit, dict)
    try:
        start = time.perf_counter()
        uplink.start()  # the station is back on the network
        if not done.wait(600):
            raise TimeoutError(f"the hub did not apply {count} events within 600 s")
        return time.perf_counter() - start
    finally:
        uplink.stop()
        journal.close()
        hub.stop()
        broker.stop()


def run(dir: Path, quick: bool) -> list[Figure]:
    count = 2_000 if quick else 100_000
    bare = bare_rate(dir / "bare", station_ids(1), count)
    seconds = project_seconds(dir / "hub", count)
    rate = count / seconds
    return [
        Figure(f"4. backlog of {count:,} drained", seconds, "s", count / bare),
        Figure("4. backlog drain rate", rate, "ev/s", bare, ">= 5,000 ev/s", rate >= 5000),
    ]
