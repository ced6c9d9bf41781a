"""The station journal: every event, durably, in order, before any feedback is given.

It is also the outbox the uplink drains: rows are never changed, and the hub's ack
(`applied`) says how far the hub has them. One writer (the core) appends; the uplink reads
through its own `JournalReader` connection.

- `epoch`: a random id made with the journal. A re-imaged Pi gets a new journal, so a new
  epoch, and its seq starting again at 1 is not mistaken for duplicates.
- `seq`: 1, 2, 3... with no gaps, assigned in the same transaction that stores the event.
- WAL with `synchronous=FULL`: a commit that returned survives a power cut (with NORMAL a
  committed transaction may roll back after power loss).
- Trimmed: an event the hub has acknowledged (`applied`) and older than the retention
  (`[journal] retention_days`) is deleted, a few hundred rows per short transaction while
  the bench is idle; the newest row always stays (it carries `head`). The file is in
  incremental auto-vacuum mode, so the pages freed go back to the card, step by step.
"""

import logging
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import msgspec

from protocol.envelope import MAX_PAYLOAD_BYTES, encode_event, utc_now

log = logging.getLogger(__name__)

RETENTION = timedelta(days=30)
# Rows deleted per trim transaction: a few milliseconds on an SD card, so a scan that comes
# in meanwhile waits no longer than that for its own commit.
TRIM_STEP = 200


class JournalError(Exception):
    """The event could not be journaled (disk full, read-only card, corrupt file)."""


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    type TEXT NOT NULL,
    payload BLOB NOT NULL  -- the exact wire bytes: encoded once, re-sent as they are
);
"""


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def _open(path: Path) -> tuple[sqlite3.Connection, str | None]:
    """The journal read-write; or, on a card the kernel made read-only, the file as it
    stands, read-only, and why. The station then still starts, every scan is "not
    recorded", and what the journal holds can still be sent."""
    try:
        db = _connect(path)
        _incremental_vacuum_mode(db)
        db.executescript(SCHEMA)
        return db, None
    except sqlite3.Error as exc:
        if not path.exists():
            raise
        uri = path.resolve().as_uri() + "?immutable=1"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        return conn, str(exc)


def _incremental_vacuum_mode(db: sqlite3.Connection) -> None:
    """Trimmed pages go back to the card only in incremental auto-vacuum mode. A new file
    takes it at once; a journal made before trimming existed is rewritten once (VACUUM,
    at start-up). Without room for that copy it stays as it is: the freed pages are then
    reused for new events, so the file still grows no further."""
    if db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
        return
    db.execute("PRAGMA auto_vacuum=INCREMENTAL")
    if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
        return  # a new file: the mode holds from its first table on
    try:
        db.execute("VACUUM")
    except sqlite3.Error as exc:
        log.warning("journal kept without auto-vacuum (freed pages are reused): %s", exc)


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT (the connection is in autocommit mode)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        # SQLite has already rolled back after some errors (SQLITE_FULL): a second ROLLBACK
        # would fail and hide the real error.
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


