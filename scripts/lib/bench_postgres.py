"""7. The hub's ingest on PostgreSQL: row 2's load (50 stations, `mosquitto_pub`) on the
SQLite hub, on the bare path on PostgreSQL (scripts/lib/bench_bare_hub.py) and on the hub
as 1, 2 and 3 ingest workers on PostgreSQL; events/s, events/s per busy core (the events
over the CPU seconds the ingest processes used), each process's CPU; then the journal ->
ledger p99 at 500 events/s (row 3's stations) on the bare path and one ingest worker.

Targets (issue #14), as ratios in this run: one worker >= 70 % of the bare path; more
workers either grow the rate (2 workers >= 1.4x one, where a core was left free in the
one-worker run) or, where the broker, PostgreSQL and the load leave no core free, keep
each worker's events per busy core within 80 % of a lone worker's. Which bound applied is
in the figure's name. The cluster is durable (fsync, synchronous_commit on).
"""

import contextlib
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from bench_env import (
    HUB_PASSWORD,
    SETTLED_SQL,
    SITE,
    TOKEN,
    Broker,
    Child,
    cpu_seconds,
    station_ids,
)
from bench_ingest import pump
from bench_latency import stations_ms
from bench_report import Figure, percentile
from pg_cluster import FolderCluster

from hub import store
from hub.ownership import worker_pid
from kit.ports import free_port, wait_for_port
from kit.waiting import wait_until

WORKERS = (1, 2, 3)
HUBS = tuple(f"hub-{i}" for i in range(1, max(WORKERS) + 1))


@dataclass
class Cpu:
    """CPU seconds of processes over one interval, and the machine's idle cores."""

    pids: dict[str, list[int]]
    before: dict[str, float] = field(default_factory=dict)
    idle_before: float = 0.0
    started: float = 0.0

    def start(self) -> "Cpu":
        self.before = {name: _cpu(pids) for name, pids in self.pids.items()}
        self.idle_before, self.started = _idle_s(), time.perf_counter()
        return self

    def stop(self) -> tuple[dict[str, float], float, float]:
        """({name: busy cores}, idle cores of the machine, wall seconds)."""
        wall = time.perf_counter() - self.started
        busy = {name: (_cpu(pids) - self.before[name]) / wall for name, pids in self.pids.items()}
        return busy, (_idle_s() - self.idle_before) / wall, wall


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += cpu_seconds(pid)
    return total


def _idle_s() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return (int(fields[3]) + int(fields[4])) / os.sysconf("SC_CLK_TCK")


def postgres_pids(cluster: FolderCluster) -> list[int]:
    """The postmaster and its backends."""
    main = int((cluster.data / "postmaster.pid").read_text().split()[0])
    children = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                and _ppid(p) == main]  # fmt: skip
    return [main, *children]


def _ppid(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


class Database:
    """A new database of the cluster for one run, holding the hub's schema."""

    def __init__(self, cluster: FolderCluster, name: str) -> None:
        admin = cluster.url.replace("/warehouse?", "/postgres?")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        self.url = cluster.url.replace("/warehouse?", f"/{name}?")

    def count(self, sql: str) -> int:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql).fetchone()[0]


