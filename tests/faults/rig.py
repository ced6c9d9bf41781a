"""A rig of real processes for fault scenarios: Mosquitto, the hub and stations, each
client behind its own `FaultProxy`, packers typing into pseudo-terminal scanners, and the
one verdict every scenario ends with: every journaled event is in the ledger exactly once.

Random timing comes from one seeded `random.Random`; the seed is printed (pytest shows it
with a failure) and `FAULT_SEED=n` replays it.
"""

import contextlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from hub.ownership import worker_pid
from kit.faultproxy import FaultProxy
from kit.waiting import wait_steady
from protocol.envelope import decode_event
from station.drivers.sim.serial_scanner import SimSerialScanner
from tests.broker import Broker, start_broker
from tests.harness import ROOT, TOKEN, Hub, Station, wait_until

GTIN = "4006381333931"
SKU = "MUG-1"
BADGE = "OP:alice"


@dataclass(frozen=True)
class Endpoint:
    """What `Hub` and `Station` need of a broker: the port they connect to (a proxy's)."""

    port: int


def password(user: str) -> str:
    return f"{user}-secret"


class Packer:
    """A packer at one station: badge, order, a wrong item, the right item (which ships the
    one-line order: no scale is configured), again and again. The badge comes again with
    every order because a station that was killed or restarted forgets who was at it.
    Like a packer at a dark screen, it waits while the station is down (codes scanned in
    the moment before it notices are lost, as at a real bench): on a loaded machine a
    restart can take longer than all its scans would."""

    def __init__(self, station: Station, orders: list[str], rng: random.Random) -> None:
        self.station = station
        self.orders = orders
        self.rng = rng
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._work, name="packer", daemon=True)

    def _work(self) -> None:
        for order in self.orders:
            for code in (BADGE, order, "0000000000000", GTIN):
                if self.stop_flag.is_set():
                    return
                self.station.up.wait(60)
                self.station.scanner.scan(code)
                time.sleep(self.rng.uniform(0.01, 0.05))

    def start(self) -> "Packer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_flag.set()
        self.thread.join(30)

    def join(self, timeout: float = 60) -> None:
        self.thread.join(timeout)


def journal_rows(path: Path) -> tuple[str, list[tuple[int, bytes]]]:
    """(epoch, [(seq, payload)]) of one journal file, read as the station wrote it."""
    conn = sqlite3.connect(path, timeout=10)
    try:
        epoch = conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]
        rows = conn.execute("SELECT seq, payload FROM journal ORDER BY seq").fetchall()
        return epoch, [(seq, bytes(payload)) for seq, payload in rows]
    finally:
        conn.close()


# Ingest workers of a rig with several: a worker silent this long loses its stations.
WORKER_LEASE_S = 2.0


