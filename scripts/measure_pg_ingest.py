"""Measures an ingest worker's CPU per event on PostgreSQL, in-process: bench 7's load (50
stations, bench_env's events: two scans per receipt) through `Ingest.process` in batches,
on a durable cluster of its own (fsync and synchronous_commit on), no MQTT. Prints, per
batch, events/s, the CPU per event of this process (the worker's Python and psycopg)
and of its PostgreSQL backend, and the statements per event (each `execute` and
`executemany` call, counted at the connection: on PostgreSQL each is a round trip) and the
rows per event given to `execute_later` (on PostgreSQL sent together, each statement's
rows in one COPY or `executemany`, before the next other statement; on SQLite each run at
once), and the same load on SQLite for comparison. The outbox
rows each batch writes are deleted after it, as the publisher would.

Usage: scripts/measure-pg-ingest [--batches 4] [--batch 900] [--profile FILE]
[--statements N] [--server N] (`--statements` lists the N most frequent statements;
`--server` the N statements the server spent most time executing, per event, from
pg_stat_statements, which it loads into its cluster for that; `--profile` writes
cProfile's statistics of the PostgreSQL batches to FILE and prints the top functions by
own time.)
"""

import argparse
import collections
import cProfile
import dataclasses
import pstats
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts" / "lib")]

from bench_env import SITE, cpu_seconds, encoded_events, station_ids  # noqa: E402
from pg_cluster import DATABASE, FolderCluster  # noqa: E402

from hub import store  # noqa: E402
from hub.ingest import Incoming, Ingest  # noqa: E402
from protocol.topics import Topics  # noqa: E402

TOPICS = Topics(SITE)
EPOCH = "0123456789abcdef"
STATIONS = 50


