"""3. Station journal commit -> hub ledger commit at 500 events/s, against the bare pipeline.

The hub's commit is observed where a station sees it: the retained `applied` ack the hub
publishes right after each commit (so the figure is an upper bound by one broker hop).
Ten real stations (real `Journal` + `Uplink` in this process) share the 500 events/s, for
both hubs: until 2026-12-04 the bare hub was fed by bare paho clients publishing from the
pacing thread, without the uplink's hop through its publisher thread that the project's
figure includes.
"""

import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
from bench_env import SITE, Broker, HubProcess, event_data, station_ids, station_password
from bench_ingest import BareHub
from bench_report import Figure, percentile

from protocol.messages import Applied
from protocol.topics import Topics
from station.config import MqttSection
from station.inputs import HubMessage
from station.ledger.journal import Journal
from station.ledger.uplink import Uplink

RATE = 500
STATIONS = 10
TOPICS = Topics(SITE)


class Stopwatch:
    """Start times per (station, seq); a cumulative ack stops every clock it covers."""

    def __init__(self, stations: list[str]) -> None:
        self.started: dict[str, dict[int, float]] = {s: {} for s in stations}
        self.acked = dict.fromkeys(stations, 0)
        self.samples: list[float] = []
        self.lock = threading.Lock()

    def start(self, station: str, seq: int) -> None:
        with self.lock:
            self.started[station][seq] = time.perf_counter()

    def applied(self, station: str, seq: int, now: float) -> None:
        with self.lock:
            started = self.started[station]
            for done in range(self.acked[station] + 1, seq + 1):
                begun = started.pop(done, None)
                if begun is not None:
                    self.samples.append((now - begun) * 1000)
            self.acked[station] = max(self.acked[station], seq)


def paced(count: int, step) -> None:
    """Call step(i) for i in 0..count-1 at RATE per second (catching up, never bursting)."""
    start = time.perf_counter()
    for i in range(count):
        delay = start + i / RATE - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        step(i)


def stations_ms(dir: Path, count: int, bare: bool, make_hub: Callable | None = None,
                extra_hubs: tuple[str, ...] = ()) -> list[float]:  # fmt: skip
    """Milliseconds from each journal commit until the (bare or real) hub's ack covers it.
    `make_hub(dir, broker)`: another hub than the SQLite ones (row 7's PostgreSQL hubs),
    with its broker users `extra_hubs`; it has `stop()`."""
    stations = station_ids(STATIONS)
    broker = Broker(dir / "broker", stations,
                    extra_hubs=extra_hubs or (("barehub",) if bare else ()))  # fmt: skip
    if make_hub is not None:
        hub = make_hub(dir / "hub", broker)
    else:
        hub = BareHub(dir, broker) if bare else HubProcess(dir / "hub", broker)
    watch = Stopwatch(stations)
    journals, uplinks = {}, {}
    try:
        for station in stations:
            journals[station] = Journal(dir / station / "journal.db", station)
            uplinks[station] = _uplink(station, broker.port, journals[station], watch)
            uplinks[station].start()

        def step(i: int) -> None:
            station = stations[i % STATIONS]
            seq = journals[station].head + 1
            journals[station].append([event_data(i % STATIONS, seq)])
            watch.start(station, seq)  # the commit has returned
            uplinks[station].notify()

        paced(count, step)
        _wait_all(watch, count)
    finally:
        for uplink in uplinks.values():
            uplink.stop()
        for journal in journals.values():
            journal.close()
        hub.stop()
        broker.stop()
    return watch.samples


def _uplink(station: str, port: int, journal: Journal, watch: Stopwatch) -> Uplink:
    config = MqttSection(port=port, username=station, password=station_password(station))
    applied_topic = TOPICS.applied(station)

    def emit(item) -> None:  # what the station's core would be handed, on paho's thread
        if isinstance(item, HubMessage) and item.topic == applied_topic and item.payload:
            applied = msgspec.json.decode(item.payload, type=Applied)
            if applied.epoch == journal.epoch:
                watch.applied(station, applied.seq, time.perf_counter())

    return Uplink(config, TOPICS, station, journal.reader(), emit, dict)


def _wait_all(watch: Stopwatch, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(watch.samples) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    if len(watch.samples) < count:
        raise TimeoutError(f"only {len(watch.samples)} of {count} events acknowledged")


def run(dir: Path, quick: bool) -> list[Figure]:
    count = 250 if quick else 10 * RATE
    skip = count // 20  # the first events meet connections still settling
    bare = stations_ms(dir / "bare", count, bare=True)[skip:]
    project = stations_ms(dir / "hub", count, bare=False)[skip:]
    p50, bare50 = percentile(project, 50), percentile(bare, 50)
    p99, bare99 = percentile(project, 99), percentile(bare, 99)
    return [
        Figure(
            "3. journal -> hub commit p50",
            p50,
            "ms",
            bare50,
            "<= 1.5x bare p50",
            p50 <= 1.5 * bare50,
        ),  # fmt: skip
        Figure(
            "3. journal -> hub commit p99", p99, "ms", bare99, "<= 2x bare p99", p99 <= 2 * bare99
        ),  # fmt: skip
    ]
