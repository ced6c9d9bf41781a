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


def login_failure_add(conn: sqlite3.Connection, kind: str, key: str, ts: float) -> None:
    conn.execute("INSERT INTO login_failures (kind, key, ts) VALUES (?, ?, ?)", (kind, key, ts))


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
        "  UNION SELECT sku FROM products WHERE name LIKE '%' || ? || '%' ESCAPE '\\'"
        "  UNION SELECT sku FROM gtins WHERE gtin = ?"
        "  UNION SELECT DISTINCT sku FROM balances WHERE sku >= ? AND sku < ? || char(1114111)"
        ") SELECT h.sku, p.name, coalesce((SELECT sum(qty) FROM balances b WHERE b.sku = h.sku), 0)"
        " FROM hits h LEFT JOIN products p ON p.sku = h.sku ORDER BY h.sku LIMIT ? OFFSET ?",
        (text, text, like, text.zfill(14) if text.isdigit() else "", text, text, limit, offset),
    ).fetchall()


def stock_page(
    conn: sqlite3.Connection, limit: int, offset: int, negative_only: bool = False
) -> list[tuple[str, str | None, int]]:
    """(sku, name, on hand) of the catalog in sku order; `negative_only`: the skus (known or
    not) with a line below zero."""
    if negative_only:
        return conn.execute(
            "SELECT n.sku, p.name, (SELECT sum(qty) FROM balances b WHERE b.sku = n.sku) "
            "FROM (SELECT sku FROM balances WHERE qty < 0 GROUP BY sku ORDER BY sku "
            "LIMIT ? OFFSET ?) n LEFT JOIN products p ON p.sku = n.sku ORDER BY n.sku",
            (limit, offset),
        ).fetchall()
    return conn.execute(
        "SELECT p.sku, p.name, coalesce((SELECT sum(qty) FROM balances b WHERE b.sku = p.sku), 0)"
        " FROM products p ORDER BY p.sku LIMIT ? OFFSET ?",
        (limit, offset),
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


def on_hand(conn: sqlite3.Connection, sku: str) -> int:
    return conn.execute("SELECT coalesce(sum(qty), 0) FROM balances WHERE sku = ?", (sku,)).fetchone()[0]


def sku_movements(
    conn: sqlite3.Connection, sku: str, limit: int, before: int | None = None
) -> list[dict]:
    """The sku's latest movements, newest first (uses the (sku, id) index)."""
    rows = conn.execute(
        "SELECT m.id, m.type, m.location, m.lot, m.owner, m.delta, m.ts, m.hub_ts, e.station, "
        "json_extract(e.data, '$.operator') FROM movements m JOIN events e ON e.id = m.event_id "
        "WHERE m.sku = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?",
        (sku, before if before is not None else 2**63 - 1, limit),
    ).fetchall()
    keys = ("id", "type", "location", "lot", "owner", "delta", "ts", "hub_ts", "station",
            "operator")  # fmt: skip
    return [dict(zip(keys, row, strict=True)) for row in rows]


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
