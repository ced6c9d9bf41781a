"""All of the hub's SQL, in one module, so the domain never speaks to SQLite directly.

Functions take an open connection and do one thing. Writes are made inside
`transaction(conn)` by the caller, so that an event, its movements, its balance deltas
and what must be published about them commit together or not at all.
"""

import hashlib
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from protocol.envelope import MAX_PAYLOAD_BYTES, utc_now

log = logging.getLogger(__name__)

SCHEMA = (Path(__file__).parent / "schema.sql").read_text()


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, durable commits."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


# A ledger made by an older hub is brought up to date when the new one starts (after
# `scripts/update`): each step runs once, in order, on a ledger whose `user_version` is
# below its number, before schema.sql (which then adds what is new, and whose indexes may
# need the step's columns). A new ledger is made at the latest version by schema.sql and
# skips them. A released step is never edited: add the next one.
MIGRATIONS: list[tuple[int, str]] = [
    (1, "ALTER TABLE sku_activity ADD COLUMN pick_location TEXT"),
    (2, "ALTER TABLE dead_letters ADD COLUMN source TEXT NOT NULL DEFAULT ''"),
    (3, "ALTER TABLE dead_letters ADD COLUMN size INTEGER NOT NULL DEFAULT 0"),
    (4, "ALTER TABLE dead_letters ADD COLUMN digest TEXT NOT NULL DEFAULT ''"),
    (5, "ALTER TABLE dead_letters ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1"),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def create_schema(conn: sqlite3.Connection) -> None:
    """Make the ledger's tables, or bring an older ledger's up to date."""
    fresh = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'movements'").fetchone()
    version = SCHEMA_VERSION if fresh is None else schema_version(conn)
    steps = "".join(f"{sql};\n" for number, sql in MIGRATIONS if number > version)
    # One transaction: in autocommit each of the ~80 statements was its own durable
    # commit (an fsync each), most of the hub's start-up and of every test's set-up.
    conn.executescript(
        f"BEGIN IMMEDIATE;\n{steps}{SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"
    )


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        # SQLite has already rolled back after some errors (SQLITE_FULL): a second ROLLBACK
        # would fail and hide the real error.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def rehearsal(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A transaction that always rolls back: run a change for its checks, keep nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


# --- exactly once -----------------------------------------------------------------------
def cursor_get(conn: sqlite3.Connection, station: str, epoch: str) -> int:
    row = conn.execute(
        "SELECT applied FROM cursors WHERE station = ? AND epoch = ?", (station, epoch)
    ).fetchone()
    return row[0] if row else 0


def cursor_set(conn: sqlite3.Connection, station: str, epoch: str, applied: int, now: str) -> None:
    conn.execute(
        "INSERT INTO cursors VALUES (?, ?, ?, ?) ON CONFLICT (station, epoch) "
        "DO UPDATE SET applied = excluded.applied, updated = excluded.updated",
        (station, epoch, applied, now),
    )


def cursors(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    return conn.execute("SELECT station, epoch, applied FROM cursors").fetchall()


def pending_put(
    conn: sqlite3.Connection, station: str, epoch: str, seq: int, payload: bytes, now: str
) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO pending VALUES (?, ?, ?, ?, ?)", (station, epoch, seq, payload, now)
    )


def pending_any(conn: sqlite3.Connection, station: str, epoch: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pending WHERE station = ? AND epoch = ? LIMIT 1", (station, epoch)
    ).fetchone()
    return row is not None


def pending_get(conn: sqlite3.Connection, station: str, epoch: str, seq: int) -> bytes | None:
    row = conn.execute(
        "SELECT payload FROM pending WHERE station = ? AND epoch = ? AND seq = ?",
        (station, epoch, seq),
    ).fetchone()
    return bytes(row[0]) if row else None


def pending_take(conn: sqlite3.Connection, station: str, epoch: str, seq: int) -> bytes | None:
    row = conn.execute(
        "DELETE FROM pending WHERE station = ? AND epoch = ? AND seq = ? RETURNING payload",
        (station, epoch, seq),
    ).fetchone()
    return row[0] if row else None


def pending_drop_applied(conn: sqlite3.Connection, station: str, epoch: str, applied: int) -> None:
    conn.execute(
        "DELETE FROM pending WHERE station = ? AND epoch = ? AND seq <= ?",
        (station, epoch, applied),
    )


@dataclass(frozen=True)
class Gap:
    station: str
    epoch: str
    applied: int
    first_held: int
    held: int
    since: str


def gaps(conn: sqlite3.Connection) -> list[Gap]:
    rows = conn.execute(
        "SELECT p.station, p.epoch, coalesce(c.applied, 0), min(p.seq), count(*), min(p.received) "
        "FROM pending p LEFT JOIN cursors c ON c.station = p.station AND c.epoch = p.epoch "
        "GROUP BY p.station, p.epoch"
    ).fetchall()
    return [Gap(*row) for row in rows]


@dataclass(frozen=True)
class EventFailure:
    """A station event set aside because it could not be applied (see event_failures)."""

    station: str
    epoch: str
    seq: int
    dead_letter: int
    reason: str
    since: str
    decided: str | None = None
    decided_by: str | None = None
    note: str | None = None


_FAILURE_COLUMNS = "station, epoch, seq, dead_letter, reason, since, decided, decided_by, note"


def event_failure_add(
    conn: sqlite3.Connection, station: str, epoch: str, seq: int, dead_letter_id: int,
    reason: str, now: str,
) -> bool:
    """False when this event had already failed (a resend of it)."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO event_failures (station, epoch, seq, dead_letter, reason, since) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (station, epoch, seq, dead_letter_id, reason[:2000], now),
    )  # fmt: skip
    return cur.rowcount == 1


def event_failure_get(
    conn: sqlite3.Connection, station: str, epoch: str, seq: int
) -> EventFailure | None:
    row = conn.execute(
        f"SELECT {_FAILURE_COLUMNS} FROM event_failures "
        "WHERE station = ? AND epoch = ? AND seq = ?",
        (station, epoch, seq),
    ).fetchone()
    return EventFailure(*row) if row else None


def event_failures(conn: sqlite3.Connection, undecided_only: bool = False) -> list[EventFailure]:
    """Failed events not applied since (a later apply removes the row), newest first."""
    rows = conn.execute(
        f"SELECT {_FAILURE_COLUMNS} FROM event_failures "
        "WHERE ? = 0 OR decided IS NULL ORDER BY since DESC",
        (int(undecided_only),),
    ).fetchall()
    return [EventFailure(*row) for row in rows]


def event_failure_decide(
    conn: sqlite3.Connection, station: str, epoch: str, seq: int, by: str, note: str, now: str
) -> bool:
    cur = conn.execute(
        "UPDATE event_failures SET decided = ?, decided_by = ?, note = ? "
        "WHERE station = ? AND epoch = ? AND seq = ? AND decided IS NULL",
        (now, by, note[:2000], station, epoch, seq),
    )
    return cur.rowcount == 1


def event_failures_to_skip(conn: sqlite3.Connection) -> list[EventFailure]:
    """Skips a supervisor decided that the ingest has not made yet (the stream is still
    just before them)."""
    rows = conn.execute(
        f"SELECT {', '.join('f.' + c for c in _FAILURE_COLUMNS.split(', '))} "
        "FROM event_failures f LEFT JOIN cursors c ON c.station = f.station "
        "AND c.epoch = f.epoch WHERE f.decided IS NOT NULL AND coalesce(c.applied, 0) = f.seq - 1"
    ).fetchall()
    return [EventFailure(*row) for row in rows]


def event_failures_open_any(conn: sqlite3.Connection) -> bool:
    return conn.execute(
        "SELECT 1 FROM event_failures WHERE decided IS NULL LIMIT 1"
    ).fetchone() is not None


def event_failures_applied(
    conn: sqlite3.Connection, station: str, epoch: str, applied: int
) -> list[int]:
    """Forget failed events that applied after all (resent after a fix): their seqs."""
    rows = conn.execute(
        "DELETE FROM event_failures WHERE station = ? AND epoch = ? AND seq <= ? "
        "AND decided IS NULL RETURNING seq",
        (station, epoch, applied),
    ).fetchall()
    return [row[0] for row in rows]


# --- events, movements, balances ---------------------------------------------------------
def event_insert(
    conn: sqlite3.Connection,
    station: str,
    epoch: str,
    seq: int,
    type_: str,
    ts: str,
    hub_ts: str,
    data: bytes,
) -> int:
    cur = conn.execute(
        "INSERT INTO events (station, epoch, seq, type, ts, hub_ts, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (station, epoch, seq, type_, ts, hub_ts, data.decode()),
    )
    return cur.lastrowid


def event_content(
    conn: sqlite3.Connection, station: str, epoch: str, seq: int
) -> tuple[str, str, str] | None:
    """(type, ts, data) of an applied station event, as `event_insert` stored them."""
    return conn.execute(
        "SELECT type, ts, data FROM events WHERE station = ? AND epoch = ? AND seq = ?",
        (station, epoch, seq),
    ).fetchone()


@dataclass(frozen=True)
class Movement:
    id: int
    event_id: int
    type: str
    sku: str
    location: str
    lot: str
    owner: str
    delta: int
    ts: str
    hub_ts: str


def movement_add(
    conn: sqlite3.Connection,
    event_id: int,
    type_: str,
    sku: str,
    location: str,
    lot: str,
    owner: str,
    delta: int,
    ts: str,
    hub_ts: str,
) -> tuple[Movement, int]:
    """Record one movement and change its balance by `delta`; returns it and the new balance."""
    cur = conn.execute(
        "INSERT INTO movements (event_id, type, sku, location, lot, owner, delta, ts, hub_ts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (event_id, type_, sku, location, lot, owner, delta, ts, hub_ts),
    )
    # qty = qty + delta inside the transaction: never read-modify-write.
    balance = conn.execute(
        "INSERT INTO balances VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (sku, location, lot, owner) DO UPDATE SET qty = qty + excluded.qty "
        "RETURNING qty",
        (sku, location, lot, owner, delta),
    ).fetchone()[0]
    movement = Movement(
        cur.lastrowid, event_id, type_, sku, location, lot, owner, delta, ts, hub_ts
    )
    return movement, balance


def balance_get(
    conn: sqlite3.Connection, sku: str, location: str, lot: str = "", owner: str = ""
) -> int:
    row = conn.execute(
        "SELECT qty FROM balances WHERE sku = ? AND location = ? AND lot = ? AND owner = ?",
        (sku, location, lot, owner),
    ).fetchone()
    return row[0] if row else 0


def balances_at(conn: sqlite3.Connection, sku: str, location: str) -> list[tuple[str, str, int]]:
    """(lot, owner, qty) of one sku at one location."""
    return conn.execute(
        "SELECT lot, owner, qty FROM balances WHERE sku = ? AND location = ?", (sku, location)
    ).fetchall()


def stock_lines(conn: sqlite3.Connection, sku: str) -> list[tuple[str, str, str, int]]:
    """(location, lot, owner, qty) of one sku, non-zero lines only."""
    return conn.execute(
        "SELECT location, lot, owner, qty FROM balances WHERE sku = ? AND qty != 0 "
        "ORDER BY location, lot, owner",
        (sku,),
    ).fetchall()


def stock_list(
    conn: sqlite3.Connection, sku: str | None = None, limit: int = 100, after: str = ""
) -> list[tuple[str, int]]:
    """(sku, on hand) per sku after `after` in sku order (keyset: a deep page costs what the
    first does, where OFFSET would group and skip every sku before it); or one sku."""
    if sku:
        return conn.execute(
            "SELECT sku, sum(qty) FROM balances WHERE sku = ? GROUP BY sku", (sku,)
        ).fetchall()
    return conn.execute(
        "SELECT sku, sum(qty) FROM balances WHERE sku > ? GROUP BY sku ORDER BY sku LIMIT ?",
        (after, limit),
    ).fetchall()


def movements_latest(conn: sqlite3.Connection, limit: int, before: int | None = None) -> list[dict]:
    rows = conn.execute(
        "SELECT m.id, m.type, m.sku, m.location, m.lot, m.owner, m.delta, m.ts, m.hub_ts, "
        "e.station, e.epoch, e.seq FROM movements m JOIN events e ON e.id = m.event_id "
        "WHERE m.id < ? ORDER BY m.id DESC LIMIT ?",
        (before if before is not None else 2**63 - 1, limit),
    ).fetchall()
    keys = ("id", "type", "sku", "location", "lot", "owner", "delta", "ts", "hub_ts",
            "station", "epoch", "seq")  # fmt: skip
    return [dict(zip(keys, row, strict=True)) for row in rows]


def ledger_position(conn: sqlite3.Connection) -> int:
    """The highest ledger_seq (movement id) so far; 0 for an empty ledger."""
    return conn.execute("SELECT coalesce(max(id), 0) FROM movements").fetchone()[0]


def movements_after(conn: sqlite3.Connection, after_id: int, limit: int) -> list[Movement]:
    rows = conn.execute(
        "SELECT id, event_id, type, sku, location, lot, owner, delta, ts, hub_ts "
        "FROM movements WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    ).fetchall()
    return [Movement(*row) for row in rows]


def event_key(conn: sqlite3.Connection, event_id: int) -> tuple[str, str, int]:
    return conn.execute(
        "SELECT station, epoch, seq FROM events WHERE id = ?", (event_id,)
    ).fetchone()


@dataclass(frozen=True)
class LedgerMismatch:
    sku: str
    location: str
    lot: str
    owner: str
    balance: int
    movements: int


def check_ledger(conn: sqlite3.Connection) -> list[LedgerMismatch]:
    """Every balance equals the sum of its movements (and no movement lacks a balance)."""
    rows = conn.execute(
        "SELECT sku, location, lot, owner, sum(b), sum(m) FROM ("
        "  SELECT sku, location, lot, owner, qty AS b, 0 AS m FROM balances"
        "  UNION ALL"
        "  SELECT sku, location, lot, owner, 0, sum(delta) FROM movements"
        "  GROUP BY sku, location, lot, owner"
        ") GROUP BY sku, location, lot, owner HAVING sum(b) != sum(m)"
    ).fetchall()
    return [LedgerMismatch(*row) for row in rows]


def duplicate_events(conn: sqlite3.Connection) -> int:
    """Events stored twice under one (station, epoch, seq): the schema forbids it; 0 expected."""
    return conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM events GROUP BY station, epoch, seq HAVING count(*) > 1)"
    ).fetchone()[0]


def event_max_seqs(conn: sqlite3.Connection) -> list[tuple[str, str, int, int]]:
    """(station, epoch, count, max seq) of the applied events."""
    return conn.execute(
        "SELECT station, epoch, count(*), max(seq) FROM events GROUP BY station, epoch"
    ).fetchall()


def event_gaps(conn: sqlite3.Connection) -> list[tuple[str, str, int, int]]:
    """(station, epoch, count, max seq) where the applied seqs are not exactly 1..max."""
    return conn.execute(
        "SELECT station, epoch, count(*), max(seq) FROM events GROUP BY station, epoch "
        "HAVING count(*) != max(seq) OR min(seq) != 1"
    ).fetchall()


# --- stations ----------------------------------------------------------------------------
def station_seen(conn: sqlite3.Connection, station: str, now: str) -> None:
    conn.execute(
        "INSERT INTO stations (station, first_seen, last_seen) VALUES (?, ?, ?) "
        "ON CONFLICT (station) DO UPDATE SET last_seen = excluded.last_seen",
        (station, now, now),
    )


def station_epoch(conn: sqlite3.Connection, station: str) -> str | None:
    row = conn.execute("SELECT epoch FROM stations WHERE station = ?", (station,)).fetchone()
    return row[0] if row else None


def station_set_epoch(conn: sqlite3.Connection, station: str, epoch: str) -> None:
    conn.execute("UPDATE stations SET epoch = ? WHERE station = ?", (epoch, station))


def station_status_set(
    conn: sqlite3.Connection, station: str, state: str, status: bytes, now: str
) -> None:
    station_seen(conn, station, now)
    conn.execute(
        "UPDATE stations SET state = ?, status = ? WHERE station = ?",
        (state, status.decode(), station),
    )


def station_status_get(conn: sqlite3.Connection, station: str) -> bytes | None:
    row = conn.execute("SELECT status FROM stations WHERE station = ?", (station,)).fetchone()
    return row[0].encode() if row and row[0] else None


def station_list(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute(
        "SELECT s.station, s.epoch, s.state, s.status, s.first_seen, s.last_seen, "
        "coalesce(c.applied, 0) FROM stations s "
        "LEFT JOIN cursors c ON c.station = s.station AND c.epoch = s.epoch ORDER BY s.station"
    ).fetchall()
    keys = ("station", "epoch", "state", "status", "first_seen", "last_seen", "applied")
    return [dict(zip(keys, row, strict=True)) for row in rows]


# --- dead letters, alerts, outbox --------------------------------------------------------
# A dead letter keeps the first bytes of its payload: enough to see what it was, while a
# flood of big invalid messages cannot fill the disk (255 KB each grew the ledger 30-fold).
DEAD_LETTER_PAYLOAD_BYTES = 4096


def dead_letter(
    conn: sqlite3.Connection, topic: str, payload: bytes, reason: str, now: str,
    source: str = "",
) -> int:
    """Keep a message set aside, and its id. One that is already kept (same topic and
    payload: a station resending it) is counted on its row, not stored again."""
    digest = hashlib.sha256(topic.encode() + b"\0" + payload).hexdigest()
    conn.execute(
        "INSERT INTO dead_letter_counts (source, received) VALUES (?, 1) "
        "ON CONFLICT (source) DO UPDATE SET received = received + 1",
        (source,),
    )
    row = conn.execute(
        "UPDATE dead_letters SET repeats = repeats + 1 WHERE digest = ? AND topic = ? "
        "RETURNING id",
        (digest, topic),
    ).fetchone()
    if row is not None:
        return row[0]
    cur = conn.execute(
        "INSERT INTO dead_letters (topic, payload, reason, received, source, size, digest) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (topic, payload[:DEAD_LETTER_PAYLOAD_BYTES], reason[:2000], now, source, len(payload),
         digest),
    )  # fmt: skip
    return cur.lastrowid


def dead_letters(conn: sqlite3.Connection, limit: int = 100) -> list[dict]:
    rows = conn.execute(
        "SELECT id, topic, payload, reason, received, source, size, repeats FROM dead_letters "
        "ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        {"id": r[0], "topic": r[1], "payload": bytes(r[2])[:2000].decode("utf-8", "replace"),
         "reason": r[3], "received": r[4], "source": r[5], "size": r[6], "repeats": r[7]}
        for r in rows
    ]  # fmt: skip


def dead_letter_sources_over(conn: sqlite3.Connection, keep: int) -> list[str]:
    return [row[0] for row in conn.execute(
        "SELECT source FROM dead_letters GROUP BY source HAVING count(*) > ?", (keep,)
    )]  # fmt: skip


def dead_letters_drop(
    conn: sqlite3.Connection, source: str | None, keep: int, before: str | None = None
) -> int:
    """Delete the oldest dead letters (of `source`, or of all when None) beyond the newest
    `keep`, and those received before `before`; each source's `dropped` counts them."""
    rows = conn.execute(
        "DELETE FROM dead_letters WHERE (?1 IS NULL OR source = ?1) AND (id NOT IN ("
        " SELECT id FROM dead_letters WHERE ?1 IS NULL OR source = ?1 ORDER BY id DESC LIMIT ?2)"
        " OR received < coalesce(?3, '')) RETURNING source",
        (source, keep, before),
    ).fetchall()
    dropped: dict[str, int] = {}
    for (row_source,) in rows:
        dropped[row_source] = dropped.get(row_source, 0) + 1
    conn.executemany(
        "INSERT INTO dead_letter_counts (source, received, dropped) VALUES (?, ?, ?) "
        "ON CONFLICT (source) DO UPDATE SET dropped = dropped + excluded.dropped",
        [(name, n, n) for name, n in dropped.items()],
    )
    return len(rows)


def dead_letter_counts(conn: sqlite3.Connection) -> list[dict]:
    """Per source: dead letters received in all (repeats too), kept now, dropped by the caps."""
    rows = conn.execute(
        "SELECT c.source, c.received, c.dropped, "
        "(SELECT count(*) FROM dead_letters d WHERE d.source = c.source) "
        "FROM dead_letter_counts c ORDER BY c.received DESC"
    ).fetchall()
    return [{"source": r[0], "received": r[1], "dropped": r[2], "kept": r[3]} for r in rows]


def alert_add(
    conn: sqlite3.Connection,
    kind: str,
    severity: str,
    message: str,
    now: str,
    sku: str | None = None,
    station: str | None = None,
    dedupe: str | None = None,
) -> int | None:
    """The new alert's id, or None when an open alert with the same `dedupe` key exists."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO alerts (kind, severity, message, sku, station, ts, dedupe) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (kind, severity, message, sku, station, now, dedupe),
    )
    return cur.lastrowid if cur.rowcount else None


def alert_clear(conn: sqlite3.Connection, dedupe: str, now: str) -> list[dict]:
    """Clear the open alert with key `dedupe`; the cleared ones (none or one), to announce."""
    rows = conn.execute(
        "UPDATE alerts SET cleared = ? WHERE dedupe = ? AND cleared IS NULL "
        "RETURNING id, kind, severity, message, sku, station",
        (now, dedupe),
    ).fetchall()
    keys = ("id", "kind", "severity", "message", "sku", "station")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def alert_restate(conn: sqlite3.Connection, dedupe: str, message: str) -> dict | None:
    """Rewrite the message of the open alert `dedupe` (its figures changed); the alert, or
    None when none is open."""
    row = conn.execute(
        "UPDATE alerts SET message = ? WHERE dedupe = ? AND cleared IS NULL "
        "RETURNING id, kind, severity, sku, station",
        (message, dedupe),
    ).fetchone()
    keys = ("id", "kind", "severity", "sku", "station")
    return None if row is None else dict(zip(keys, row, strict=True))


def alert_clear_id(conn: sqlite3.Connection, alert_id: int, now: str) -> bool:
    cur = conn.execute(
        "UPDATE alerts SET cleared = ? WHERE id = ? AND cleared IS NULL", (now, alert_id)
    )
    return cur.rowcount == 1


def alerts_page(
    conn: sqlite3.Connection, open_only: bool, kind: str | None, limit: int, offset: int
) -> list[dict]:
    rows = conn.execute(
        "SELECT id, kind, severity, message, sku, station, ts, cleared FROM alerts "
        "WHERE (? = 0 OR cleared IS NULL) AND (? IS NULL OR kind = ?) "
        "ORDER BY id DESC LIMIT ? OFFSET ?",
        (int(open_only), kind, kind, limit, offset),
    ).fetchall()
    keys = ("id", "kind", "severity", "message", "sku", "station", "ts", "cleared")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def alerts_open(conn: sqlite3.Connection, limit: int = 100) -> list[dict]:
    rows = conn.execute(
        "SELECT id, kind, severity, message, sku, station, ts, dedupe FROM alerts "
        "WHERE cleared IS NULL ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    keys = ("id", "kind", "severity", "message", "sku", "station", "ts", "dedupe")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def outbox_put(conn: sqlite3.Connection, topic: str, payload: bytes, retain: bool) -> None:
    if len(payload) > MAX_PAYLOAD_BYTES:
        # The broker closes the connection of a client publishing more, and paho sends it
        # again after every reconnect: the hub's link would never stay up. Kept where a
        # supervisor sees it instead (the topic keeps its previous retained message).
        reason = f"not published: {len(payload)} bytes exceed the limit of {MAX_PAYLOAD_BYTES}"
        log.error("outbox message on %s %s", topic, reason)
        dead_letter(conn, topic, payload, reason, utc_now().isoformat(), "outbox")
        return
    if retain:
        conn.execute("DELETE FROM outbox WHERE topic = ? AND retain = 1", (topic,))
    conn.execute(
        "INSERT INTO outbox (topic, payload, retain) VALUES (?, ?, ?)",
        (topic, payload, int(retain)),
    )


def outbox_read(
    conn: sqlite3.Connection, after_id: int, limit: int
) -> list[tuple[int, str, bytes, bool]]:
    rows = conn.execute(
        "SELECT id, topic, payload, retain FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    ).fetchall()
    return [(r[0], r[1], bytes(r[2]), bool(r[3])) for r in rows]


def outbox_delete(conn: sqlite3.Connection, ids: Iterable[int]) -> None:
    conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])


def outbox_set_aside(conn: sqlite3.Connection, row_id: int, reason: str, now: str) -> str | None:
    """An outbox row that cannot be published: kept as a dead letter with why, out of the
    publisher's way. Its topic, or None if it is gone already."""
    row = conn.execute(
        "DELETE FROM outbox WHERE id = ? RETURNING topic, payload", (row_id,)
    ).fetchone()
    if row is None:
        return None
    dead_letter(conn, row[0], bytes(row[1]), f"not published: {reason}", now, "outbox")
    return row[0]


def meta_get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def meta_set(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


# --- catalog and orders ------------------------------------------------------------------
def product_upsert(conn: sqlite3.Connection, sku: str, name: str, data: bytes, now: str) -> None:
    conn.execute(
        "INSERT INTO products (sku, name, data, updated) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (sku) DO UPDATE SET "
        "name = excluded.name, data = excluded.data, updated = excluded.updated",
        (sku, name, data.decode(), now),
    )


def gtins_replace(conn: sqlite3.Connection, sku: str, gtins: Iterable[tuple[str, int]]) -> None:
    conn.execute("DELETE FROM gtins WHERE sku = ?", (sku,))
    conn.executemany(
        "INSERT OR REPLACE INTO gtins VALUES (?, ?, ?)",
        [(gtin.zfill(14), sku, units) for gtin, units in gtins],
    )


def product_get(conn: sqlite3.Connection, sku: str) -> bytes | None:
    row = conn.execute("SELECT data FROM products WHERE sku = ?", (sku,)).fetchone()
    return row[0].encode() if row else None


def product_exists(conn: sqlite3.Connection, sku: str) -> bool:
    return conn.execute("SELECT 1 FROM products WHERE sku = ?", (sku,)).fetchone() is not None


def order_upsert(
    conn: sqlite3.Connection, order_id: str, status: str, data: bytes, now: str
) -> None:
    closed = now if status in ("shipped", "short", "cancelled") else None
    conn.execute(
        "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET "
        "status = excluded.status, data = excluded.data, updated = excluded.updated, "
        "closed = excluded.closed",
        (order_id, status, data.decode(), now, now, closed),
    )


def order_get(conn: sqlite3.Connection, order_id: str) -> tuple[str, bytes] | None:
    row = conn.execute("SELECT status, data FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return (row[0], row[1].encode()) if row else None


def order_created(conn: sqlite3.Connection, order_id: str) -> str | None:
    row = conn.execute("SELECT created FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return row[0] if row else None


def order_list(
    conn: sqlite3.Connection, status: str | None, limit: int, offset: int
) -> list[tuple[str, str, str, str, str | None]]:
    """(order, status, created, updated, closed), newest first."""
    return conn.execute(
        "SELECT order_id, status, created, updated, closed FROM orders "
        "WHERE ? IS NULL OR status = ? ORDER BY created DESC, order_id LIMIT ? OFFSET ?",
        (status, status, limit, offset),
    ).fetchall()


# --- master data -------------------------------------------------------------------------
def product_master_set(
    conn: sqlite3.Connection,
    sku: str,
    master: bytes,
    unit_cost: int | None,
    par_level: int | None,
    reorder_point: int | None,
    safety_stock: int | None,
    high_risk: bool,
    owner: str,
) -> None:
    conn.execute(
        "UPDATE products SET master = ?, unit_cost = ?, par_level = ?, reorder_point = ?, "
        "safety_stock = ?, high_risk = ?, owner = ? WHERE sku = ?",
        (master.decode(), unit_cost, par_level, reorder_point, safety_stock, int(high_risk),
         owner, sku),
    )  # fmt: skip


def product_master_get(conn: sqlite3.Connection, sku: str) -> bytes | None:
    row = conn.execute("SELECT master FROM products WHERE sku = ?", (sku,)).fetchone()
    return row[0].encode() if row else None


def product_skus(conn: sqlite3.Connection, limit: int, offset: int) -> list[str]:
    rows = conn.execute(
        "SELECT sku FROM products ORDER BY sku LIMIT ? OFFSET ?", (limit, offset)
    ).fetchall()
    return [r[0] for r in rows]


def product_skus_after(conn: sqlite3.Connection, after: str, limit: int) -> list[str]:
    rows = conn.execute(
        "SELECT sku FROM products WHERE sku > ? ORDER BY sku LIMIT ?", (after, limit)
    ).fetchall()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class ProductPolicy:
    sku: str
    name: str
    unit_cost: int | None
    par_level: int | None
    reorder_point: int | None
    safety_stock: int | None
    high_risk: bool
    owner: str


def product_policy(conn: sqlite3.Connection, sku: str) -> ProductPolicy | None:
    row = conn.execute(
        "SELECT sku, name, unit_cost, par_level, reorder_point, safety_stock, high_risk, owner "
        "FROM products WHERE sku = ?",
        (sku,),
    ).fetchone()
    return ProductPolicy(*row[:6], bool(row[6]), row[7]) if row else None


def product_unit_cost(conn: sqlite3.Connection, sku: str) -> int | None:
    row = conn.execute("SELECT unit_cost FROM products WHERE sku = ?", (sku,)).fetchone()
    return row[0] if row else None


def product_owner(conn: sqlite3.Connection, sku: str) -> str:
    row = conn.execute("SELECT owner FROM products WHERE sku = ?", (sku,)).fetchone()
    return row[0] if row else ""


def product_suppliers_replace(
    conn: sqlite3.Connection, sku: str, suppliers: list[tuple[str, int | None, int | None]]
) -> None:
    """(supplier, lead time days or None for the supplier's own, unit cost micros)."""
    conn.execute("DELETE FROM product_suppliers WHERE sku = ?", (sku,))
    conn.executemany(
        "INSERT INTO product_suppliers (sku, supplier, rank, lead_time_days, unit_cost) "
        "SELECT ?, ?, ?, coalesce(?, (SELECT lead_time_days FROM suppliers WHERE supplier = ?), "
        "14), ?",
        [(sku, sup, rank, days, sup, cost) for rank, (sup, days, cost) in enumerate(suppliers)],
    )


def product_suppliers(conn: sqlite3.Connection, sku: str) -> list[tuple[str, int, int | None]]:
    """(supplier, promised lead time days, unit cost micros), preferred first."""
    return conn.execute(
        "SELECT supplier, lead_time_days, unit_cost FROM product_suppliers WHERE sku = ? "
        "ORDER BY rank",
        (sku,),
    ).fetchall()


def kit_replace(conn: sqlite3.Connection, kit: str, components: list[tuple[str, int]]) -> None:
    conn.execute("DELETE FROM kit_components WHERE kit = ?", (kit,))
    conn.executemany(
        "INSERT INTO kit_components VALUES (?, ?, ?)", [(kit, sku, qty) for sku, qty in components]
    )


def kit_components(conn: sqlite3.Connection, kit: str) -> list[tuple[str, int]]:
    return conn.execute(
        "SELECT sku, qty FROM kit_components WHERE kit = ? ORDER BY sku", (kit,)
    ).fetchall()


def location_upsert(
    conn: sqlite3.Connection, code: str, zone: str, aisle: str, bay: str, bin_: str,
    barcode: str, now: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO locations VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
        "zone = excluded.zone, aisle = excluded.aisle, bay = excluded.bay, bin = excluded.bin, "
        "barcode = excluded.barcode, updated = excluded.updated",
        (code, zone, aisle, bay, bin_, barcode, now),
    )


def location_list(conn: sqlite3.Connection, limit: int, offset: int) -> list[tuple]:
    return conn.execute(
        "SELECT code, zone, aisle, bay, bin FROM locations ORDER BY code LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def location_by_barcode(conn: sqlite3.Connection, barcode: str) -> str | None:
    row = conn.execute("SELECT code FROM locations WHERE barcode = ?", (barcode,)).fetchone()
    return row[0] if row else None


def location_codes(conn: sqlite3.Connection) -> list[str]:
    """Every location: the master list and any that holds or held stock."""
    rows = conn.execute(
        "SELECT code FROM locations UNION SELECT DISTINCT location FROM balances ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def supplier_upsert(
    conn: sqlite3.Connection, supplier: str, name: str, email: str, lead_days: int, now: str
) -> None:
    conn.execute(
        "INSERT INTO suppliers VALUES (?, ?, ?, ?, ?) ON CONFLICT (supplier) DO UPDATE SET "
        "name = excluded.name, email = excluded.email, lead_time_days = excluded.lead_time_days, "
        "updated = excluded.updated",
        (supplier, name, email, lead_days, now),
    )


def supplier_exists(conn: sqlite3.Connection, supplier: str) -> bool:
    query = "SELECT 1 FROM suppliers WHERE supplier = ?"
    return conn.execute(query, (supplier,)).fetchone() is not None


def supplier_list(conn: sqlite3.Connection, limit: int, offset: int) -> list[tuple]:
    return conn.execute(
        "SELECT supplier, name, email, lead_time_days FROM suppliers ORDER BY supplier "
        "LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def supplier_lead_time(conn: sqlite3.Connection, supplier: str) -> int | None:
    query = "SELECT lead_time_days FROM suppliers WHERE supplier = ?"
    row = conn.execute(query, (supplier,)).fetchone()
    return row[0] if row else None


# --- lots and allocation -----------------------------------------------------------------
def lot_seen(conn: sqlite3.Connection, sku: str, lot: str, expiry: str | None, now: str) -> None:
    conn.execute(
        "INSERT INTO lots (sku, lot, expiry, first_received) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (sku, lot) DO UPDATE SET expiry = coalesce(excluded.expiry, lots.expiry)",
        (sku, lot, expiry, now),
    )


def stock_at(
    conn: sqlite3.Connection, sku: str, location: str, lot: str | None = None
) -> list[tuple[str, str, int, str | None]]:
    """(lot, owner, qty, expiry) at a location, in first-expired-first-out order."""
    return conn.execute(
        "SELECT b.lot, b.owner, b.qty, l.expiry FROM balances b "
        "LEFT JOIN lots l ON l.sku = b.sku AND l.lot = b.lot "
        "WHERE b.sku = ? AND b.location = ? AND (? IS NULL OR b.lot = ?) "
        "ORDER BY l.expiry IS NULL, l.expiry, b.lot, b.owner",
        (sku, location, lot, lot),
    ).fetchall()


def fefo_lines(conn: sqlite3.Connection, sku: str) -> list[tuple[str, str, str, int, str | None]]:
    """(location, lot, owner, qty, expiry) with stock, the soonest expiry first."""
    return conn.execute(
        "SELECT b.location, b.lot, b.owner, b.qty, l.expiry FROM balances b "
        "LEFT JOIN lots l ON l.sku = b.sku AND l.lot = b.lot WHERE b.sku = ? AND b.qty > 0 "
        "ORDER BY l.expiry IS NULL, l.expiry, b.location, b.lot",
        (sku,),
    ).fetchall()


def pick_location(conn: sqlite3.Connection, sku: str, lot: str | None = None) -> str | None:
    """Where the first-expiring, then the oldest, stock of `sku` (of `lot`) lies; None if
    no location holds any."""
    row = conn.execute(
        "SELECT b.location FROM balances b "
        "LEFT JOIN lots l ON l.sku = b.sku AND l.lot = b.lot "
        "WHERE b.sku = ? AND b.qty > 0 AND (? IS NULL OR b.lot = ?) "
        "ORDER BY l.expiry IS NULL, l.expiry, l.first_received IS NULL, l.first_received, "
        "b.location LIMIT 1",
        (sku, lot, lot),
    ).fetchone()
    return row[0] if row else None


def lots_expiring(conn: sqlite3.Connection, until: str) -> list[tuple[str, str, str, int]]:
    """(sku, lot, expiry, qty on hand) of lots in stock expiring by `until`, not yet alerted."""
    return conn.execute(
        "SELECT l.sku, l.lot, l.expiry, sum(b.qty) FROM lots l JOIN balances b "
        "ON b.sku = l.sku AND b.lot = l.lot WHERE l.expiry <= ? AND l.expiry_alerted = 0 "
        "GROUP BY l.sku, l.lot HAVING sum(b.qty) > 0",
        (until,),
    ).fetchall()


def lot_mark_alerted(conn: sqlite3.Connection, sku: str, lot: str) -> None:
    conn.execute("UPDATE lots SET expiry_alerted = 1 WHERE sku = ? AND lot = ?", (sku, lot))


def on_hand(conn: sqlite3.Connection, sku: str) -> int:
    row = conn.execute("SELECT coalesce(sum(qty), 0) FROM balances WHERE sku = ?", (sku,))
    return row.fetchone()[0]


# --- FIFO cost layers ----------------------------------------------------------------------
@dataclass(frozen=True)
class Layer:
    id: int
    received: str
    qty_left: int
    unit_cost: int
    kind: str
    movement_id: int


def layers_open(
    conn: sqlite3.Connection, sku: str, location: str, lot: str, prefer_movement: int = 0
) -> list[Layer]:
    """Open layers (deficits included), the preferred movement's first, then oldest first."""
    rows = conn.execute(
        "SELECT id, received, qty_left, unit_cost, kind, movement_id FROM cost_layers "
        "WHERE sku = ? AND location = ? AND lot = ? AND qty_left != 0 "
        "ORDER BY movement_id != ?, received, id",
        (sku, location, lot, prefer_movement),
    ).fetchall()
    return [Layer(*row) for row in rows]


def layer_add(
    conn: sqlite3.Connection, sku: str, location: str, lot: str, movement_id: int,
    received: str, qty: int, unit_cost: int, kind: str,
) -> int:  # fmt: skip
    cur = conn.execute(
        "INSERT INTO cost_layers (sku, location, lot, movement_id, received, qty_in, qty_left, "
        "unit_cost, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (sku, location, lot, movement_id, received, max(qty, 0), qty, unit_cost, kind),
    )
    return cur.lastrowid


def layer_take(conn: sqlite3.Connection, layer_id: int, qty: int) -> None:
    """qty_left - qty (a deficit is settled with a negative qty)."""
    conn.execute("UPDATE cost_layers SET qty_left = qty_left - ? WHERE id = ?", (qty, layer_id))


def layers_of_sku(conn: sqlite3.Connection, sku: str, limit: int) -> list[tuple]:
    """(location, lot, received, lot expiry, qty left, unit cost) of a sku's open layers,
    by location, lot and FIFO order (the cost_layers_open index)."""
    return conn.execute(
        "SELECT c.location, c.lot, c.received, l.expiry, c.qty_left, c.unit_cost "
        "FROM cost_layers c LEFT JOIN lots l ON l.sku = c.sku AND l.lot = c.lot "
        "WHERE c.sku = ? AND c.qty_left != 0 ORDER BY c.location, c.lot, c.received, c.id "
        "LIMIT ?",
        (sku, limit),
    ).fetchall()


def last_layer_cost(conn: sqlite3.Connection, sku: str) -> int | None:
    row = conn.execute(
        "SELECT unit_cost FROM cost_layers WHERE sku = ? AND qty_in > 0 ORDER BY id DESC LIMIT 1",
        (sku,),
    ).fetchone()
    return row[0] if row else None


def flow_add(
    conn: sqlite3.Connection, movement_id: int, sku: str, kind: str, layer_id: int | None,
    qty: int, unit_cost: int, value: int, day: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO cost_flows (movement_id, sku, kind, layer_id, qty, unit_cost, value, day) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (movement_id, sku, kind, layer_id, qty, unit_cost, value, day),
    )


def flows_of(conn: sqlite3.Connection, movement_id: int) -> list[tuple[str, int, int, str]]:
    """(kind, qty, unit cost, layer received) of the units a movement took out of layers."""
    return conn.execute(
        "SELECT f.kind, f.qty, f.unit_cost, coalesce(l.received, '') FROM cost_flows f "
        "LEFT JOIN cost_layers l ON l.id = f.layer_id WHERE f.movement_id = ? AND f.qty != 0 "
        "ORDER BY f.id",
        (movement_id,),
    ).fetchall()


def layer_value(conn: sqlite3.Connection, sku: str, location: str, lot: str) -> tuple[int, int]:
    """(qty, value micros) of the open layers of one balance line."""
    return conn.execute(
        "SELECT coalesce(sum(qty_left), 0), coalesce(sum(qty_left * unit_cost), 0) "
        "FROM cost_layers WHERE sku = ? AND location = ? AND lot = ? AND qty_left != 0",
        (sku, location, lot),
    ).fetchone()


def check_layers(conn: sqlite3.Connection) -> list[tuple[str, str, str, int, int]]:
    """(sku, location, lot, own balance, layer qty) where the two disagree: [] expected."""
    return conn.execute(
        "SELECT sku, location, lot, sum(b), sum(l) FROM ("
        "  SELECT sku, location, lot, qty AS b, 0 AS l FROM balances WHERE owner = ''"
        "  UNION ALL"
        "  SELECT sku, location, lot, 0, qty_left FROM cost_layers WHERE qty_left != 0"
        ") GROUP BY sku, location, lot HAVING sum(b) != sum(l)"
    ).fetchall()


def consignment_owed_add(
    conn: sqlite3.Connection, movement_id: int, owner: str, sku: str, qty: int,
    unit_cost: int, day: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO consignment_owed (movement_id, owner, sku, qty, unit_cost, day) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (movement_id, owner, sku, qty, unit_cost, day),
    )


def consignment_owed_of(conn: sqlite3.Connection, movement_id: int) -> list[tuple[int, int]]:
    return conn.execute(
        "SELECT qty, unit_cost FROM consignment_owed WHERE movement_id = ?", (movement_id,)
    ).fetchall()


def consignment_price_set(conn: sqlite3.Connection, sku: str, owner: str, cost: int) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO consignment_prices VALUES (?, ?, ?)", (sku, owner, cost)
    )


def consignment_price(conn: sqlite3.Connection, sku: str, owner: str) -> int | None:
    row = conn.execute(
        "SELECT unit_cost FROM consignment_prices WHERE sku = ? AND owner = ?", (sku, owner)
    ).fetchone()
    return row[0] if row else None


def consignment_totals(
    conn: sqlite3.Connection, since: str, until: str
) -> list[tuple[str, int, int]]:
    """(owner, units sold, owed micros) over days [since, until]."""
    return conn.execute(
        "SELECT owner, sum(qty), sum(qty * unit_cost) FROM consignment_owed "
        "WHERE day BETWEEN ? AND ? GROUP BY owner ORDER BY owner",
        (since, until),
    ).fetchall()


# --- daily aggregates ----------------------------------------------------------------------
def daily_sku_add(
    conn: sqlite3.Connection, day: str, sku: str, out_qty: int = 0, in_qty: int = 0,
    cogs: int = 0,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO daily_sku (day, sku, out_qty, in_qty, cogs) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (sku, day) DO UPDATE SET out_qty = out_qty + excluded.out_qty, "
        "in_qty = in_qty + excluded.in_qty, cogs = cogs + excluded.cogs",
        (day, sku, out_qty, in_qty, cogs),
    )


_TOTALS = ("value_delta", "cogs", "units_ordered", "units_shipped", "orders_closed",
           "order_hours", "counts", "counts_exact", "po_lines", "po_lines_exact")  # fmt: skip


def daily_totals_add(conn: sqlite3.Connection, day: str, **amounts: float) -> None:
    names = [n for n in amounts if n in _TOTALS]
    if len(names) != len(amounts):
        raise ValueError(f"unknown daily totals: {set(amounts) - set(names)}")
    columns = ", ".join(names)
    marks = ", ".join("?" for _ in names)
    updates = ", ".join(f"{n} = {n} + excluded.{n}" for n in names)
    conn.execute(
        f"INSERT INTO daily_totals (day, {columns}) VALUES (?, {marks}) "
        f"ON CONFLICT (day) DO UPDATE SET {updates}",
        (day, *(amounts[n] for n in names)),
    )


def daily_totals(conn: sqlite3.Connection, since: str, until: str) -> list[dict]:
    rows = conn.execute(
        f"SELECT day, {', '.join(_TOTALS)} FROM daily_totals WHERE day BETWEEN ? AND ? "
        "ORDER BY day",
        (since, until),
    ).fetchall()
    return [dict(zip(("day", *_TOTALS), row, strict=True)) for row in rows]


def value_total(conn: sqlite3.Connection) -> int:
    """Our stock's FIFO value now: the sum of the daily changes (a few hundred rows)."""
    return conn.execute("SELECT coalesce(sum(value_delta), 0) FROM daily_totals").fetchone()[0]


def value_after(conn: sqlite3.Connection, day: str) -> int:
    query = "SELECT coalesce(sum(value_delta), 0) FROM daily_totals WHERE day > ?"
    return conn.execute(query, (day,)).fetchone()[0]


def demand_days(conn: sqlite3.Connection, sku: str, since: str, until: str) -> dict[str, int]:
    """day -> units shipped, for days with any demand in [since, until]."""
    rows = conn.execute(
        "SELECT day, out_qty FROM daily_sku WHERE sku = ? AND day BETWEEN ? AND ?",
        (sku, since, until),
    ).fetchall()
    return dict(rows)


def consumption_values(conn: sqlite3.Connection, since: str) -> list[tuple[str, int]]:
    """(sku, COGS micros since `since`) for every product, the largest first."""
    return conn.execute(
        "SELECT p.sku, coalesce(d.v, 0) FROM products p LEFT JOIN ("
        "  SELECT sku, sum(cogs) AS v FROM daily_sku WHERE day >= ? GROUP BY sku"
        ") d ON d.sku = p.sku ORDER BY coalesce(d.v, 0) DESC, p.sku",
        (since,),
    ).fetchall()


def activity_out(conn: sqlite3.Connection, sku: str, day: str) -> None:
    conn.execute(
        "INSERT INTO sku_activity (sku, last_out) VALUES (?, ?) ON CONFLICT (sku) "
        "DO UPDATE SET last_out = max(coalesce(last_out, ''), excluded.last_out)",
        (sku, day),
    )


def activity_count(conn: sqlite3.Connection, sku: str, day: str) -> None:
    conn.execute(
        "INSERT INTO sku_activity (sku, last_count) VALUES (?, ?) ON CONFLICT (sku) "
        "DO UPDATE SET last_count = max(coalesce(last_count, ''), excluded.last_count)",
        (sku, day),
    )


def activity_set_pick(conn: sqlite3.Connection, sku: str, location: str | None) -> bool:
    """Remember where the sku is picked from now; True when that changed."""
    row = conn.execute(
        "INSERT INTO sku_activity (sku, pick_location) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE "
        "SET pick_location = excluded.pick_location "
        "WHERE pick_location IS NOT excluded.pick_location RETURNING sku",
        (sku, location),
    ).fetchone()
    return row is not None


def orders_waiting_for(conn: sqlite3.Connection, sku: str) -> list[str]:
    """Open orders (no station packing them yet) with a line of `sku` still to ship."""
    rows = conn.execute(
        "SELECT DISTINCT l.order_id FROM order_lines l JOIN orders o ON o.order_id = l.order_id "
        "WHERE l.sku = ? AND l.open = 1 AND l.role = 'stock' AND o.status = 'open'",
        (sku,),
    )
    return [r[0] for r in rows]


def activity_set_low(conn: sqlite3.Connection, sku: str, low: bool) -> bool:
    """Set the low-stock flag; True when it changed."""
    row = conn.execute(
        "INSERT INTO sku_activity (sku, low) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET "
        "low = excluded.low WHERE low != excluded.low RETURNING sku",
        (sku, int(low)),
    ).fetchone()
    return row is not None


def low_stock_page(
    conn: sqlite3.Connection, after: str, limit: int
) -> list[tuple[str, str | None, int]]:
    """(sku, name, on hand) of the skus flagged low, by sku after `after`."""
    return conn.execute(
        "SELECT a.sku, p.name, (SELECT coalesce(sum(qty), 0) FROM balances b WHERE b.sku = a.sku) "
        "FROM sku_activity a LEFT JOIN products p ON p.sku = a.sku "
        "WHERE a.low = 1 AND a.sku > ? ORDER BY a.sku LIMIT ?",
        (after, limit),
    ).fetchall()


def scan_add(
    conn: sqlite3.Connection, day: str, station: str, operator: str, mode: str, error: bool
) -> tuple[int, int]:
    """Count one scan; returns (scans, errors) of that station today, every operator and mode."""
    conn.execute(
        "INSERT INTO scan_stats VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT "
        "(day, station, operator, mode) DO UPDATE SET scans = scans + 1, "
        "errors = errors + excluded.errors",
        (day, station, operator, mode, int(error)),
    )
    return conn.execute(
        "SELECT sum(scans), sum(errors) FROM scan_stats WHERE day = ? AND station = ?",
        (day, station),
    ).fetchone()


def scan_totals(
    conn: sqlite3.Connection, since: str, until: str, by: str
) -> list[tuple[str, int, int]]:
    """(station or operator, scans, errors) over [since, until]."""
    column = {"station": "station", "operator": "operator"}[by]
    return conn.execute(
        f"SELECT {column}, sum(scans), sum(errors) FROM scan_stats WHERE day BETWEEN ? AND ? "
        f"GROUP BY {column} ORDER BY {column}",
        (since, until),
    ).fetchall()


# --- orders --------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderLineRow:
    line: int
    sku: str
    qty: int
    shipped: int
    short: int
    kit: str
    role: str
    supplier: str | None
    po: str | None
    open: bool


def order_lines_replace(conn: sqlite3.Connection, order_id: str, lines: list[tuple]) -> None:
    """lines: (sku, qty, kit, role, supplier, po)."""
    conn.execute("DELETE FROM order_lines WHERE order_id = ?", (order_id,))
    conn.executemany(
        "INSERT INTO order_lines (order_id, line, sku, qty, kit, role, supplier, po) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(order_id, n, *line) for n, line in enumerate(lines, 1)],
    )


def order_lines(conn: sqlite3.Connection, order_id: str) -> list[OrderLineRow]:
    rows = conn.execute(
        "SELECT line, sku, qty, shipped, short, kit, role, supplier, po, open FROM order_lines "
        "WHERE order_id = ? ORDER BY line",
        (order_id,),
    ).fetchall()
    return [OrderLineRow(*row[:9], bool(row[9])) for row in rows]


def order_line_update(
    conn: sqlite3.Connection, order_id: str, line: int, shipped: int, short: int, open_: bool
) -> None:
    conn.execute(
        "UPDATE order_lines SET shipped = ?, short = ?, open = ? WHERE order_id = ? AND line = ?",
        (shipped, short, int(open_), order_id, line),
    )


def committed(conn: sqlite3.Connection, sku: str) -> int:
    """Units open orders still have to ship from our stock."""
    return conn.execute(
        "SELECT coalesce(sum(max(qty - shipped - short, 0)), 0) FROM order_lines "
        "WHERE sku = ? AND open = 1 AND role = 'stock'",
        (sku,),
    ).fetchone()[0]


# --- purchase orders -----------------------------------------------------------------------
@dataclass(frozen=True)
class PoRow:
    po: str
    supplier: str | None
    status: str
    ordered: str
    expected: str | None
    first_receipt: str | None
    completed: str | None
    order_id: str | None
    dropship: bool


_PO_COLUMNS = "po, supplier, status, ordered, expected, first_receipt, completed, order_id, dropship"


def po_insert(
    conn: sqlite3.Connection, po: str, supplier: str | None, ordered: str, expected: str | None,
    order_id: str | None, dropship: bool, lines: list[tuple[str, int, int | None]], now: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO purchase_orders (po, supplier, status, ordered, expected, order_id, "
        "dropship, updated) VALUES (?, ?, 'open', ?, ?, ?, ?, ?)",
        (po, supplier, ordered, expected, order_id, int(dropship), now),
    )
    conn.executemany(
        "INSERT INTO po_lines (po, line, sku, qty, unit_cost) VALUES (?, ?, ?, ?, ?)",
        [(po, n, sku, qty, cost) for n, (sku, qty, cost) in enumerate(lines, 1)],
    )


def po_delete(conn: sqlite3.Connection, po: str) -> None:
    conn.execute("DELETE FROM po_lines WHERE po = ?", (po,))
    conn.execute("DELETE FROM purchase_orders WHERE po = ?", (po,))


def po_get(conn: sqlite3.Connection, po: str) -> PoRow | None:
    row = conn.execute(f"SELECT {_PO_COLUMNS} FROM purchase_orders WHERE po = ?", (po,))
    row = row.fetchone()
    return PoRow(*row[:8], bool(row[8])) if row else None


def po_list(
    conn: sqlite3.Connection, status: str | None, limit: int, offset: int
) -> list[PoRow]:
    rows = conn.execute(
        f"SELECT {_PO_COLUMNS} FROM purchase_orders WHERE ? IS NULL OR status = ? "
        "ORDER BY ordered DESC, po LIMIT ? OFFSET ?",
        (status, status, limit, offset),
    ).fetchall()
    return [PoRow(*row[:8], bool(row[8])) for row in rows]


def po_set(conn: sqlite3.Connection, po: str, now: str, **fields: str | None) -> None:
    allowed = {"status", "first_receipt", "completed"}
    if not set(fields) <= allowed:
        raise ValueError(f"cannot set {set(fields) - allowed} on a purchase order")
    sets = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(
        f"UPDATE purchase_orders SET {sets}, updated = ? WHERE po = ?",
        (*fields.values(), now, po),
    )


def po_lines(conn: sqlite3.Connection, po: str) -> list[tuple[int, str, int, int, int | None]]:
    """(line, sku, qty, received, unit cost micros)."""
    return conn.execute(
        "SELECT line, sku, qty, received, unit_cost FROM po_lines WHERE po = ? ORDER BY line",
        (po,),
    ).fetchall()


def po_line_receive(conn: sqlite3.Connection, po: str, line: int, qty: int) -> None:
    conn.execute(
        "UPDATE po_lines SET received = received + ? WHERE po = ? AND line = ?", (qty, po, line)
    )


def on_order(conn: sqlite3.Connection, sku: str) -> int:
    """Units on open purchase orders (not dropship) still to arrive."""
    return conn.execute(
        "SELECT coalesce(sum(max(l.qty - l.received, 0)), 0) FROM po_lines l "
        "JOIN purchase_orders p ON p.po = l.po WHERE l.sku = ? AND p.dropship = 0 "
        "AND p.status IN ('open', 'receiving')",
        (sku,),
    ).fetchone()[0]


def supplier_lead_times(conn: sqlite3.Connection, supplier: str, last: int = 10) -> list[tuple]:
    """(ordered, expected, completed) of the supplier's last completed purchase orders."""
    return conn.execute(
        "SELECT ordered, expected, completed FROM purchase_orders WHERE supplier = ? "
        "AND completed IS NOT NULL AND status IN ('received', 'closed') "
        "ORDER BY completed DESC LIMIT ?",
        (supplier, last),
    ).fetchall()


def counter_next(conn: sqlite3.Connection, name: str) -> int:
    """The next number of a named sequence (purchase orders, count tasks, ...)."""
    row = conn.execute(
        "INSERT INTO meta VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET "
        "value = CAST(value AS INTEGER) + 1 RETURNING value",
        (f"counter:{name}",),
    ).fetchone()
    return int(row[0])


# --- counts --------------------------------------------------------------------------------
@dataclass(frozen=True)
class CountRow:
    id: int
    event_id: int
    station: str
    sku: str
    location: str
    lot: str | None
    book: int
    counted: int
    variance: int
    status: str
    task: str | None
    ts: str
    decided_by: str | None
    decided: str | None


_COUNT_COLUMNS = ("id, event_id, station, sku, location, lot, book, counted, variance, status, "
                  "task, ts, decided_by, decided")  # fmt: skip


def count_add(
    conn: sqlite3.Connection, event_id: int, station: str, sku: str, location: str,
    lot: str | None, book: int, counted: int, status: str, task: str | None, ts: str,
) -> int:  # fmt: skip
    cur = conn.execute(
        "INSERT INTO counts (event_id, station, sku, location, lot, book, counted, variance, "
        "status, task, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (event_id, station, sku, location, lot, book, counted, counted - book, status, task, ts),
    )
    return cur.lastrowid


def count_get(conn: sqlite3.Connection, count_id: int) -> CountRow | None:
    row = conn.execute(f"SELECT {_COUNT_COLUMNS} FROM counts WHERE id = ?", (count_id,))
    row = row.fetchone()
    return CountRow(*row) if row else None


def count_list(
    conn: sqlite3.Connection, status: str | None, limit: int, offset: int
) -> list[CountRow]:
    rows = conn.execute(
        f"SELECT {_COUNT_COLUMNS} FROM counts WHERE ? IS NULL OR status = ? "
        "ORDER BY id DESC LIMIT ? OFFSET ?",
        (status, status, limit, offset),
    ).fetchall()
    return [CountRow(*row) for row in rows]


def counts_pending_of(
    conn: sqlite3.Connection, sku: str, location: str, lot: str | None
) -> list[int]:
    """Ids of the counts of this line still waiting for approval."""
    rows = conn.execute(
        "SELECT id FROM counts WHERE status = 'pending' AND sku = ? AND location = ? "
        "AND lot IS ?",
        (sku, location, lot),
    )
    return [r[0] for r in rows]


def count_decide(
    conn: sqlite3.Connection, count_id: int, status: str, by: str, now: str,
    posted_event: int | None,
) -> None:  # fmt: skip
    conn.execute(
        "UPDATE counts SET status = ?, decided_by = ?, decided = ?, posted_event = ? "
        "WHERE id = ?",
        (status, by, now, posted_event, count_id),
    )


def counts_pending(
    conn: sqlite3.Connection, limit: int, offset: int
) -> list[tuple[CountRow, str | None]]:
    """(count, operator who counted) of the counts waiting for approval, oldest first."""
    columns = ", ".join("c." + c for c in _COUNT_COLUMNS.split(", "))
    rows = conn.execute(
        f"SELECT {columns}, json_extract(e.data, '$.operator') FROM counts c "
        "JOIN events e ON e.id = c.event_id WHERE c.status = 'pending' ORDER BY c.id "
        "LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()
    return [(CountRow(*row[:-1]), row[-1]) for row in rows]


def count_run_add(conn: sqlite3.Connection, run: str, cutoff: str, now: str) -> None:
    conn.execute("INSERT INTO count_runs VALUES (?, ?, 'open', ?)", (run, cutoff, now))


def count_run_get(conn: sqlite3.Connection, run: str) -> tuple[str, str, str] | None:
    query = "SELECT cutoff, status, created FROM count_runs WHERE run = ?"
    return conn.execute(query, (run,)).fetchone()


def count_runs(conn: sqlite3.Connection, limit: int) -> list[tuple[str, str, str, str]]:
    """(run, cutoff, status, created) of the latest full counts, newest first."""
    query = "SELECT run, cutoff, status, created FROM count_runs ORDER BY created DESC LIMIT ?"
    return conn.execute(query, (limit,)).fetchall()


def count_run_set(conn: sqlite3.Connection, run: str, status: str) -> None:
    conn.execute("UPDATE count_runs SET status = ? WHERE run = ?", (status, run))


def count_task_add(
    conn: sqlite3.Connection, task: str, station: str, location: str, sku: str | None,
    run: str | None, now: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO count_tasks (task, station, location, sku, status, run, created) "
        "VALUES (?, ?, ?, ?, 'open', ?, ?)",
        (task, station, location, sku, run, now),
    )


def count_task_get(conn: sqlite3.Connection, task: str) -> tuple | None:
    """(station, location, sku, status, run)."""
    return conn.execute(
        "SELECT station, location, sku, status, run FROM count_tasks WHERE task = ?", (task,)
    ).fetchone()


def count_task_done(conn: sqlite3.Connection, task: str, now: str) -> None:
    conn.execute(
        "UPDATE count_tasks SET status = 'done', done = ? WHERE task = ? AND status = 'open'",
        (now, task),
    )


def count_tasks_open_skus(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT DISTINCT sku FROM count_tasks WHERE status = 'open' AND sku IS NOT NULL"
    )
    return {r[0] for r in rows}


def count_tasks(
    conn: sqlite3.Connection, run: str | None, status: str | None, limit: int = -1
) -> list[dict]:
    """Tasks of a run and/or in a status, by task id; `limit` -1: all of them."""
    rows = conn.execute(
        "SELECT task, station, location, sku, status, run, created, done FROM count_tasks "
        "WHERE (? IS NULL OR run = ?) AND (? IS NULL OR status = ?) ORDER BY task LIMIT ?",
        (run, run, status, status, limit),
    ).fetchall()
    keys = ("task", "station", "location", "sku", "status", "run", "created", "done")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def counts_of_run(conn: sqlite3.Connection, run: str) -> list[CountRow]:
    rows = conn.execute(
        f"SELECT {', '.join('c.' + c for c in _COUNT_COLUMNS.split(', '))} FROM counts c "
        "JOIN count_tasks t ON t.task = c.task WHERE t.run = ? ORDER BY c.id",
        (run,),
    ).fetchall()
    return [CountRow(*row) for row in rows]


def count_due_lines(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """(sku, location, qty, last count day, ABC class) of every non-zero stock line, by sku
    and location, as an open cursor: the caller reads only as many as it needs (and closes
    it)."""
    return conn.execute(
        "SELECT b.sku, b.location, sum(b.qty), a.last_count, coalesce(c.class, 'C') "
        "FROM balances b LEFT JOIN sku_activity a ON a.sku = b.sku "
        "LEFT JOIN abc_classes c ON c.sku = b.sku "
        "GROUP BY b.sku, b.location HAVING sum(b.qty) != 0 ORDER BY b.sku, b.location"
    )


def high_risk_skus(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT sku FROM products WHERE high_risk = 1")}


# --- hub-originated events, reversals, uplifts, ABC ------------------------------------------
def movements_of_event(conn: sqlite3.Connection, event_id: int) -> list[Movement]:
    rows = conn.execute(
        "SELECT id, event_id, type, sku, location, lot, owner, delta, ts, hub_ts "
        "FROM movements WHERE event_id = ? ORDER BY id",
        (event_id,),
    ).fetchall()
    return [Movement(*row) for row in rows]


def movement_get(conn: sqlite3.Connection, movement_id: int) -> Movement | None:
    row = conn.execute(
        "SELECT id, event_id, type, sku, location, lot, owner, delta, ts, hub_ts "
        "FROM movements WHERE id = ?",
        (movement_id,),
    ).fetchone()
    return Movement(*row) if row else None


def movements_of_sku(
    conn: sqlite3.Connection, sku: str, limit: int, before: int | None = None
) -> list[dict]:
    """The sku's movements before movement `before` (or the latest), newest first, with the
    station event's key and operator (the (sku, id) index)."""
    rows = conn.execute(
        "SELECT m.id, m.type, m.location, m.lot, m.owner, m.delta, m.ts, m.hub_ts, e.station, "
        "e.epoch, e.seq, json_extract(e.data, '$.operator') FROM movements m "
        "JOIN events e ON e.id = m.event_id WHERE m.sku = ? AND m.id < ? "
        "ORDER BY m.id DESC LIMIT ?",
        (sku, before if before is not None else 2**63 - 1, limit),
    ).fetchall()
    keys = ("id", "type", "location", "lot", "owner", "delta", "ts", "hub_ts", "station",
            "epoch", "seq", "operator")  # fmt: skip
    return [dict(zip(keys, row, strict=True)) for row in rows]


def reversal_add(conn: sqlite3.Connection, event_id: int, reversal_event: int, reason: str):
    conn.execute("INSERT INTO reversals VALUES (?, ?, ?)", (event_id, reversal_event, reason))


def reversal_of(conn: sqlite3.Connection, event_id: int) -> int | None:
    query = "SELECT reversal_event FROM reversals WHERE event_id = ?"
    row = conn.execute(query, (event_id,)).fetchone()
    return row[0] if row else None


def event_type(conn: sqlite3.Connection, event_id: int) -> str | None:
    row = conn.execute("SELECT type FROM events WHERE id = ?", (event_id,)).fetchone()
    return row[0] if row else None


def uplift_add(
    conn: sqlite3.Connection, sku: str | None, start: str, end: str, factor: float, note: str
) -> int:
    cur = conn.execute(
        "INSERT INTO demand_uplifts (sku, start_day, end_day, factor, note) VALUES (?, ?, ?, ?, ?)",
        (sku, start, end, factor, note),
    )
    return cur.lastrowid


def uplifts(conn: sqlite3.Connection, sku: str | None = None) -> list[tuple]:
    """(id, sku, start, end, factor, note): every plan, or those that apply to `sku`."""
    return conn.execute(
        "SELECT id, sku, start_day, end_day, factor, note FROM demand_uplifts "
        "WHERE ? IS NULL OR sku IS NULL OR sku = ? ORDER BY start_day, id",
        (sku, sku),
    ).fetchall()


def uplift_delete(conn: sqlite3.Connection, uplift_id: int) -> bool:
    cur = conn.execute("DELETE FROM demand_uplifts WHERE id = ?", (uplift_id,))
    return cur.rowcount == 1


def abc_replace(conn: sqlite3.Connection, rows: list[tuple[str, str, int, float]], now: str):
    """rows: (sku, class, value, cumulative share) in rank order."""
    conn.execute("DELETE FROM abc_classes")
    conn.executemany(
        "INSERT INTO abc_classes VALUES (?, ?, ?, ?, ?, ?)",
        [(sku, cls, value, share, rank, now) for rank, (sku, cls, value, share)
         in enumerate(rows, 1)],
    )  # fmt: skip


def abc_page(conn: sqlite3.Connection, limit: int, offset: int) -> list[tuple]:
    return conn.execute(
        "SELECT rank, sku, class, value, share FROM abc_classes ORDER BY rank LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def abc_computed(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT max(computed) FROM abc_classes").fetchone()
    return row[0]


# --- report pages --------------------------------------------------------------------------
def stock_page(
    conn: sqlite3.Connection, sku: str | None, location: str | None, owner: str | None,
    limit: int, offset: int,
) -> list[tuple]:  # fmt: skip
    """(sku, location, lot, owner, qty, expiry, layer value) of non-zero balance lines."""
    # Only the filters given, so that SQLite can use the key (sku) or balances_location.
    filters = {"b.sku": sku, "b.location": location, "b.owner": owner}
    given = {column: value for column, value in filters.items() if value is not None}
    where = "".join(f" AND {column} = ?" for column in given)
    return conn.execute(
        "SELECT b.sku, b.location, b.lot, b.owner, b.qty, l.expiry, "
        "CASE WHEN b.owner = '' THEN (SELECT coalesce(sum(c.qty_left * c.unit_cost), 0) "
        "  FROM cost_layers c WHERE c.sku = b.sku AND c.location = b.location AND c.lot = b.lot "
        "  AND c.qty_left != 0) ELSE 0 END "
        f"FROM balances b LEFT JOIN lots l ON l.sku = b.sku AND l.lot = b.lot WHERE b.qty != 0{where} "
        "ORDER BY b.sku, b.location, b.lot, b.owner LIMIT ? OFFSET ?",
        (*given.values(), limit, offset),
    ).fetchall()


def valuation_page(conn: sqlite3.Connection, limit: int, offset: int) -> list[tuple]:
    """(sku, own qty, consigned qty, value micros) per product with stock, by sku."""
    return conn.execute(
        "SELECT b.sku, sum(CASE WHEN b.owner = '' THEN b.qty ELSE 0 END), "
        "sum(CASE WHEN b.owner != '' THEN b.qty ELSE 0 END), "
        "(SELECT coalesce(sum(c.qty_left * c.unit_cost), 0) FROM cost_layers c "
        " WHERE c.sku = b.sku AND c.qty_left != 0) "
        "FROM balances b GROUP BY b.sku HAVING sum(b.qty != 0) > 0 ORDER BY b.sku "
        "LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


# Dead stock and surplus: the same SELECT serves a live page and the stored rows.
_DEAD_STOCK = (
    "SELECT b.sku, sum(b.qty), a.last_out FROM balances b "
    "LEFT JOIN sku_activity a ON a.sku = b.sku "
    "WHERE a.last_out IS NULL OR a.last_out < :before "
    "GROUP BY b.sku HAVING sum(b.qty) > 0"
)
_SURPLUS = (
    "WITH s AS (SELECT sku, sum(qty) AS q FROM balances GROUP BY sku HAVING sum(qty) > 0), "
    "d AS (SELECT sku, sum(out_qty) AS o FROM daily_sku WHERE day >= :since GROUP BY sku) "
    "SELECT s.sku, s.q, coalesce(d.o, 0) FROM s LEFT JOIN d ON d.sku = s.sku "
    "WHERE coalesce(d.o, 0) <= 0 OR s.q * :window > :days * d.o"
)


def dead_stock_page(conn: sqlite3.Connection, before: str, limit: int, offset: int) -> list:
    """(sku, on hand, last outbound day) of products in stock with no outbound since `before`
    (groups every balance: `dead_stock_stored` reads the stored rows)."""
    return conn.execute(
        _DEAD_STOCK + " ORDER BY b.sku LIMIT :limit OFFSET :offset",
        {"before": before, "limit": limit, "offset": offset},
    ).fetchall()


def dead_stock_replace(conn: sqlite3.Connection, before: str) -> int:
    conn.execute("DELETE FROM dead_stock_rows")
    cur = conn.execute(
        "INSERT INTO dead_stock_rows (sku, on_hand, last_out) " + _DEAD_STOCK, {"before": before}
    )
    return cur.rowcount


def dead_stock_stored(conn: sqlite3.Connection, limit: int, offset: int) -> list:
    return conn.execute(
        "SELECT sku, on_hand, last_out FROM dead_stock_rows ORDER BY sku LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def surplus_page(
    conn: sqlite3.Connection, since: str, window_days: int, days: int, limit: int, offset: int
) -> list[tuple]:
    """(sku, on hand, units shipped since `since`) where on hand covers more than `days`
    (groups every balance: `surplus_stored` reads the stored rows)."""
    return conn.execute(
        _SURPLUS + " ORDER BY s.sku LIMIT :limit OFFSET :offset",
        {"since": since, "window": window_days, "days": days, "limit": limit, "offset": offset},
    ).fetchall()


def surplus_replace(conn: sqlite3.Connection, since: str, window_days: int, days: int) -> int:
    conn.execute("DELETE FROM surplus_rows")
    cur = conn.execute(
        "INSERT INTO surplus_rows (sku, on_hand, shipped) " + _SURPLUS,
        {"since": since, "window": window_days, "days": days},
    )
    return cur.rowcount


def surplus_stored(conn: sqlite3.Connection, limit: int, offset: int) -> list[tuple]:
    return conn.execute(
        "SELECT sku, on_hand, shipped FROM surplus_rows ORDER BY sku LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def report_run(conn: sqlite3.Connection, report: str) -> tuple[str, str, str] | None:
    """(day, computed, params) of the stored rows of `report`, if they were ever computed."""
    return conn.execute(
        "SELECT day, computed, params FROM report_runs WHERE report = ?", (report,)
    ).fetchone()


def report_run_set(
    conn: sqlite3.Connection, report: str, day: str, computed: str, params: str
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO report_runs (report, day, computed, params) VALUES (?, ?, ?, ?)",
        (report, day, computed, params),
    )


# --- reorder plans, every product at once (planning.refresh_reorder) ------------------------
def product_policies(conn: sqlite3.Connection) -> Iterator[ProductPolicy]:
    rows = conn.execute(
        "SELECT sku, name, unit_cost, par_level, reorder_point, safety_stock, high_risk, owner "
        "FROM products ORDER BY sku"
    )
    for row in rows:
        yield ProductPolicy(*row[:6], bool(row[6]), row[7])


def demand_sums(conn: sqlite3.Connection, since: str, until: str) -> dict[str, tuple[int, int]]:
    """sku -> (units shipped, sum of the squares of each day's units) in [since, until]."""
    rows = conn.execute(
        "SELECT sku, sum(out_qty), sum(out_qty * out_qty) FROM daily_sku "
        "WHERE day BETWEEN ? AND ? GROUP BY sku",
        (since, until),
    )
    return {sku: (total, squares) for sku, total, squares in rows}


def on_hand_by_sku(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT sku, sum(qty) FROM balances GROUP BY sku"))


def committed_by_sku(conn: sqlite3.Connection) -> dict[str, int]:
    """`committed` of every sku with open order lines."""
    return dict(conn.execute(
        "SELECT sku, sum(max(qty - shipped - short, 0)) FROM order_lines "
        "WHERE open = 1 AND role = 'stock' GROUP BY sku"
    ))  # fmt: skip


def on_order_by_sku(conn: sqlite3.Connection) -> dict[str, int]:
    """`on_order` of every sku on open purchase orders."""
    return dict(conn.execute(
        "SELECT l.sku, sum(max(l.qty - l.received, 0)) FROM po_lines l "
        "JOIN purchase_orders p ON p.po = l.po WHERE p.dropship = 0 "
        "AND p.status IN ('open', 'receiving') GROUP BY l.sku"
    ))  # fmt: skip


def preferred_suppliers(conn: sqlite3.Connection) -> dict[str, tuple[str, int]]:
    """sku -> (preferred supplier, its promised lead time days): `product_suppliers`' first."""
    found: dict[str, tuple[str, int]] = {}
    rows = conn.execute(
        "SELECT sku, supplier, lead_time_days FROM product_suppliers ORDER BY sku, rank"
    )
    for sku, supplier, days in rows:
        found.setdefault(sku, (supplier, days))
    return found


def reorder_plans_replace(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """rows: (sku, due, target, mean, plan JSON)."""
    conn.execute("DELETE FROM reorder_plans")
    conn.executemany(
        "INSERT INTO reorder_plans (sku, due, target, mean, plan) VALUES (?, ?, ?, ?, ?)", rows
    )


def reorder_plan_get(conn: sqlite3.Connection, sku: str) -> tuple[int, int, float, str] | None:
    """(due, target, mean, plan JSON) of the sku's stored plan."""
    return conn.execute(
        "SELECT due, target, mean, plan FROM reorder_plans WHERE sku = ?", (sku,)
    ).fetchone()


def reorder_plan_set_due(conn: sqlite3.Connection, sku: str, due: bool) -> None:
    conn.execute("UPDATE reorder_plans SET due = ? WHERE sku = ?", (int(due), sku))


def reorder_plans_page(
    conn: sqlite3.Connection, after: str, limit: int, due_only: bool
) -> list[tuple[str, int, float, str]]:
    """(sku, target, mean, plan JSON) by sku after `after`: the due ones or every product."""
    # Two statements: the partial index on due plans serves only a literal `due = 1`.
    where = "sku > ? AND due = 1" if due_only else "sku > ?"
    return conn.execute(
        f"SELECT sku, target, mean, plan FROM reorder_plans WHERE {where} ORDER BY sku LIMIT ?",
        (after, limit),
    ).fetchall()


def orders_closed_between(conn: sqlite3.Connection, since: str, until: str) -> int:
    query = "SELECT count(*) FROM orders WHERE closed >= ? AND closed < ?"
    return conn.execute(query, (since, until)).fetchone()[0]


def hub_epoch(conn: sqlite3.Connection, new_epoch: str) -> str:
    """The hub's own journal epoch (created once)."""
    conn.execute("INSERT OR IGNORE INTO meta VALUES ('hub_epoch', ?)", (new_epoch,))
    return meta_get(conn, "hub_epoch")


def station_states(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return conn.execute("SELECT station, state, last_seen FROM stations").fetchall()


# --- web: users and sessions below -------------------------------------------------------
@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str
    created: str
    updated: str


def user_add(
    conn: sqlite3.Connection, name: str, role: str, password_hash: str, now: str
) -> bool:
    """False when the name is taken."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO users VALUES (?, ?, ?, ?, ?)",
        (name, role, password_hash, now, now),
    )
    return cur.rowcount == 1


def user_get(conn: sqlite3.Connection, name: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return User(*row) if row else None


def user_list(conn: sqlite3.Connection) -> list[User]:
    return [User(*row) for row in conn.execute("SELECT * FROM users ORDER BY name")]


def user_remove(conn: sqlite3.Connection, name: str) -> bool:
    conn.execute("DELETE FROM sessions WHERE user = ?", (name,))
    return conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 1


def user_set_password(conn: sqlite3.Connection, name: str, password_hash: str, now: str) -> bool:
    """Also ends the user's sessions: a changed password logs every browser out."""
    conn.execute("DELETE FROM sessions WHERE user = ?", (name,))
    return (
        conn.execute(
            "UPDATE users SET password = ?, updated = ? WHERE name = ?",
            (password_hash, now, name),
        ).rowcount
        == 1
    )


def session_add(
    conn: sqlite3.Connection, id_hash: str, user: str, created: str, expires: str
) -> None:
    conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (id_hash, user, created, expires))


def session_user(conn: sqlite3.Connection, id_hash: str, now: str) -> tuple[str, str] | None:
    """(name, role) of a live session's user."""
    return conn.execute(
        "SELECT u.name, u.role FROM sessions s JOIN users u ON u.name = s.user "
        "WHERE s.id_hash = ? AND s.expires > ?",
        (id_hash, now),
    ).fetchone()


def session_delete(conn: sqlite3.Connection, id_hash: str) -> None:
    conn.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))


def sessions_expire(conn: sqlite3.Connection, now: str) -> None:
    conn.execute("DELETE FROM sessions WHERE expires <= ?", (now,))


def login_failure_add(conn: sqlite3.Connection, kind: str, key: str, ts: float) -> int:
    return conn.execute(
        "INSERT INTO login_failures (kind, key, ts) VALUES (?, ?, ?)", (kind, key, ts)
    ).lastrowid


def login_failure_remove(conn: sqlite3.Connection, row_id: int) -> None:
    conn.execute("DELETE FROM login_failures WHERE rowid = ?", (row_id,))


def login_failures_since(conn: sqlite3.Connection, kind: str, key: str, since: float) -> int:
    return conn.execute(
        "SELECT count(*) FROM login_failures WHERE kind = ? AND key = ? AND ts > ?",
        (kind, key, since),
    ).fetchone()[0]


def login_failures_clear(conn: sqlite3.Connection, kind: str, key: str) -> None:
    conn.execute("DELETE FROM login_failures WHERE kind = ? AND key = ?", (kind, key))


def login_failures_prune(conn: sqlite3.Connection, before: float) -> None:
    conn.execute("DELETE FROM login_failures WHERE ts <= ?", (before,))


# Read queries behind the pages (no business rules: what is stored, paged and indexed).
def stock_search(
    conn: sqlite3.Connection, text: str, limit: int, offset: int
) -> list[tuple[str, str | None, int]]:
    """(sku, name, on hand) of products whose sku starts with, or name contains, `text`,
    or whose GTIN is `text`."""
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return conn.execute(
        "WITH hits AS ("
        "  SELECT sku FROM products WHERE sku >= ? AND sku < ? || char(1114111)"
        # A name may contain the text anywhere: no index can seek that, but scanning the
        # narrow products_name index (name, rowid) instead of whole product rows (their
        # JSON records) makes it a third of the work on a big catalog.
        "  UNION SELECT sku FROM products WHERE rowid IN (SELECT rowid FROM products"
        "   INDEXED BY products_name WHERE name LIKE '%' || ? || '%' ESCAPE '\\')"
        "  UNION SELECT sku FROM gtins WHERE gtin = ?"
        "  UNION SELECT DISTINCT sku FROM balances WHERE sku >= ? AND sku < ? || char(1114111)"
        ") SELECT h.sku, p.name, coalesce((SELECT sum(qty) FROM balances b WHERE b.sku = h.sku), 0)"
        " FROM hits h LEFT JOIN products p ON p.sku = h.sku ORDER BY h.sku LIMIT ? OFFSET ?",
        (text, text, like, text.zfill(14) if text.isdigit() else "", text, text, limit, offset),
    ).fetchall()


def catalog_stock_page(
    conn: sqlite3.Connection, after: str, limit: int, negative_only: bool = False
) -> list[tuple[str, str | None, int]]:
    """(sku, name, on hand) of the catalog in sku order after `after` (keyset); with
    `negative_only`, the skus (known or not) with a line below zero."""
    if negative_only:
        return conn.execute(
            "SELECT n.sku, p.name, (SELECT sum(qty) FROM balances b WHERE b.sku = n.sku) "
            "FROM (SELECT DISTINCT sku FROM balances WHERE qty < 0 AND sku > ? ORDER BY sku "
            "LIMIT ?) n LEFT JOIN products p ON p.sku = n.sku ORDER BY n.sku",
            (after, limit),
        ).fetchall()
    return conn.execute(
        "SELECT p.sku, p.name, coalesce((SELECT sum(qty) FROM balances b WHERE b.sku = p.sku), 0)"
        " FROM products p WHERE p.sku > ? ORDER BY p.sku LIMIT ?",
        (after, limit),
    ).fetchall()


def location_stock(
    conn: sqlite3.Connection, location: str, limit: int, offset: int
) -> list[tuple[str, str | None, str, str, int]]:
    """(sku, name, lot, owner, qty) of the non-zero lines at one location."""
    return conn.execute(
        "SELECT b.sku, p.name, b.lot, b.owner, b.qty FROM balances b "
        "LEFT JOIN products p ON p.sku = b.sku WHERE b.location = ? AND b.qty != 0 "
        "ORDER BY b.sku, b.lot, b.owner LIMIT ? OFFSET ?",
        (location, limit, offset),
    ).fetchall()


def product_row(conn: sqlite3.Connection, sku: str) -> tuple[str, str, str] | None:
    """(name, data JSON, updated)."""
    return conn.execute(
        "SELECT name, data, updated FROM products WHERE sku = ?", (sku,)
    ).fetchone()


def orders_page(
    conn: sqlite3.Connection, status: str | None, limit: int, offset: int
) -> list[tuple[str, str, str, str, str]]:
    """(order, status, data JSON, created, updated), newest first."""
    if status:
        return conn.execute(
            "SELECT order_id, status, data, created, updated FROM orders WHERE status = ? "
            "ORDER BY updated DESC LIMIT ? OFFSET ?",
            (status, limit, offset),
        ).fetchall()
    return conn.execute(
        "SELECT order_id, status, data, created, updated FROM orders "
        "ORDER BY updated DESC LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def order_row(conn: sqlite3.Connection, order_id: str) -> tuple[str, str, str, str, str] | None:
    return conn.execute(
        "SELECT order_id, status, data, created, updated FROM orders WHERE order_id = ?",
        (order_id,),
    ).fetchone()


def order_log(conn: sqlite3.Connection, order_id: str, limit: int) -> list[dict]:
    """Scans and shipments of one order, oldest first: who scanned what, with which verdict."""
    rows = conn.execute(
        "SELECT id, station, type, ts, hub_ts, json_extract(data, '$.operator'), "
        "json_extract(data, '$.sku'), json_extract(data, '$.code'), "
        "json_extract(data, '$.verdict') FROM events "
        "WHERE json_extract(data, '$.order') = ? AND type IN ('scan', 'shipment') "
        "ORDER BY id LIMIT ?",
        (order_id, limit),
    ).fetchall()
    keys = ("id", "station", "type", "ts", "hub_ts", "operator", "sku", "code", "verdict")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def events_today(conn: sqlite3.Connection, since: str) -> list[tuple[str, int]]:
    """(type, count) of events applied since `since` (an ISO time)."""
    # `+type`: grouping by the bare column tempts SQLite to walk the whole events_type index
    # instead of today's slice of events_hub_ts.
    return conn.execute(
        "SELECT type, count(*) FROM events WHERE hub_ts >= ? GROUP BY +type", (since,)
    ).fetchall()


def scan_errors_since(conn: sqlite3.Connection, since: str) -> int:
    return conn.execute(
        "SELECT count(*) FROM events WHERE hub_ts >= ? AND +type = 'scan' "
        "AND json_extract(data, '$.verdict') != 'ok'",
        (since,),
    ).fetchone()[0]


def alert_count_open(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM alerts WHERE cleared IS NULL").fetchone()[0]


def station_exists(conn: sqlite3.Connection, station: str) -> bool:
    return conn.execute("SELECT 1 FROM stations WHERE station = ?", (station,)).fetchone() is not None


# --- page reads of the supervisors' pages ----------------------------------------------------
def po_receipts(conn: sqlite3.Connection, po: str, limit: int) -> list[dict]:
    """The receipts booked against purchase order `po`, oldest first: where each was put
    away, with its lot, expiry and station."""
    rows = conn.execute(
        "SELECT id, station, hub_ts, json_extract(data, '$.sku'), json_extract(data, '$.qty'), "
        "json_extract(data, '$.location'), json_extract(data, '$.lot'), "
        "json_extract(data, '$.expiry') FROM events "
        "WHERE json_extract(data, '$.po') = ? AND type = 'receipt' ORDER BY id LIMIT ?",
        (po, limit),
    ).fetchall()
    keys = ("id", "station", "hub_ts", "sku", "qty", "location", "lot", "expiry")
    return [dict(zip(keys, row, strict=True)) for row in rows]


# --- the overview: what a supervisor acts on today -------------------------------------------
# Each read is bounded by an index: orders by status, today's slice of events by hub time,
# open purchase orders by status, the held events and undecided failures as they are.
def orders_in_status(conn: sqlite3.Connection, statuses: tuple[str, ...]) -> dict[str, int]:
    """How many orders are in each of `statuses` (0 for none)."""
    marks = ", ".join("?" * len(statuses))
    rows = conn.execute(
        f"SELECT status, count(*) FROM orders WHERE status IN ({marks}) GROUP BY status",
        statuses,
    ).fetchall()
    return {**dict.fromkeys(statuses, 0), **dict(rows)}


def packs_since(conn: sqlite3.Connection, since: str, recent: str) -> list[tuple]:
    """(station, operator, shipments since `since`, of them since `recent`, first hub time)
    for each station and packer that shipped since `since`."""
    return conn.execute(
        "SELECT station, coalesce(json_extract(data, '$.operator'), ''), count(*), "
        "sum(hub_ts >= ?), min(hub_ts) FROM events WHERE hub_ts >= ? AND +type = 'shipment' "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        (recent, since),
    ).fetchall()


def pos_expected_by(conn: sqlite3.Connection, day: str, limit: int) -> list[dict]:
    """Purchase orders still to arrive (open or receiving, not dropship) expected on or
    before `day`, soonest first, with their ordered and received units."""
    rows = conn.execute(
        "SELECT p.po, p.supplier, p.status, p.expected, "
        "(SELECT sum(qty) FROM po_lines l WHERE l.po = p.po), "
        "(SELECT sum(received) FROM po_lines l WHERE l.po = p.po) "
        "FROM purchase_orders p WHERE p.status IN ('open', 'receiving') AND p.dropship = 0 "
        "AND p.expected <= ? ORDER BY p.expected, p.po LIMIT ?",
        (day, limit),
    ).fetchall()
    keys = ("po", "supplier", "status", "expected", "ordered", "received")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def held_summary(conn: sqlite3.Connection) -> tuple[int, str | None, int]:
    """(events held behind a gap, when the oldest of them came, undecided failures)."""
    held, oldest = conn.execute("SELECT count(*), min(received) FROM pending").fetchone()
    failed = conn.execute(
        "SELECT count(*) FROM event_failures WHERE decided IS NULL"
    ).fetchone()[0]
    return held, oldest, failed
