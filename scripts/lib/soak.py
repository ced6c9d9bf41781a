"""The soak run behind `scripts/soak`.

Stations are simulated in this one process, each with the real `Journal` (its own SQLite
file, WAL, synchronous=FULL) and the real `Uplink` (its own paho client and publisher
thread): that is the whole path an event takes from a station's disk to the hub, minus
the bench workflow, which adds nothing to what a soak measures. Fifty real station
processes would need fifty scanners typed at 6 codes a second each and about 2 GB of
RAM; one process keeps the machine's capacity for the hub and the broker, whose memory
and lag are what the soak is about. The hub and Mosquitto are the real processes.

Every `--cut-every` minutes the stations' network is cut for `--cut-for` seconds (a TCP
proxy between them and the broker refuses and resets everything): they go on journaling,
and the hub must catch up afterwards with nothing lost or doubled.

The broker's memory is judged by Mosquitto's own count of what it has allocated
(`$SYS/broker/heap/current`), not its RSS: after a cut the stations' backlog waits in
the broker's queue for the hub, and the C library keeps the pages it freed, so the RSS
stays at the biggest backlog held so far while the heap goes back down. Both are printed.
"""

import argparse
import collections
import contextlib
import json
import logging
import os
import random
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from bench_env import free_port, wait_for_port  # noqa: E402 (beside this file)
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from hub import brokerconf  # noqa: E402
from protocol.events import Adjustment, Scan  # noqa: E402
from protocol.topics import Topics  # noqa: E402
from station.config import MqttSection  # noqa: E402
from station.ledger.journal import Journal  # noqa: E402
from station.ledger.uplink import Uplink  # noqa: E402
from tests.faults.proxy import FaultProxy  # noqa: E402

SITE = "soak"
MONITOR = "soak_monitor"  # reads the broker's heap count ($SYS), nothing else
HEAP_TOPIC = "$SYS/broker/heap/current"
SKUS = [f"SKU-{i:03d}" for i in range(200)]
LOCATIONS = [f"A-{i:02d}" for i in range(20)]


class BrokerHeap:
    """The broker's own count of allocated bytes, as it publishes it every few seconds."""

    def __init__(self, port: int, password: str) -> None:
        self.mb = float("nan")
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=MONITOR)
        self.client.username_pw_set(MONITOR, password)
        self.client.on_connect = lambda client, *args: client.subscribe(HEAP_TOPIC)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client, userdata, message) -> None:
        self.mb = int(message.payload.split()[0]) / 1024 / 1024

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class SimStation:
    """One station: a journal the driver appends to and the uplink that drains it."""

    def __init__(self, name: str, data: Path, port: int, password: str) -> None:
        self.name = name
        self.journal = Journal(data / name / "journal.db", name)
        config = MqttSection(port=port, username=name, password=password)
        self.uplink = Uplink(config, Topics(SITE), name, self.journal.reader(),
                             lambda _message: None, dict)  # fmt: skip
        self.journaled_at: collections.deque[tuple[int, float]] = collections.deque()

    def append(self, rng: random.Random) -> None:
        if rng.random() < 0.5:
            event = Adjustment(sku=rng.choice(SKUS), qty=rng.randint(-5, 5) or 1,
                               location=rng.choice(LOCATIONS), reason="correction")  # fmt: skip
        else:
            event = Scan(code=f"{rng.randrange(10**13):013d}", verdict="ok", mode="pack")
        [seq] = self.journal.append([event])
        self.journaled_at.append((seq, time.monotonic()))
        self.uplink.notify()

    def oldest_unapplied_age(self, applied: int, now: float) -> float:
        while self.journaled_at and self.journaled_at[0][0] <= applied:
            self.journaled_at.popleft()
        return now - self.journaled_at[0][1] if self.journaled_at else 0.0


@dataclass
class Sample:
    elapsed: float
    journaled: int
    applied: int
    lag_s: float
    rss: dict[str, float]