class Journal:
    """The writer side. Not thread-safe: the core is its only user."""

    def __init__(self, path: str | Path, station: str, retention: timedelta = RETENTION) -> None:
        self.path = Path(path)
        self.station = station
        self.retention = retention
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db, self.read_only = _open(self.path)
            self.epoch = self._epoch()
            self.head = self.db.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0]
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"cannot open journal {self.path}: {exc}") from exc

    def _epoch(self) -> str:
        owner = _meta(self.db, "station")
        if owner is not None and owner != self.station:
            raise JournalError(
                f"journal {self.path} belongs to station {owner!r}, not {self.station!r}"
            )
        epoch = _meta(self.db, "epoch")
        if epoch is None:
            epoch = secrets.token_hex(8)
            with _transaction(self.db):
                self.db.execute("INSERT INTO meta VALUES ('epoch', ?)", [epoch])
                self.db.execute("INSERT INTO meta VALUES ('station', ?)", [self.station])
        return epoch

    def append(self, events: Sequence[msgspec.Struct], ts: datetime | None = None) -> list[int]:
        """Store `events` in one durable transaction; returns their seqs. All or nothing."""
        if not events:
            return []
        if self.read_only:
            raise JournalError(f"the journal is read-only ({self.read_only})")
        ts = ts or utc_now()
        stamp = ts.isoformat()
        seqs = list(range(self.head + 1, self.head + 1 + len(events)))
        rows = [
            (seq, stamp, type(event).TYPE, encode_event(self.station, self.epoch, seq, event, ts))
            for seq, event in zip(seqs, events, strict=True)
        ]
        too_big = max(len(row[3]) for row in rows)
        if too_big > MAX_PAYLOAD_BYTES:
            # The broker would close the uplink's connection on it after every reconnect
            # (and the hub refuses it): nothing after it could ever reach the hub.
            raise JournalError(f"an event of {too_big} bytes, over the {MAX_PAYLOAD_BYTES} "
                               "the hub takes")  # fmt: skip
        try:
            with _transaction(self.db):
                self.db.executemany("INSERT INTO journal VALUES (?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:
            raise JournalError(str(exc)) from exc
        self.head = seqs[-1]
        return seqs

    def acked(self) -> int:
        """The hub's ack as the uplink last stored it."""
        value = _meta(self.db, "applied")
        return int(value) if value else 0

    def trim(self, now: datetime | None = None, limit: int = TRIM_STEP) -> int:
        """One short step of trimming: deletes up to `limit` of the oldest events that the
        hub has acknowledged and that are older than the retention, then gives their pages
        back to the file system. Returns how many were deleted (`limit`: call again)."""
        if self.read_only:
            return 0
        cutoff = ((now or utc_now()) - self.retention).isoformat()
        # The newest row stays: `head` (and the next seq) is read from it at start-up.
        last = min(self.acked(), self.head - 1)
        try:
            with _transaction(self.db):
                deleted = self.db.execute(
                    "DELETE FROM journal WHERE seq IN (SELECT seq FROM journal WHERE seq <= ? "
                    "ORDER BY seq LIMIT ?) AND ts < ?",
                    [last, limit, cutoff],
                ).rowcount
            if deleted:
                self.db.executescript(f"PRAGMA incremental_vacuum({limit});")
        except sqlite3.Error as exc:
            log.warning("cannot trim the journal: %s", exc)
            return 0
        return deleted

    def reader(self) -> "JournalReader":
        return JournalReader(self.path)

    def close(self) -> None:
        self.db.close()


class JournalReader:
    """The uplink's side: reads the outbox and keeps the hub's acknowledgement."""

    def __init__(self, path: str | Path) -> None:
        self.db = _open(Path(path))[0]
        self.epoch = _meta(self.db, "epoch") or ""
        self.station = _meta(self.db, "station") or ""
        self._conn = 0

    def head(self) -> int:
        return self.db.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0]

    def first(self) -> int:
        """The oldest seq still kept (older ones were trimmed); 0 when empty."""
        return self.db.execute("SELECT coalesce(min(seq), 0) FROM journal").fetchone()[0]

    def read_from(self, seq: int, limit: int) -> list[tuple[int, bytes]]:
        return self.db.execute(
            "SELECT seq, payload FROM journal WHERE seq >= ? ORDER BY seq LIMIT ?", [seq, limit]
        ).fetchall()

    def applied(self) -> int:
        value = _meta(self.db, "applied")
        return int(value) if value else 0

    def set_applied(self, seq: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('applied', ?)", [str(seq)])

    def next_connection(self) -> int:
        """A counter bumped on every connect: a late last will of an older one is stale.

        Never raises: on a full or read-only card the count goes on in memory (it runs in
        paho's connect path, where an exception would stop the network thread).
        """
        value = max(int(_meta(self.db, "conn") or 0), self._conn) + 1
        try:
            with _transaction(self.db):
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('conn', ?)", [str(value)])
        except sqlite3.Error as exc:
            log.warning("cannot store the connection count: %s", exc)
        self._conn = value
        return value

    def close(self) -> None:
        self.db.close()
