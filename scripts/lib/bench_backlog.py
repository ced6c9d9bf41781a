"""4. Backlog drain: a station that journaled 100,000 events offline reconnects; how long
until the hub has applied them all. Against the bare hub draining the same journal.

Both sides are fed by the same station (the real `Journal` and `Uplink`), as a station
feeds the hub after a long cut. The bare path used to be fed by `mosquitto_pub` instead:
on a two-core machine the Python uplink takes about half a core from the hub next to it
(on a site it runs on its own Pi), which the bare hub never had to share, so the ratio
measured the test machine as much as the hub."""

import threading
import time
from pathlib import Path

import msgspec
from bench_env import (
    SITE,
    Broker,
    HubProcess,
    cpu_seconds,
    event_data,
    station_ids,
    station_password,
)
from bench_ingest import BareHub
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


def drain_seconds(dir: Path, count: int, bare: bool) -> tuple[float, float]:
    """Seconds from the uplink's start until the (bare or real) hub's ack covers `count`,
    and the CPU seconds the hub's process used meanwhile."""
    (station,) = station_ids(1)
    broker = Broker(dir / "broker", [station], extra_hubs=("barehub",) if bare else ())
    hub = BareHub(dir, broker) if bare else HubProcess(dir / "hub", broker)
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
        start, cpu = time.perf_counter(), cpu_seconds(hub.process.pid)
        uplink.start()  # the station is back on the network
        if not done.wait(600):
            raise TimeoutError(f"the hub did not apply {count} events within 600 s")
        return time.perf_counter() - start, cpu_seconds(hub.process.pid) - cpu
    finally:
        uplink.stop()
        journal.close()
        hub.stop()
        broker.stop()


def run(dir: Path, quick: bool) -> list[Figure]:
    count = 2_000 if quick else 100_000
    bare_seconds, bare_cpu = drain_seconds(dir / "bare", count, bare=True)
    seconds, cpu = drain_seconds(dir / "hub", count, bare=False)
    bare, rate = count / bare_seconds, count / seconds
    per_1000 = 1000 * 1000 / count  # CPU seconds -> ms per 1,000 events
    return [
        Figure(f"4. backlog of {count:,} drained", seconds, "s", bare_seconds),
        Figure("4. hub CPU per 1,000 events", cpu * per_1000, "ms", bare_cpu * per_1000),
        Figure(
            "4. backlog drain rate", rate, "ev/s", bare, ">= 70 % of bare", rate >= 0.7 * bare
        ),  # fmt: skip
    ]