def messages(batches: int, size: int) -> list[list[Incoming]]:
    """The stations' events interleaved as the broker delivers them (each in seq order)."""
    per_station = -(-batches * size // STATIONS)
    streams = [encoded_events(s, i, EPOCH, per_station)
               for i, s in enumerate(station_ids(STATIONS))]  # fmt: skip
    flat = [Incoming(TOPICS.events(f"st-{i + 1:03d}"), payload)
            for row in zip(*streams, strict=True) for i, payload in enumerate(row)]  # fmt: skip
    return [flat[k * size : (k + 1) * size] for k in range(batches)]


class Counted:
    """A SQLite connection that counts the statements given to it (sqlite3's own
    connection takes no attributes, so this stands in front of it)."""

    def __init__(self, conn, counts: collections.Counter) -> None:
        self._conn, self.counts = conn, counts

    def execute(self, sql: str, *params):
        self.counts[_short(sql)] += 1
        return self._conn.execute(sql, *params)

    def executemany(self, sql: str, rows):
        self.counts["many: " + _short(sql)] += 1
        return self._conn.executemany(sql, rows)

    def execute_later(self, sql: str, params) -> None:
        self.counts[LATER + _short(sql)] += 1
        self._conn.execute_later(sql, params)

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


def counted(conn, counts: collections.Counter):
    """`conn` for the ingest, counting its statements into `counts` by their text (the
    outbox's clearing after each batch, the publisher's work, goes through `conn` itself).
    PostgreSQL's connection, which the store recognises by its type, is a copy of it
    sharing its session."""
    if not store.is_postgres(conn):
        return Counted(conn, counts)
    conn = dataclasses.replace(conn)
    execute, executemany, execute_later = conn.execute, conn.executemany, conn.execute_later

    def count_execute(sql: str, *params):
        counts[_short(sql)] += 1
        return execute(sql, *params)

    def count_executemany(sql: str, rows):
        counts["many: " + _short(sql)] += 1
        return executemany(sql, rows)

    def count_execute_later(sql: str, params):
        counts[LATER + _short(sql)] += 1
        return execute_later(sql, params)

    conn.execute, conn.executemany = count_execute, count_executemany
    conn.execute_later = count_execute_later
    return conn


LATER = "later: "


def statements(counts: collections.Counter) -> tuple[int, int]:
    """(statements, rows given to `execute_later`) counted so far."""
    later = sum(n for text, n in counts.items() if text.startswith(LATER))
    return sum(counts.values()) - later, later


def _short(sql: str) -> str:
    return " ".join(sql.split())[:100]


def run(conn, batches: list[list[Incoming]], backend: int | None, profile,
        counts: collections.Counter) -> None:  # fmt: skip
    ingest = Ingest(counted(conn, counts), TOPICS, zone=UTC)
    events = 0
    for batch in batches:
        before, before_later = statements(counts)
        cpu, wall = time.process_time(), time.perf_counter()
        server = cpu_seconds(backend) if backend else 0.0
        if profile is not None:
            profile.enable()
        result = ingest.process(batch)
        if profile is not None:
            profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server = cpu_seconds(backend) - server if backend else 0.0
        sent, later = statements(counts)
        sent, later = sent - before, later - before_later
        with store.transaction(conn):
            conn.execute("DELETE FROM outbox")
        n = result.applied
        assert n == len(batch), f"applied {n} of {len(batch)}"
        events += n
        print(f"  {n} events: {n / wall:7.0f} ev/s, worker {1000 * cpu / n:.3f} ms/event, "
              f"backend {1000 * server / n:.3f} ms/event, {sent / n:.2f} statements/event, "
              f"{later / n:.2f} rows/event later",
              flush=True)  # fmt: skip
    sent, later = statements(counts)
    print(f"  in all: {sent / events:.2f} statements/event, {later / events:.2f} rows/event "
          "later", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--batch", type=int, default=900)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--statements", type=int, default=0, metavar="N",
                        help="list the N most frequent statements per event, per backend")
    parser.add_argument("--server", type=int, default=0, metavar="N",
                        help="list the N statements PostgreSQL spent most time executing")
    args = parser.parse_args()
    load = messages(args.batches, args.batch)
    with tempfile.TemporaryDirectory(prefix="measure-pg-ingest-", dir=ROOT / "var"
                                     if (ROOT / "var").is_dir() else None) as tmp:  # fmt: skip
        Path(tmp).chmod(0o755)
        print("SQLite (WAL, FULL):")
        conn = store.connect(Path(tmp) / "ledger.db")
        store.create_schema(conn)
        counts = collections.Counter()
        run(conn, load, None, None, counts)
        conn.close()
        _most(counts, args.statements, sum(map(len, load)))
        cluster = FolderCluster(Path(tmp) / "postgres").start()
        try:
            if args.server:
                _track_statements(cluster)
            conn = store.connect(cluster.url)
            store.create_schema(conn)
            if args.server:
                conn.execute("SELECT pg_stat_statements_reset()")
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            print("PostgreSQL (fsync, synchronous_commit on):")
            profile = cProfile.Profile() if args.profile else None
            counts = collections.Counter()
            run(conn, load, backend, profile, counts)
            _most(counts, args.statements, sum(map(len, load)))
            if args.server:
                _server_most(conn, args.server, sum(map(len, load)))
            conn.close()
        finally:
            cluster.stop()
    if profile is not None:
        profile.dump_stats(args.profile)
        pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(25)


def _track_statements(cluster: FolderCluster) -> None:
    """pg_stat_statements in the cluster (a library loaded at the server's start)."""
    admin = cluster.url.replace(f"/{DATABASE}?", "/postgres?")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    cluster.stop()
    cluster.start()
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")


def _server_most(conn, n: int, events: int) -> None:
    """The statements of the batches (and the outbox's clearing) by the server's time."""
    total = conn.execute("SELECT sum(total_exec_time) FROM pg_stat_statements").fetchone()[0]
    print(f"  the server executing statements: {1000 * total / events:.1f} us/event")
    rows = conn.execute("SELECT total_exec_time, calls, rows, query FROM pg_stat_statements "
                        "ORDER BY total_exec_time DESC LIMIT ?", (n,))  # fmt: skip
    for ms, calls, count, query in rows:
        print(f"  {1000 * ms / events:6.1f} us/event {calls:6d} calls {count:7d} rows  "
              f"{_short(query)}")


def _most(counts: collections.Counter, n: int, events: int) -> None:
    for text, count in counts.most_common(n):
        print(f"  {count / events:6.3f}/event  {text}")


if __name__ == "__main__":
    main()
