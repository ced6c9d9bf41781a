"""The hub's own small facts: key-value settings, named counters, its journal epoch."""

from hub.store.connection import Connection


def meta_get(conn: Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def meta_set(conn: Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def counter_next(conn: Connection, name: str) -> int:
    """The next number of a named sequence (purchase orders, count tasks, ...)."""
    row = conn.execute(
        "INSERT INTO meta VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET "
        "value = CAST(meta.value AS INTEGER) + 1 RETURNING value",
        (f"counter:{name}",),
    ).fetchone()
    return int(row[0])


def hub_epoch(conn: Connection, new_epoch: str) -> str:
    """The hub's own journal epoch (created once)."""
    conn.execute(
        "INSERT INTO meta VALUES ('hub_epoch', ?) ON CONFLICT DO NOTHING", (new_epoch,)
    )
    return meta_get(conn, "hub_epoch")
