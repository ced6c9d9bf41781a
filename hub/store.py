"""All of the hub's SQL, in one module, so the domain never speaks to SQLite directly.

Functions take an open connection and do one thing. Writes are made inside
`transaction(conn)` by the caller, so that an event, its movements, its balance deltas
and what must be published about them commit together or not at all.
"""

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = (Path(__file__).parent / "schema.sql").read_text()


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, durable commits."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


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
    conn: sqlite3.Connection, sku: str | None = None, limit: int = 100, offset: int = 0
) -> list[tuple[str, int]]:
    """(sku, on hand) per sku, optionally one sku."""
    if sku:
        return conn.execute(
            "SELECT sku, sum(qty) FROM balances WHERE sku = ? GROUP BY sku", (sku,)
        ).fetchall()
    return conn.execute(
        "SELECT sku, sum(qty) FROM balances GROUP BY sku ORDER BY sku LIMIT ? OFFSET ?",
        (limit, offset),
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
def dead_letter(
    conn: sqlite3.Connection, topic: str, payload: bytes, reason: str, now: str
) -> None:
    conn.execute(
        "INSERT INTO dead_letters (topic, payload, reason, received) VALUES (?, ?, ?, ?)",
        (topic, payload, reason[:2000], now),
    )


def dead_letters(conn: sqlite3.Connection, limit: int = 100) -> list[dict]:
    rows = conn.execute(
        "SELECT id, topic, payload, reason, received FROM dead_letters ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        {"id": r[0], "topic": r[1], "payload": bytes(r[2])[:2000].decode("utf-8", "replace"),
         "reason": r[3], "received": r[4]}
        for r in rows
    ]  # fmt: skip


def alert_add(
    conn: sqlite3.Connection,
    kind: str,
    severity: str,
    message: str,
    now: str,
    sku: str | None = None,
    station: str | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO alerts (kind, severity, message, sku, station, ts) VALUES (?, ?, ?, ?, ?, ?)",
        (kind, severity, message, sku, station, now),
    )
    return cur.lastrowid


def alerts_open(conn: sqlite3.Connection, limit: int = 100) -> list[dict]:
    rows = conn.execute(
        "SELECT id, kind, severity, message, sku, station, ts FROM alerts "
        "WHERE cleared IS NULL ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    keys = ("id", "kind", "severity", "message", "sku", "station", "ts")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def outbox_put(conn: sqlite3.Connection, topic: str, payload: bytes, retain: bool) -> None:
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


def meta_get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def meta_set(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


# --- catalog and orders ------------------------------------------------------------------
def product_upsert(conn: sqlite3.Connection, sku: str, name: str, data: bytes, now: str) -> None:
    conn.execute(
        "INSERT INTO products VALUES (?, ?, ?, ?) ON CONFLICT (sku) DO UPDATE SET "
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
    conn.execute(
        "INSERT INTO orders VALUES (?, ?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET "
        "status = excluded.status, data = excluded.data, updated = excluded.updated",
        (order_id, status, data.decode(), now, now),
    )


def order_get(conn: sqlite3.Connection, order_id: str) -> tuple[str, bytes] | None:
    row = conn.execute("SELECT status, data FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return (row[0], row[1].encode()) if row else None
