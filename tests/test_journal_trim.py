"""Station journals are trimmed: events the hub has acknowledged and that are older than
the retention go, in short steps; the file stays bounded over a year of work; nothing the
hub has not acknowledged is ever deleted, whatever the station's clock says."""

import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.events import Scan
from protocol.topics import Topics
from station.cache import Cache
from station.config import ConfigError, parse_config
from station.config import StationConfig as Config
from station.core import Core
from station.inputs import Tick
from station.ledger.journal import TRIM_STEP, Journal
from station.snapshot import SnapshotBoard
from station.workflows.bench import BenchSettings

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def scans(n: int) -> list[Scan]:
    # About the size of a real scan event (code, verdict, order, operator).
    return [Scan(code=f"4006381333{i % 1000:03d}", verdict="ok", mode="pack") for i in range(n)]


def seqs(path: Path) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        return [seq for (seq,) in conn.execute("SELECT seq FROM journal ORDER BY seq")]
    finally:
        conn.close()


def acknowledge(journal: Journal, seq: int) -> None:
    """What the uplink stores when the hub's retained `applied` reaches `seq`."""
    reader = journal.reader()
    reader.set_applied(seq)
    reader.close()


def trim_all(journal: Journal, now: datetime) -> int:
    steps = 0
    while journal.trim(now) == TRIM_STEP:
        steps += 1
    return steps + 1


def test_acknowledged_events_past_the_retention_go_in_short_steps(tmp_path):
    journal = Journal(tmp_path / "journal.db", "pack-1", retention=30 * DAY)
    journal.append(scans(3 * TRIM_STEP), ts=NOW - 40 * DAY)  # old, acknowledged below
    journal.append(scans(10), ts=NOW - 40 * DAY)  # old, not acknowledged
    journal.append(scans(5), ts=NOW - 2 * DAY)  # recent
    acknowledge(journal, 3 * TRIM_STEP)

    assert journal.trim(NOW) == TRIM_STEP  # one step is one short transaction
    assert trim_all(journal, NOW) == 3
    kept = seqs(journal.path)
    assert kept == list(range(3 * TRIM_STEP + 1, 3 * TRIM_STEP + 16))
    # The seqs go on from the head, also after reopening.
    journal.close()
    reopened = Journal(tmp_path / "journal.db", "pack-1", retention=30 * DAY)
    assert reopened.append(scans(1), ts=NOW) == [3 * TRIM_STEP + 16]


def test_recent_acknowledged_events_are_kept_for_the_retention(tmp_path):
    journal = Journal(tmp_path / "journal.db", "pack-1", retention=30 * DAY)
    journal.append(scans(5), ts=NOW - 29 * DAY)
    acknowledge(journal, 5)
    assert journal.trim(NOW) == 0
    assert journal.trim(NOW + 2 * DAY) == 4  # the newest row stays: it carries the head
    assert seqs(journal.path) == [5]
    assert journal.append(scans(1), ts=NOW + 2 * DAY) == [6]


@pytest.mark.slow
def test_a_year_of_work_keeps_the_journal_file_bounded(tmp_path):
    """A year at test scale: 150 events a day, each day acknowledged by the hub, the
    journal trimmed as the idle core would. The file grows for the first retention window,
    then stays the size of it."""
    journal = Journal(tmp_path / "journal.db", "pack-1", retention=30 * DAY)
    start = NOW - 365 * DAY
    sizes = []
    for day in range(365):
        today = start + day * DAY
        journal.append(scans(150), ts=today)
        acknowledge(journal, journal.head)
        trim_all(journal, today)
        journal.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sizes.append(sum(p.stat().st_size for p in tmp_path.glob("journal.db*")))
    assert len(seqs(journal.path)) <= 31 * 150
    steady = max(sizes[30:60])
    assert max(sizes[60:]) <= steady * 1.1, (steady, max(sizes[60:]))
    assert sizes[-1] < sizes[0] * 60  # a year without trimming is about 365 times a day


