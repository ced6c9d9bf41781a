"""2. Hub sustained ingest from 50 simulated stations, against the bare pipeline.

Both sides get the same load from the same generator: one publisher per station, with
its own credentials (the broker's ACLs confine it to its own topics), publishing valid
event envelopes at QoS 1 as fast as its in-flight window allows.
"""

import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench_env import (
    HUB_PASSWORD,
    SITE,
    Broker,
    HubProcess,
    encoded_events,
    station_ids,
    station_password,
)
from bench_report import Figure

from kit.waiting import wait_until
from protocol.topics import Topics

TOPICS = Topics(SITE)
EPOCH = "0123456789abcdef"


class BareHub:
    def __init__(self, dir: Path, broker: Broker) -> None:
        self.db_path = dir / "bare.db"
        script = Path(__file__).with_name("bench_bare_hub.py")
        self.process = subprocess.Popen(
            [sys.executable, str(script), str(broker.port), str(self.db_path), "barehub",
             HUB_PASSWORD, SITE],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        if self.process.stdout.readline().strip() != b"ready":
            raise RuntimeError("the bare hub did not start")

    def applied_total(self) -> int:
        if not self.db_path.exists():
            return 0
        conn = sqlite3.connect(self.db_path, timeout=10)
        try:
            return conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0]
        except sqlite3.OperationalError:
            return 0
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)


def pump(
    port: int, stations: list[str], per_station: int, applied_total: Callable[[], int]
) -> float:
    """Publish `per_station` events from each station; events/s until `applied_total()`
    counts all of them (a hub's `settled_total`: applied, and what they publish out).

    The load comes from `mosquitto_pub` (C, one per station, its own credentials, QoS 1,
    window 50): at 20k+ messages/s it is never what limits the hub, as Python clients
    on the same two cores would be.
    """
    data = {s: b"\n".join(encoded_events(s, i, EPOCH, per_station)) + b"\n"
            for i, s in enumerate(stations)}  # fmt: skip
    total = len(stations) * per_station
    start = time.perf_counter()
    publishers = [_mosquitto_pub(port, station, lines) for station, lines in data.items()]
    try:
        wait_until(lambda: _all_applied(applied_total, total, publishers), 900,
                   f"{total} events applied", step=0.1)  # fmt: skip
        return total / (time.perf_counter() - start)
    finally:
        # All at once: each takes about 0.1 s to leave after its input ends.
        for publisher in publishers:
            publisher.stdin.close()
        for publisher in publishers:
            publisher.wait(30)


def _all_applied(applied_total: Callable[[], int], total: int, publishers: list) -> bool:
    failed = [p.args[p.args.index("-u") + 1] for p in publishers if p.poll() is not None]
    if failed:
        raise RuntimeError(f"mosquitto_pub of {', '.join(failed)} exited early")
    return applied_total() >= total


def _mosquitto_pub(port: int, station: str, lines: bytes) -> subprocess.Popen:
    """`mosquitto_pub -l` sending `lines`; its stdin stays open until the caller closes it,
    because at end of input it disconnects without waiting for what it still queues."""
    publisher = subprocess.Popen(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-V", "mqttv5", "-q", "1",
         "-M", "50", "-u", station, "-P", station_password(station), "-i", station,
         "-t", TOPICS.events(station), "-l"],
        stdin=subprocess.PIPE,
        bufsize=0,  # unbuffered: a few lines must not wait in our buffer
    )  # fmt: skip
    threading.Thread(target=_feed, args=(publisher.stdin, lines), daemon=True).start()
    return publisher


def _feed(pipe, data: bytes) -> None:
    view = memoryview(data)
    while view:  # an unbuffered pipe may take part of a write
        view = view[pipe.write(view) :]


def bare_rate(dir: Path, stations: list[str], per_station: int) -> float:
    dir.mkdir(parents=True)
    broker = Broker(dir / "broker", stations, extra_hubs=("barehub",))
    try:
        bare = BareHub(dir, broker)
        try:
            return pump(broker.port, stations, per_station, bare.applied_total)
        finally:
            bare.stop()
    finally:
        broker.stop()


def hub_rate(dir: Path, stations: list[str], per_station: int) -> tuple[float, float]:
    """(events/s, the hub's peak resident memory in MB)."""
    dir.mkdir(parents=True)
    broker = Broker(dir / "broker", stations)
    try:
        hub = HubProcess(dir / "hub", broker)
        try:
            time.sleep(0.5)  # its subscription follows the connect log line
            rate = pump(broker.port, stations, per_station, hub.settled_total)
            return rate, hub.peak_rss_mb()
        finally:
            hub.stop()
    finally:
        broker.stop()


def run(dir: Path, quick: bool) -> list[Figure]:
    stations = station_ids(50)
    per_station = 10 if quick else 1000
    bare = bare_rate(dir / "bare", stations, per_station)
    rate, rss = hub_rate(dir / "hub", stations, per_station)
    return [
        Figure(
            "2. hub ingest, 50 stations", rate, "ev/s", bare, ">= 85 % of bare", rate >= 0.85 * bare
        ),  # fmt: skip
        # 70 MB on 2026-11-28: no higher than that, give or take the allocator's spread.
        Figure("6. hub peak RSS after ingest", rss, "MB", None, "<= 75 MB", rss <= 75),
    ]