@dataclass
class Soak:
    var: Path
    stations: int
    rate: float
    minutes: float
    events: int | None
    sample_s: float
    cut_every_s: float
    cut_for_s: float
    children: dict[str, subprocess.Popen] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    # --- the processes --------------------------------------------------------------
    def start(self) -> None:
        shutil.rmtree(self.var, ignore_errors=True)
        self.var.mkdir(parents=True)
        self.port = free_port()
        self.passwords = {name: secrets.token_urlsafe(12) for name in self.names()}
        self.passwords["hub"] = secrets.token_urlsafe(12)
        layout = brokerconf.BrokerLayout(self.var / "broker", port=self.port, site=SITE)
        brokerconf.write_config(layout, run_as_root=os.geteuid() == 0)
        brokerconf.add_user(layout, "hub", self.passwords["hub"], "hub")
        for name in self.names():
            brokerconf.add_user(layout, name, self.passwords[name], "station")
        self.passwords[MONITOR] = secrets.token_urlsafe(12)
        brokerconf.add_user(layout, MONITOR, self.passwords[MONITOR], "reader")
        # Only the soak's broker lets its monitor read $SYS (no role does).
        layout.acl.write_text(layout.acl.read_text() + f"\nuser {MONITOR}\ntopic read {HEAP_TOPIC}\n")
        layout.conf.write_text(layout.conf.read_text() + "sys_interval 2\n")
        self._spawn("broker", ["mosquitto", "-c", str(layout.conf)])
        wait_for_port(self.port)
        self.heap = BrokerHeap(self.port, self.passwords[MONITOR])
        self.web_port = free_port()
        self.hub_config = self.var / "hub.toml"
        self.hub_config.write_text(
            f'[hub]\nsite = "{SITE}"\ndata_dir = "{self.var / "hub"}"\n'
            f'[mqtt]\nport = {self.port}\nusername = "hub"\npassword = "{self.passwords["hub"]}"\n'
            f"[web]\nport = {self.web_port}\n"
        )
        self._spawn("hub", [sys.executable, "-m", "hub", "run", "--config", str(self.hub_config)])
        wait_for_port(self.web_port)
        self.proxy = FaultProxy(self.port).start()
        self.sims = [SimStation(name, self.var / "stations", self.proxy.port,
                                self.passwords[name]) for name in self.names()]  # fmt: skip
        for sim in self.sims:
            sim.uplink.start()

    def names(self) -> list[str]:
        return [f"soak-{i:03d}" for i in range(self.stations)]

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.var / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.children[name] = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=log, env=env)

    def stop(self) -> None:
        if hasattr(self, "heap"):
            self.heap.stop()
        for sim in getattr(self, "sims", []):
            sim.uplink.stop()
            sim.journal.close()
        if hasattr(self, "proxy"):
            self.proxy.close()
        for name in ("hub", "broker"):
            child = self.children.get(name)
            if child and child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(15)
                except subprocess.TimeoutExpired:
                    child.kill()

    # --- the run --------------------------------------------------------------------
    def run(self) -> None:
        stop = threading.Event()
        driver = threading.Thread(target=self._drive, args=(stop,), daemon=True)
        driver.start()
        faults = threading.Thread(target=self._network_faults, args=(stop,), daemon=True)
        faults.start()
        started = time.monotonic()
        deadline = started + self.minutes * 60
        print(self._header(), flush=True)
        try:
            while time.monotonic() < deadline and driver.is_alive():
                time.sleep(min(self.sample_s, max(0.0, deadline - time.monotonic())))
                self._sample(started)
        finally:
            stop.set()
            driver.join()
            faults.join()
        print("-- stopped writing; waiting for the hub to catch up", flush=True)
        catch_up = time.monotonic() + 300
        while self._applied_total() < self._journaled_total() and time.monotonic() < catch_up:
            time.sleep(1)
        self._sample(started)

    def _network_faults(self, stop: threading.Event) -> None:
        """The stations' network goes down every `cut_every_s` for `cut_for_s` seconds."""
        while self.cut_every_s and not stop.wait(self.cut_every_s):
            print(f"-- network cut for {self.cut_for_s:.0f} s", flush=True)
            self.proxy.cut()
            stop.wait(self.cut_for_s)
            self.proxy.restore()
            print("-- network restored", flush=True)

    def _drive(self, stop: threading.Event) -> None:
        """Append at `rate` events/s in total, round-robin over the stations."""
        rng = random.Random(1)
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        count = 0
        while not stop.is_set() and (self.events is None or count < self.events):
            self.sims[count % len(self.sims)].append(rng)
            count += 1
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1.0:
                next_at = time.monotonic()  # fell behind: go on at the rate, not in a burst

    def _journaled_total(self) -> int:
        return sum(sim.journal.head for sim in self.sims)

    def _cursors(self) -> dict[str, int]:
        with contextlib.closing(sqlite3.connect(self.var / "hub" / "ledger.db", timeout=30)) as c:
            return dict(c.execute("SELECT station, applied FROM cursors").fetchall())

    def _applied_total(self) -> int:
        return sum(self._cursors().values())

    def _sample(self, started: float) -> None:
        cursors = self._cursors()
        now = time.monotonic()
        lag = max((s.oldest_unapplied_age(cursors.get(s.name, 0), now) for s in self.sims),
                  default=0.0)  # fmt: skip
        rss = {"hub": rss_mb(self.children["hub"].pid),
               "broker": rss_mb(self.children["broker"].pid), "stations": rss_mb(os.getpid()),
               "broker heap": self.heap.mb}  # fmt: skip
        sample = Sample(now - started, self._journaled_total(), sum(cursors.values()), lag, rss)
        self.samples.append(sample)
        print(self._row(sample), flush=True)

    @staticmethod
    def _header() -> str:
        return (f"{'t (s)':>8} {'journaled':>10} {'applied':>10} {'behind':>7} {'lag s':>6} "
                f"{'hub MB':>7} {'broker MB':>9} {'heap MB':>7} {'stations MB':>11}")  # fmt: skip

    @staticmethod
    def _row(s: Sample) -> str:
        return (f"{s.elapsed:8.0f} {s.journaled:10d} {s.applied:10d} {s.journaled - s.applied:7d} "
                f"{s.lag_s:6.2f} {s.rss['hub']:7.1f} {s.rss['broker']:9.1f} "
                f"{s.rss['broker heap']:7.1f} {s.rss['stations']:11.1f}")  # fmt: skip

    # --- the verdict ----------------------------------------------------------------
    def verdict(self) -> list[str]:
        problems = []
        loss, duplicates = self._loss_and_duplicates()
        if loss:
            problems.append(f"{loss} journaled events are not in the ledger")
        if duplicates:
            problems.append(f"{duplicates} events are in the ledger twice")
        check = subprocess.run(
            [sys.executable, "-m", "hub", "check", "--config", str(self.hub_config)],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if check.returncode != 0:
            problems.append(f"hub check failed: {check.stdout or check.stderr}")
        problems += self._memory_growth()
        print(f"\nstations {self.stations}, events {self._journaled_total()}, "
              f"lost {loss}, duplicated {duplicates}, "
              f"max lag {max(s.lag_s for s in self.samples):.2f} s, "
              f"hub check {'ok' if check.returncode == 0 else 'FAILED'}")  # fmt: skip
        return problems

    def _loss_and_duplicates(self) -> tuple[int, int]:
        path = self.var / "hub" / "ledger.db"
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
            rows = conn.execute(
                "SELECT station, epoch, count(*), count(DISTINCT seq) FROM events "
                "GROUP BY station, epoch"
            ).fetchall()
        in_ledger = {(s, e): (n, d) for s, e, n, d in rows}
        loss = duplicates = 0
        for sim in self.sims:
            count, distinct = in_ledger.get((sim.name, sim.journal.epoch), (0, 0))
            loss += sim.journal.head - distinct
            duplicates += count - distinct
        return loss, duplicates

    def _memory_growth(self) -> list[str]:
        """Compare the middle and the last third of the run (the first third is warm-up:
        caches, SQLite page cache, paho buffers). Flat means < 10 % and < 16 MB more."""
        running = self.samples[:-1] or self.samples
        third = max(1, len(running) // 3)
        if len(running) < 3:
            return ["too few samples to judge memory: run longer or sample more often"]
        problems = []
        print(f"\n{'process':<11} {'middle MB':>10} {'last MB':>10} {'growth':>8}")
        # The broker by its heap: its RSS keeps the high-water mark of its queues (above).
        for name in ("hub", "broker heap", "stations"):
            middle = _mean([s.rss[name] for s in running[third : 2 * third]])
            last = _mean([s.rss[name] for s in running[-third:]])
            growth = last - middle
            print(f"{name:<11} {middle:10.1f} {last:10.1f} {growth:+8.1f}")
            if growth > max(16.0, 0.10 * middle):
                problems.append(f"{name} memory grew from {middle:.1f} to {last:.1f} MB")
        return problems


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--rate", type=float, default=300, help="events per second, in total")
    parser.add_argument("--events", type=int, default=None, help="stop writing after this many")
    parser.add_argument("--sample-s", type=float, default=None, help="default: minutes * 2")
    parser.add_argument("--cut-every", type=float, default=15, help="minutes; 0: never")
    parser.add_argument("--cut-for", type=float, default=120, help="seconds")
    parser.add_argument("--var", type=Path, default=ROOT / "var" / "soak")
    args = parser.parse_args()
    args.var.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.WARNING, filename=args.var.parent / "soak-stations.log",
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    sample_s = args.sample_s or max(2.0, min(30.0, args.minutes * 2))
    soak = Soak(args.var, args.stations, args.rate, args.minutes, args.events, sample_s,
                args.cut_every * 60, args.cut_for)  # fmt: skip
    try:
        soak.start()
        soak.run()
        problems = soak.verdict()
    finally:
        soak.stop()
    print(json.dumps({"ok": not problems, "problems": problems}, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
