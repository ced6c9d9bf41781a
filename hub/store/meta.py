"""The hub's own small facts: key-value settings, named counters, its journal epoch."""

import sqlite3


def meta_get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def meta_set(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def counter_next(conn: sqlite3.Connection, name: str) -> int:
    """The next number of a named sequence (purchase orders, count tasks, ...)."""
    row = conn.execute(
        "INSERT INTO meta VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET "
        "value = CAST(meta.value AS INTEGER) + 1 RETURNING value",
        (f"counter:{name}",),
    ).fetchone()
    return int(row[0])


def hub_epoch(conn: sqlite3.Connection, new_epoch: str) -> str:
    """The hub's own journal epoch (created once)."""
    conn.execute(
        "INSERT INTO meta VALUES ('hub_epoch', ?) ON CONFLICT DO NOTHING", (new_epoch,)
    )
    return meta_get(conn, "hub_epoch")
