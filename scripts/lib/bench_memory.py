"""6. A station's start-up time and resident memory under load (the real `python -m
station` process, a serial scanner on a pseudo-terminal, connected to a real hub)."""

import os
import re
import sqlite3
import time
import tty
from pathlib import Path

from bench_env import Broker, HubProcess, StationProcess, station_ids, wait_until
from bench_report import Figure, percentile

READY = r"station \S+ ready in ([0-9.]+)s"


class PtyScanner:
    """The station opens `path`; codes typed at the other end arrive as a serial scanner's."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def scan(self, code: str) -> None:
        os.write(self.master, code.encode() + b"\r")

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


def journal_head(path: Path) -> int:
    conn = sqlite3.connect(path, timeout=10)
    try:
        return conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0]
    finally:
        conn.close()


def start_station(dir: Path, broker: Broker, station: str, scanner: PtyScanner):
    """(process, seconds from process start until its "ready" log line)."""
    proc = StationProcess(dir, broker, station, scanner.path)
    proc.wait_log(READY, timeout=30)
    return proc, time.monotonic() - proc.started


def run(dir: Path, quick: bool) -> list[Figure]:
    starts, scans = (1, 200) if quick else (5, 5000)
    (station,) = station_ids(1)
    broker = Broker(dir / "broker", [station])
    hub = HubProcess(dir / "hub", broker)
    scanner = PtyScanner()
    startup: list[float] = []
    try:
        for _ in range(starts - 1):  # restarts: the journal and cache already exist
            proc, seconds = start_station(dir / station, broker, station, scanner)
            startup.append(seconds)
            proc.stop()
        proc, seconds = start_station(dir / station, broker, station, scanner)
        startup.append(seconds)
        try:
            for i in range(scans):  # a fast packer: one scan every 5 ms
                scanner.scan(f"BENCH-{i:06d}")
                time.sleep(0.005)
            time.sleep(1)  # the last codes reach the journal
            head = journal_head(dir / station / "data" / "journal.db")
            wait_until(lambda: hub.applied_total() >= head, 120, "scans applied")
            rss = proc.peak_rss_mb()
            logged = float(re.findall(READY, proc.log())[-1])
        finally:
            proc.stop()
    finally:
        scanner.close()
        hub.stop()
        broker.stop()
    worst = max(startup)
    return [
        Figure(f"6. station start-up (worst of {starts})", worst, "s", None, "< 2 s",
               worst < 2),  # fmt: skip
        Figure("6. station start-up, median", percentile(startup, 50), "s"),
        Figure("6. station's own 'ready in'", logged, "s"),
        Figure(f"6. station peak RSS, {scans:,} scans", rss, "MB", None, "< 60 MB", rss < 60),
    ]