def test_a_journal_made_before_trimming_gives_its_space_back(tmp_path):
    """A journal file from before (no auto-vacuum) is rewritten once at start-up; after
    trimming, the file is smaller, not only full of free pages."""
    path = tmp_path / "journal.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE journal (seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, type TEXT NOT NULL,"
        " payload BLOB NOT NULL);"
        "INSERT INTO meta VALUES ('epoch', 'e-old'), ('station', 'pack-1');"
    )
    old.close()
    journal = Journal(path, "pack-1", retention=30 * DAY)
    journal.append(scans(5000), ts=NOW - 100 * DAY)
    acknowledge(journal, 5000)
    journal.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.stat().st_size
    trim_all(journal, NOW)
    journal.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert journal.epoch == "e-old"
    assert path.stat().st_size < before / 10


def test_the_core_trims_on_idle_ticks(tmp_path):
    journal = Journal(tmp_path / "journal.db", "pack-1", retention=1 * DAY)
    topics = Topics("s1")
    cache = Cache(tmp_path / "cache.db", topics, "pack-1")
    core = Core(BenchSettings(station="pack-1"), journal, cache, topics, SnapshotBoard())
    journal.append(scans(TRIM_STEP + 50), ts=datetime.now(UTC) - 3 * DAY)
    acknowledge(journal, TRIM_STEP + 50)
    core.handle(Tick(time.monotonic()))
    assert len(seqs(journal.path)) == 50  # one step per tick
    core.handle(Tick(time.monotonic()))
    assert seqs(journal.path) == [TRIM_STEP + 50]
    journal.close()
    cache.close()


def test_the_retention_is_a_validated_config_key():
    base = '[station]\nid = "pack-1"\n'
    assert parse_config(base, Config, "s.toml").journal.retention_days == 30
    config = parse_config(base + "[journal]\nretention_days = 90\n", Config, "s.toml")
    assert config.journal.retention_days == 90
    for bad in ("0", "-3", '"30"', "4000"):
        try:
            parse_config(base + f"[journal]\nretention_days = {bad}\n", Config, "s.toml")
        except ConfigError as exc:
            assert "retention_days" in str(exc) and "s.toml" in str(exc)
        else:
            raise AssertionError(f"retention_days = {bad} was accepted")


# --- the property: nothing the hub has not acknowledged is ever deleted ----------------

appends = st.tuples(
    st.just("append"),
    st.integers(1, 300),  # events
    st.integers(-400, 400),  # their stamp in days from NOW: the clock may be anywhere
)
# How far up to the head the hub has acknowledged (often all of it).
acks = st.tuples(st.just("ack"), st.one_of(st.just(1.0), st.floats(0, 1)), st.just(0))
trims = st.tuples(st.just("trim"), st.integers(-10, 800), st.integers(1, TRIM_STEP))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    retention_days=st.integers(1, 60),
    operations=st.lists(st.one_of(appends, acks, trims), max_size=25),
)
def test_nothing_unacknowledged_nor_recent_is_ever_trimmed(retention_days, operations):
    with tempfile.TemporaryDirectory() as folder:
        journal = Journal(Path(folder) / "journal.db", "pack-1", retention_days * DAY)
        stamps: dict[int, datetime] = {}
        acked = 0
        for op, a, b in operations:
            if op == "append":
                ts = NOW + b * DAY
                for seq in journal.append(scans(a), ts=ts):
                    stamps[seq] = ts
            elif op == "ack":
                # The hub's ack only rises, and never past what the station sent.
                acked = max(acked, int(journal.head * a))
                acknowledge(journal, acked)
            else:
                now = NOW + a * DAY
                before = set(seqs(journal.path))
                journal.trim(now, limit=b)
                gone = before - set(seqs(journal.path))
                cutoff = now - retention_days * DAY
                assert all(seq <= acked and stamps[seq] < cutoff for seq in gone), gone
                assert len(gone) <= b
            kept = set(seqs(journal.path))
            assert set(range(acked + 1, journal.head + 1)) <= kept  # the unacknowledged
            assert journal.head == 0 or journal.head in kept  # the head's row
        journal.close()
        # A restarted station goes on after the head: no seq is ever used twice.
        reopened = Journal(Path(folder) / "journal.db", "pack-1", retention_days * DAY)
        assert reopened.head == journal.head
        reopened.close()