class Workers:
    """N ingest workers (`--role ingest`) on one PostgreSQL ledger; the stations known
    beforehand (lease rows, as a ledger with history has), spread over the workers before
    the load starts."""

    def __init__(self, dir: Path, broker: Broker, database: Database, stations: list[str],
                 count: int) -> None:  # fmt: skip
        conn = store.connect(database.url)
        store.create_schema(conn)
        with store.transaction(conn):
            conn.executemany("INSERT INTO station_leases (station, worker, expires_at) "
                             "VALUES (?, '', 0)", [(s,) for s in stations])  # fmt: skip
        conn.close()
        self.database = database
        self.children = [self._start(dir / f"worker-{i}", broker, i) for i in range(1, count + 1)]
        wait_until(lambda: self._balanced(len(stations)) and self._subscribed(), 60,
                   "the stations spread, each subscribed to by its worker", step=0.2)  # fmt: skip

    def _start(self, dir: Path, broker: Broker, i: int) -> Child:
        dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        config = dir / "hub.toml"
        config.write_text(
            f'[hub]\nsite = "{SITE}"\ndata_dir = "{dir.parent / "data"}"\n'
            f'[mqtt]\nport = {broker.port}\nusername = "hub-{i}"\npassword = "{HUB_PASSWORD}"\n'
            f'[web]\nport = {port}\n[api]\ntokens = ["{TOKEN}"]\n'
            f'[database]\nurl = "{self.database.url}"\n'
        )
        child = Child(["-m", "hub", "run", "--config", str(config), "--role", "ingest"],
                      dir / "hub.log")  # fmt: skip
        wait_for_port(port, timeout=60)
        child.wait_log("hub connected")
        return child

    def _balanced(self, stations: int) -> bool:
        with psycopg.connect(self.database.url, autocommit=True) as conn:
            held = conn.execute("SELECT worker, count(*) FROM station_leases WHERE "
                                "expires_at >= %s GROUP BY worker", (time.time(),)).fetchall()  # fmt: skip
        counts = [n for worker, n in held if worker]
        return (len(counts) == len(self.children) and sum(counts) == stations
                and max(counts) - min(counts) <= 1)  # fmt: skip

    def _subscribed(self) -> bool:
        """Whether each station's worker has said the broker took its subscription to the
        station's events (a worker's id holds its pid: hub.ownership.worker_pid)."""
        logs = {child.process.pid: child.log() for child in self.children}
        with psycopg.connect(self.database.url, autocommit=True) as conn:
            leases = conn.execute("SELECT station, worker FROM station_leases").fetchall()
        return all(
            re.search(rf"subscribed to the events of .*\b{station}\b", logs.get(worker_pid(worker), ""))
            for station, worker in leases
        )

    def pids(self) -> list[int]:
        return [child.process.pid for child in self.children]

    def applied_total(self) -> int:
        return self.database.count("SELECT coalesce(sum(applied), 0) FROM cursors")

    def settled_total(self) -> int:
        """`applied_total` once the outbox is empty, else 0 (bench_env.SETTLED_SQL)."""
        return self.database.count(SETTLED_SQL)

    def stop(self) -> None:
        for child in self.children:
            child.stop()


