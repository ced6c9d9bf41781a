"""1. Scan to durable verdict at the station, against a bare commit of the same durability."""

import sqlite3
import threading
import time
from pathlib import Path

from bench_report import Figure, percentile

from protocol.envelope import encode
from protocol.messages import GtinUnits, Order, OrderLine, Product
from protocol.topics import Topics
from station.cache import Cache
from station.core import Core
from station.inputs import HubMessage, Scanned
from station.ledger.journal import Journal
from station.snapshot import SnapshotBoard
from station.workflows.bench import BenchSettings

GTIN = "4006381333931"
PAYLOAD = b'{"v":1,"station":"pack-1","epoch":"0123456789abcdef","seq":1,' + b"x" * 150 + b"}"


def bare_commit_ms(dir: Path, count: int) -> list[float]:
    """One INSERT per transaction, WAL + synchronous=FULL: what a durable verdict costs."""
    conn = sqlite3.connect(dir / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE journal (seq INTEGER PRIMARY KEY, ts TEXT, type TEXT, payload BLOB)")
    samples = []
    for seq in range(1, count + 1):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO journal VALUES (?, ?, ?, ?)", (seq, "ts", "scan", PAYLOAD))
        conn.execute("COMMIT")
        samples.append((time.perf_counter() - start) * 1000)
    conn.close()
    return samples


ITEMS_PER_ORDER = 10


def _core(dir: Path, orders: int) -> Core:
    topics = Topics("bench")
    journal = Journal(dir / "journal.db", "pack-1")
    cache = Cache(dir / "cache.db", topics, "pack-1")
    # A bench without a scale (verify_weight off): the last item ships the order.
    settings = BenchSettings(station="pack-1", verify_weight=False)
    core = Core(settings, journal, cache, topics, SnapshotBoard())
    product = Product(sku="MUG-1", name="Mug", gtins=[GtinUnits(gtin=GTIN)])
    core.handle(HubMessage(topics.product("MUG-1"), encode(product), True))
    for number in range(orders):
        order = Order(order=f"SO-{number}", lines=[OrderLine(sku="MUG-1", qty=ITEMS_PER_ORDER)])
        core.handle(HubMessage(topics.order(order.order), encode(order), True))
    core.handle(Scanned("OP:bench"))  # a packer badges in before the first order
    return core


def packing(count: int) -> list[str]:
    """What a packer scans: an order, then its items (the last one ships it), and again.

    Orders of a few items, as at a real bench: the workflow derives an order's progress
    from its list of picks, so one endless order (the bench's old load) measured a list
    of thousands of picks being walked on every scan, not the way to a durable verdict."""
    codes: list[str] = []
    number = 0
    while len(codes) < count:
        codes += [f"SO-{number}", *[GTIN] * ITEMS_PER_ORDER]
        number += 1
    return codes[:count]


def core_verdict_ms(dir: Path, count: int) -> list[float]:
    """A Scanned put on the running core's queue until its verdict is on the board."""
    codes = packing(count)
    core = _core(dir, orders=codes.count(GTIN) // ITEMS_PER_ORDER + 1)
    stop = threading.Event()
    runner = threading.Thread(target=core.run, args=(stop,), name="core")
    runner.start()
    samples = []
    try:
        for code in codes:
            version, _snapshot = core.board.latest()
            head = core.journal.head
            start = time.perf_counter()
            core.emit(Scanned(code))
            while True:  # the scan's event, and the shipment's with an order's last item
                version, snapshot = core.board.wait_newer(version, timeout=5)
                if snapshot.get("head", 0) > head:
                    break
            samples.append((time.perf_counter() - start) * 1000)
            if snapshot["verdict"]["name"] != "ok":
                raise RuntimeError(f"unexpected verdict {snapshot['verdict']}")
    finally:
        stop.set()
        runner.join(5)
        core.journal.close()
        core.cache.close()
    return samples


def run(dir: Path, quick: bool) -> list[Figure]:
    count = 200 if quick else 5000
    bare_dir, core_dir = dir / "bare", dir / "core"
    bare_dir.mkdir(parents=True)
    core_dir.mkdir(parents=True)
    bare = bare_commit_ms(bare_dir, count)
    core = core_verdict_ms(core_dir, count)
    bare50, bare99 = percentile(bare, 50), percentile(bare, 99)
    p50, p99 = percentile(core, 50), percentile(core, 99)
    return [
        Figure("1. scan -> durable verdict p50", p50, "ms", bare50),
        Figure("1. scan -> durable verdict p99", p99, "ms", bare99,
               "p99 <= bare p99 + 2 ms", p99 <= bare99 + 2),  # fmt: skip
    ]
