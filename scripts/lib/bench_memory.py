"""6. A station's start-up time and resident memory under load (the real `python -m
station` process, a serial scanner on a pseudo-terminal, connected to a real hub)."""

import json
import re
import sqlite3
import time
from pathlib import Path

from bench_env import Broker, HubProcess, StationProcess, station_ids
from bench_report import Figure, percentile

from kit.waiting import wait_until
from station.drivers.sim.serial_scanner import SimSerialScanner

READY = r"station \S+ ready in ([0-9.]+)s"
# The scanner's port is open: pyserial's open() flushes whatever the port had queued, so
# codes typed before this line are gone (as at a real bench, where a closed tty keeps
# nothing). The station's own "ready" line can come first: devices open in their threads.
SCANNER_OPEN = r"device hand: ready"
# A valid EAN-13 typed after the 5,000 codes of the warehouse's own format: the station
# imports biip (and its 16 MB of GS1 tables) for the first GTIN or GS1 code it sees.
GTIN = "4006381333931"


def journal_head(path: Path) -> int:
    conn = sqlite3.connect(path, timeout=10)
    try:
        return conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0]
    finally:
        conn.close()


def journaled_codes(path: Path) -> set[str]:
    conn = sqlite3.connect(path, timeout=10)
    try:
        rows = conn.execute("SELECT payload FROM journal WHERE type = 'scan'").fetchall()
    finally:
        conn.close()
    return {json.loads(payload)["data"]["code"] for (payload,) in rows}


def wait_journaled(path: Path, codes: set[str], timeout: float) -> set[str]:
    """The typed codes that are in the journal, once all are or the journal stops growing.

    The core may still be working through its queue when the typing ends (on a loaded
    machine hundreds of codes, a second later): counting then would call them lost.
    """
    deadline = time.monotonic() + timeout
    head, still = -1, 0.0
    while time.monotonic() < deadline:
        found = journaled_codes(path) & codes
        if found == codes:
            return found
        now = journal_head(path)
        still = still + 0.5 if now == head else 0.0
        if still >= 5:
            return found
        head = now
        time.sleep(0.5)
    return journaled_codes(path) & codes


def start_station(dir: Path, broker: Broker, station: str, scanner: SimSerialScanner):
    """(process, seconds from process start until its "ready" log line)."""
    proc = StationProcess(dir, broker, station, scanner.path)
    proc.wait_log(READY, timeout=30)
    seconds = time.monotonic() - proc.started
    proc.wait_log(SCANNER_OPEN, timeout=30)
    return proc, seconds


def run(dir: Path, quick: bool) -> list[Figure]:
    starts, scans = (1, 200) if quick else (5, 5000)
    (station,) = station_ids(1)
    broker = Broker(dir / "broker", [station])
    hub = HubProcess(dir / "hub", broker)
    scanner = SimSerialScanner()
    startup: list[float] = []
    try:
        for _ in range(starts - 1):  # restarts: the journal and cache already exist
            proc, seconds = start_station(dir / station, broker, station, scanner)
            startup.append(seconds)
            proc.stop()
        proc, seconds = start_station(dir / station, broker, station, scanner)
        startup.append(seconds)
        journal = dir / station / "data" / "journal.db"
        try:
            typed = {f"BENCH-{i:06d}" for i in range(scans)}
            for code in sorted(typed):  # a fast packer: one scan every 5 ms
                scanner.scan(code)
                time.sleep(0.005)
            lost = len(typed - wait_journaled(journal, typed, 120))
            head = journal_head(journal)
            wait_until(lambda: hub.applied_total() >= head, 120, "scans applied")
            rss = proc.peak_rss_mb()
            scanner.scan(GTIN)
            wait_journaled(journal, {GTIN}, 60)
            rss_gs1 = proc.peak_rss_mb()
            logged = float(re.findall(READY, proc.log())[-1])
        finally:
            proc.stop()
    finally:
        scanner.close()
        hub.stop()
        broker.stop()
    worst = max(startup)
    return [
        Figure(f"6. station start-up (worst of {starts})", worst, "s", None, "<= 1 s",
               worst <= 1),  # fmt: skip
        Figure("6. station start-up, median", percentile(startup, 50), "s"),
        Figure("6. station's own 'ready in'", logged, "s"),
        Figure(f"6. station peak RSS, {scans:,} scans", rss, "MB", None, "<= 40 MB", rss <= 40),
        Figure("6. station peak RSS, then a GTIN scan", rss_gs1, "MB"),
        Figure(f"6. scans lost of {scans:,} typed 5 ms apart", lost, "scans", None,
               "0", lost == 0),  # fmt: skip
    ]