class BarePg:
    def __init__(self, broker: Broker, database: Database) -> None:
        with psycopg.connect(database.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE events (station text, epoch text, seq bigint, "
                         "payload bytea, UNIQUE (station, epoch, seq))")  # fmt: skip
        self.database = database
        script = Path(__file__).with_name("bench_bare_hub.py")
        self.process = subprocess.Popen(
            [sys.executable, str(script), str(broker.port), database.url, "barehub",
             HUB_PASSWORD, SITE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        if self.process.stdout.readline().strip() != b"ready":
            raise RuntimeError("the bare PostgreSQL hub did not start")

    def pids(self) -> list[int]:
        return [self.process.pid]

    def applied_total(self) -> int:
        return self.database.count("SELECT count(*) FROM events")

    def settled_total(self) -> int:
        """Its ack leaves in the turn of its commit: nothing waits to be published."""
        return self.applied_total()

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)


@dataclass(frozen=True)
class Run:
    rate: float  # events/s
    busy: dict[str, float]  # process -> cores used during the run
    idle: float  # cores the machine left idle

    @property
    def per_core(self) -> float:
        return self.rate / max(self.busy["ingest"], 1e-9)

    def cpu(self) -> str:
        parts = ", ".join(f"{name} {cores:.2f}" for name, cores in self.busy.items())
        return f"cores busy: {parts}; idle {self.idle:.2f}"


def measure(dir: Path, cluster: FolderCluster, stations: list[str], per_station: int,
            workers: int) -> Run:  # fmt: skip
    """One run of row 2's load; workers 0: the bare path."""
    dir.mkdir(parents=True)
    broker = Broker(dir / "broker", stations, extra_hubs=("barehub", *HUBS))
    database = Database(cluster, f"bench_{dir.name.replace('-', '_')}")
    hub = (BarePg(broker, database) if workers == 0
           else Workers(dir, broker, database, stations, workers))  # fmt: skip
    try:
        cpu = Cpu({"ingest": hub.pids(), "broker": [broker.process.pid],
                   "postgres": postgres_pids(cluster)}).start()  # fmt: skip
        rate = pump(broker.port, stations, per_station, hub.settled_total)
        busy, idle, _wall = cpu.stop()
        return Run(rate, busy, idle)
    finally:
        hub.stop()
        broker.stop()


def sqlite_run(dir: Path, stations: list[str], per_station: int) -> Run:
    """Row 2's hub on SQLite, measured again beside the PostgreSQL runs."""
    from bench_env import HubProcess

    dir.mkdir(parents=True)
    broker = Broker(dir / "broker", stations)
    try:
        hub = HubProcess(dir / "hub", broker)
        try:
            time.sleep(0.5)
            cpu = Cpu({"ingest": [hub.process.pid], "broker": [broker.process.pid]}).start()
            rate = pump(broker.port, stations, per_station, hub.settled_total)
            busy, idle, _wall = cpu.stop()
            return Run(rate, busy, idle)
        finally:
            hub.stop()
    finally:
        broker.stop()


def latency_ms(dir: Path, cluster: FolderCluster, count: int, bare: bool) -> list[float]:
    """Row 3's stations at 500 events/s into the bare path or one ingest worker."""
    database = Database(cluster, f"lat_{'bare' if bare else 'hub'}")

    def make_hub(hub_dir: Path, broker: Broker):
        if bare:
            return BarePg(broker, database)
        return Workers(hub_dir, broker, database, station_ids(10), 1)

    return stations_ms(dir, count, bare=bare, make_hub=make_hub,
                       extra_hubs=("barehub", *HUBS))  # fmt: skip


def run(dir: Path, quick: bool) -> list[Figure]:
    stations = station_ids(50)
    per_station = 10 if quick else 1000
    dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:  # the work folder (mkdtemp: 0700) must let `postgres` through
        dir.parent.chmod(0o711)
    cluster = FolderCluster(dir / "postgres").start()
    try:
        sqlite = sqlite_run(dir / "sqlite", stations, per_station)
        bare = measure(dir / "bare", cluster, stations, per_station, 0)
        runs = {n: measure(dir / f"workers-{n}", cluster, stations, per_station, n)
                for n in WORKERS}  # fmt: skip
        count = 250 if quick else 5000
        skip = count // 20
        bare_ms = latency_ms(dir / "lat-bare", cluster, count, bare=True)[skip:]
        hub_ms = latency_ms(dir / "lat-hub", cluster, count, bare=False)[skip:]
    finally:
        cluster.stop()
    for name, measured in (("sqlite hub", sqlite), ("pg bare", bare),
                           *((f"pg {n} worker(s)", r) for n, r in runs.items())):  # fmt: skip
        print(f"   {name}: {measured.rate:,.0f} ev/s, {measured.per_core:,.0f} ev/s per "
              f"busy ingest core; {measured.cpu()}", flush=True)  # fmt: skip
    one = runs[1]
    figures = [
        Figure("7. SQLite hub (row 2's load)", sqlite.rate, "ev/s"),
        Figure("7. SQLite hub per busy core", sqlite.per_core, "ev/s"),
        Figure(
            "7. PG hub, 1 ingest worker",
            one.rate,
            "ev/s",
            bare.rate,
            ">= 70 % of PG bare",
            one.rate >= 0.7 * bare.rate,
        ),  # fmt: skip
        Figure("7. PG 1 worker per busy core", one.per_core, "ev/s", bare.per_core),
    ]
    # A core free in the one-worker run: more workers must add throughput.
    free = one.idle >= 1.0
    for n in WORKERS[1:]:
        r = runs[n]
        if free:
            figures.append(Figure(f"7. PG hub, {n} workers (a core was free)", r.rate, "ev/s",
                                  one.rate, ">= 1.4x 1 worker", r.rate >= 1.4 * one.rate))  # fmt: skip
        else:
            figures.append(Figure(f"7. PG hub, {n} workers", r.rate, "ev/s", one.rate))
            figures.append(Figure(f"7. PG {n} workers per busy core (no core free)",
                                  r.per_core, "ev/s", one.per_core,
                                  ">= 80 % of 1 worker's", r.per_core >= 0.8 * one.per_core))  # fmt: skip
    figures += [
        Figure(
            "7. PG journal -> ledger p99 @500/s, 1 worker",
            percentile(hub_ms, 99),
            "ms",
            percentile(bare_ms, 99),
        ),  # fmt: skip
    ]
    return figures