class Rig:
    """`workers`: 0 for the single hub process (`--role all`); else one web process and
    that many ingest workers, each its own broker user behind its own proxy, on one
    ledger (`self.hub` is then the web process: the API and the ledger's file)."""

    def __init__(
        self, tmp_path: Path, stations: tuple[str, ...] = ("pack-1",), workers: int = 0
    ) -> None:
        self.dir = tmp_path
        self.seed = int(os.environ.get("FAULT_SEED") or random.randrange(2**32))
        print(f"fault seed {self.seed} (FAULT_SEED={self.seed} replays this run)")
        self.random = random.Random(self.seed)
        users = {"hub": (password("hub"), "hub"), "observer_test": (password("obs"), "reader")}
        users |= {name: (password(name), "station") for name in stations}
        users |= {f"hub-{i}": (password(f"hub-{i}"), "hub") for i in range(1, workers + 1)}
        self.broker: Broker = start_broker(tmp_path / "broker", users)
        self.hub_proxy = FaultProxy(self.broker.port).start()
        self.workers: list[Hub] = []
        self.worker_proxies: list[FaultProxy] = []
        if workers:
            data = tmp_path / "data"
            self.hub = Hub(tmp_path / "web", Endpoint(self.hub_proxy.port), password("hub"),
                           role="web", data_dir=data)  # fmt: skip
            for i in range(1, workers + 1):
                proxy = FaultProxy(self.broker.port).start()
                self.worker_proxies.append(proxy)
                self.workers.append(Hub(
                    tmp_path / f"worker-{i}", Endpoint(proxy.port), password(f"hub-{i}"),
                    role="ingest", username=f"hub-{i}", data_dir=data,
                    ingest_config=f"lease_s = {WORKER_LEASE_S}\n",
                ))  # fmt: skip
        else:
            self.hub = Hub(tmp_path / "hub", Endpoint(self.hub_proxy.port), password("hub"))
        self.proxies: dict[str, FaultProxy] = {}
        self.stations: dict[str, Station] = {}
        self.old_journals: list[Path] = []  # journals of re-imaged stations, still to account for
        for name in stations:
            proxy = FaultProxy(self.broker.port).start()
            self.proxies[name] = proxy
            self.stations[name] = Station(
                tmp_path / name, Endpoint(proxy.port), name, password(name), SimSerialScanner()
            )

    # --- lifecycle ------------------------------------------------------------------
    def __enter__(self) -> "Rig":
        # A setup that fails stops what it started: left running, its stations would keep
        # their pseudo-terminals locked and its processes load the next tests.
        try:
            self.hub.start()
            for worker in self.workers:
                worker.start()
            for station in self.stations.values():
                station.start(wait=False)
            for station in self.stations.values():
                station.wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for station in self.stations.values():
            if station.proc:
                station.stop()
            station.scanner.close()
        for worker in self.workers:
            if worker.proc:
                worker.stop()
        if self.hub.proc:
            self.hub.stop()
        for proxy in [self.hub_proxy, *self.worker_proxies, *self.proxies.values()]:
            proxy.close()
        self.broker.stop()

    @contextlib.contextmanager
    def supervised(self, restart_s: float = 2.0):
        """The hub's processes restarted when they exit, as systemd's `Restart=always`
        (`RestartSec=2`) does with the hub's units: a process that lost its database stops
        and comes back once the database answers. Yields the list of restarts made."""
        restarts: list[str] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(restart_s):
                for hub in [self.hub, *self.workers]:
                    if hub.proc and not hub.proc.running:
                        restarts.append(f"{hub.dir.name} (exit {hub.proc.process.returncode})")
                        hub.proc.start()

        thread = threading.Thread(target=watch, name="supervisor", daemon=True)
        thread.start()
        try:
            yield restarts
        finally:
            stop.set()
            thread.join(30)

    def sleep(self, low: float, high: float) -> float:
        seconds = self.random.uniform(low, high)
        time.sleep(seconds)
        return seconds

    # --- work -----------------------------------------------------------------------
    def orders_for(self, station: str, count: int) -> list[str]:
        return [f"SO-{station}-{i}" for i in range(count)]

    def publish_orders(self, count: int) -> None:
        """One product, and `count` one-line orders per station, cached at every station."""
        product = {"sku": SKU, "name": "Mug", "gtins": [{"gtin": GTIN}]}
        self.hub.api("POST", "/api/products", [product])
        for name in self.stations:
            orders = [{"order": o, "lines": [{"sku": SKU, "qty": 1}]}
                      for o in self.orders_for(name, count)]  # fmt: skip
            self.hub.api("POST", "/api/orders", orders)
        for station in self.stations.values():
            wait_until(lambda s=station: s.cached("orders") >= count * len(self.stations),
                       30, f"orders cached at {station.station_id}")  # fmt: skip

    def packers(self, count: int) -> list[Packer]:
        return [
            Packer(station, self.orders_for(name, count), random.Random(self.random.random()))
            for name, station in self.stations.items()
        ]

    # --- several ingest workers -------------------------------------------------------
    def leases(self) -> dict[str, str]:
        """station -> the worker id holding its unexpired lease ('' if none does)."""
        now = time.time()
        rows = self.hub.query("SELECT station, worker, expires_at FROM station_leases")
        return {station: worker if expires >= now else "" for station, worker, expires in rows}

    def worker_of(self, station: str, timeout: float = 30) -> Hub:
        """The ingest worker process that owns `station` now, or as soon as one does: on a
        loaded machine a lease may run out before its worker renews it (a full run once
        read it in that moment)."""
        owner = wait_until(lambda: self.leases().get(station), timeout,
                           f"{station} owned by a worker")  # fmt: skip
        pid = worker_pid(owner)
        return next(w for w in self.workers if w.proc.process.pid == pid)

    def wait_stations_owned(self, timeout: float = 30) -> None:
        """Until every station has a live owner."""

        def owned() -> bool:
            leases = self.leases()
            return set(self.stations) <= set(leases) and all(leases[s] for s in self.stations)

        wait_until(owned, timeout, "every station owned by a worker")

    # --- the verdict ----------------------------------------------------------------
    def journals(self) -> list[Path]:
        current = [s.journal_path for s in self.stations.values() if s.journal_path.exists()]
        return [*self.old_journals, *current]

    def journal_ends(self) -> dict[tuple[str, str], int]:
        """{(station, epoch): last seq} of every journal."""
        ends = {}
        for path in self.journals():
            epoch, rows = journal_rows(path)
            if rows:  # an old journal and a copy of it may share an epoch
                key = decode_event(rows[-1][1]).station, epoch
                ends[key] = max(ends.get(key, 0), rows[-1][0])
        return ends

    def wait_all_applied(self, timeout: float = 60) -> None:
        """Until every journal is applied to its end, and has stayed at that end for a
        while: a packer's last codes may still wait in the scanner's pseudo-terminal after
        the packer is done, and a station busy on a loaded machine journals them late."""
        wait_steady(self.journal_ends, self._applied, 2.0, timeout, "every journaled event applied")

    def _applied(self, ends: dict[tuple[str, str], int]) -> bool:
        return all(self.cursor(station, epoch) >= seq for (station, epoch), seq in ends.items())

    def cursor(self, station: str, epoch: str) -> int:
        rows = self.hub.query(
            "SELECT applied FROM cursors WHERE station = ? AND epoch = ?", (station, epoch)
        )
        return rows[0][0] if rows else 0

    def assert_exactly_once(self, expect_dead_letters: bool = False) -> None:
        """Every event of every journal is in the ledger once, with the data the station
        wrote, nothing else is, and `python -m hub check` finds the ledger sound."""
        journaled = set()
        for path in self.journals():
            for _seq, payload in journal_rows(path)[1]:
                event = decode_event(payload)
                journaled.add((event.station, event.epoch, event.seq, event.type, event.raw))
        in_ledger = self.hub.query("SELECT station, epoch, seq, type, data FROM events")
        ledger = [(s, e, q, t, d.encode()) for s, e, q, t, d in in_ledger]
        assert len(ledger) == len(set(ledger)), f"duplicates in the ledger (seed {self.seed})"
        missing = journaled - set(ledger)
        extra = set(ledger) - journaled
        # Keys and the hub's own account of them, so a failure says what went wrong.
        keys = sorted(f"{s}/{e}/{q} {t}" for s, e, q, t, _ in missing | extra)
        failed = self.hub.query("SELECT station, epoch, seq, reason FROM event_failures")
        detail = f"(seed {self.seed}): {keys[:10]}; event_failures {failed[:5]}"
        assert not missing, f"{len(missing)} journaled events not in the ledger {detail}"
        assert not extra, f"{len(extra)} ledger events no journal has {detail}"
        if not expect_dead_letters:
            assert self.hub.query("SELECT reason FROM dead_letters") == []
        report = self.check()
        assert report["ok"] and not report["held"], f"seed {self.seed}: {report}"

    def check(self) -> dict:
        result = subprocess.run(
            [sys.executable, "-m", "hub", "check", "--config", str(self.hub.config_path)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return json.loads(result.stdout)

    def reimage(self, name: str) -> None:
        """A new SD card: the station gets a fresh data directory, so a new journal and epoch.
        The old journal is kept aside only to account for what it had sent."""
        station = self.stations[name]
        old = self.dir / f"{name}-old-{len(self.old_journals)}"
        shutil.move(station.dir / "data", old)
        self.old_journals.append(old / "journal.db")


def copy_journal(source: Path, target_dir: Path) -> Path:
    """journal.db, -wal, -shm copied one after the other while the writer may be running:
    what a power cut could leave (each file as it was at a slightly different moment)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            shutil.copyfile(f"{source}{suffix}", target_dir / f"{source.name}{suffix}")
    return target_dir / source.name


__all__ = ["TOKEN", "Endpoint", "Packer", "Rig", "journal_rows", "password"]
