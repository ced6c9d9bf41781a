"""Alerts for a supervisor: raised once per open problem, cleared when it is solved."""

import json
from collections.abc import Iterable

from hub.store.conditions import Where, page
from hub.store.connection import Connection, dialect, written_of
from hub.store.ledger import next_id
from hub.store.written import unread


def alert_add(
    conn: Connection,
    kind: str,
    severity: str,
    message: str,
    now: str,
    sku: str | None = None,
    station: str | None = None,
    dedupe: str | None = None,
) -> int | None:
    """The new alert's id, or None when an open alert with the same `dedupe` key exists.
    Numbered by the writing transaction (store.ledger.next_id); one whose key it knows open
    is not tried, and one it knows is new waits for nothing (store.written)."""
    written = written_of(conn, "alerts are raised")
    if dedupe is not None and dedupe in written.open_alerts:
        return None
    alert_id = next_id(conn, "alerts")
    values = (alert_id, kind, severity, message, sku, station, now, dedupe)
    if dedupe is None or dedupe in written.closed_alerts:
        conn.execute_later(f"{_INSERT} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
    elif conn.execute(f"{_INSERT} VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING "
                      "RETURNING id", values).fetchone() is None:  # fmt: skip
        written.ids["alerts"] -= 1  # not used: the next alert takes it
        alert_id = None
    if dedupe is not None:
        written.open_alerts.add(dedupe)
        written.closed_alerts.discard(dedupe)
    return alert_id


_INSERT = "INSERT INTO alerts (id, kind, severity, message, sku, station, ts, dedupe)"


def alert_clear(conn: Connection, dedupe: str, now: str) -> list[dict]:
    """Clear the open alert with key `dedupe`; the cleared ones (none or one), to announce.
    A key the writing transaction knows is not open is not looked for (store.written)."""
    written = written_of(conn, "alerts are cleared")
    if dedupe in written.closed_alerts:
        return []
    written.open_alerts.discard(dedupe)
    written.closed_alerts.add(dedupe)
    rows = conn.execute(
        "UPDATE alerts SET cleared = ? WHERE dedupe = ? AND cleared IS NULL "
        "RETURNING id, kind, severity, message, sku, station",
        (now, dedupe),
    ).fetchall()
    keys = ("id", "kind", "severity", "message", "sku", "station")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def alerts_read_ahead(conn: Connection, dedupes: Iterable[str]) -> None:
    """Learn which of `dedupes` are open, for those this writing transaction does not know
    yet, in one statement: raising or clearing one then waits for nothing."""
    written = written_of(conn, "alerts are read ahead")
    new = unread(dedupes, written.open_alerts, written.closed_alerts)
    if not new:
        return
    rows = conn.execute(f"SELECT dedupe FROM {_open_with_keys(conn)}",
                        (json.dumps(new),)).fetchall()  # fmt: skip
    found = {row[0] for row in rows}
    written.open_alerts.update(found)
    written.closed_alerts.update(set(new) - found)


def _open_with_keys(conn: Connection) -> str:
    """The open `alerts` with one of the dedupe keys of a JSON array (the one parameter),
    read key by key through `alerts_dedupe`, as many as there are keys. Else both backends'
    planners would rather read every open alert (`alerts_open`) and keep those whose key is
    named, which the alerts kept open (a pick-error spike's, an unknown SKU's) make longer
    every batch: SQLite's is told the index; PostgreSQL's looks up each key in a lateral
    subquery of at most one row (a plain join became a hash join reading every open
    alert). `dedupe = ANY` of the keys' array, used until 2026-12-07, did seek each key on
    a big table, but on a small one it compared every open alert with every key: 13 ms a
    batch of bench 7's, a seventh of the server's time for it, where this takes 2-3. (Not
    before the table's first ANALYZE: without statistics either form may read the open
    alerts once per key; autovacuum analyzes it within a minute of its first hundreds.)"""
    return dialect(
        conn,
        sqlite="alerts INDEXED BY alerts_dedupe WHERE dedupe IN (SELECT value FROM json_each(?)) "
        "AND cleared IS NULL",
        postgresql="jsonb_array_elements_text(CAST(? AS jsonb)) AS wanted(key) CROSS JOIN "
        "LATERAL (SELECT * FROM alerts WHERE dedupe = wanted.key AND cleared IS NULL "
        "LIMIT 1) AS alerts",
    )


def alerts_changed(conn: Connection, since: str | None, until: str | None,
                   limit: int) -> list[dict]:  # fmt: skip
    """The alerts raised (and still open) or cleared between `since` and `until` (ISO
    times, None: no bound), oldest change first, at most `limit` of each: what a site
    republishes when the centre asks it to resend (hub.site_restate)."""
    found = []
    for changed in ("ts", "cleared"):
        where = Where().add("cleared IS NULL" if changed == "ts" else "cleared IS NOT NULL")
        where.between(changed, since, until)
        rows = conn.execute(
            "SELECT id, kind, severity, message, sku, station, ts, cleared FROM alerts "
            f"{where.sql} ORDER BY {changed}, id LIMIT ?",
            (*where.params, limit),
        ).fetchall()
        found.extend(rows)
    keys = ("id", "kind", "severity", "message", "sku", "station", "ts", "cleared")
    return [dict(zip(keys, row, strict=True)) for row in found]


def alert_clear_id(conn: Connection, alert_id: int, now: str) -> bool:
    # Whichever key it had is open no longer (the ones known not open stay so).
    written_of(conn, "alerts are cleared").open_alerts.clear()
    cur = conn.execute(
        "UPDATE alerts SET cleared = ? WHERE id = ? AND cleared IS NULL", (now, alert_id)
    )
    return cur.rowcount == 1


def alerts_page(
    conn: Connection, open_only: bool, kind: str | None, limit: int, offset: int
) -> list[dict]:
    where = Where().equal_word("kind", kind)
    if open_only:
        where.add("cleared IS NULL")
    # The page's ids first, then their rows (as `count_list`, for a rare kind).
    rows = conn.execute(
        "SELECT id, kind, severity, message, sku, station, ts, cleared FROM alerts "
        f"WHERE id IN (SELECT id FROM alerts {where.sql} ORDER BY id DESC "
        f"{page(limit, offset)}) ORDER BY id DESC",
        where.params,
    ).fetchall()
    keys = ("id", "kind", "severity", "message", "sku", "station", "ts", "cleared")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def alerts_open(conn: Connection, limit: int = 100) -> list[dict]:
    rows = conn.execute(
        "SELECT id, kind, severity, message, sku, station, ts, dedupe FROM alerts "
        "WHERE cleared IS NULL ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    keys = ("id", "kind", "severity", "message", "sku", "station", "ts", "dedupe")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def alert_count_open(conn: Connection) -> int:
    return conn.execute("SELECT count(*) FROM alerts WHERE cleared IS NULL").fetchone()[0]


def alert_open(conn: Connection, dedupe: str) -> dict | None:
    """The open alert `dedupe` (id, kind, severity, sku, station), or None."""
    row = conn.execute(
        "SELECT id, kind, severity, sku, station FROM alerts WHERE dedupe = ? AND cleared IS NULL",
        (dedupe,),
    ).fetchone()
    keys = ("id", "kind", "severity", "sku", "station")
    return None if row is None else dict(zip(keys, row, strict=True))


def alerts_open_of(conn: Connection, dedupes: list[str]) -> dict[str, dict]:
    """`alert_open` of those of `dedupes` that are open, in one statement."""
    rows = conn.execute(
        f"SELECT dedupe, id, kind, severity, sku, station FROM {_open_with_keys(conn)}",
        (json.dumps(dedupes),),
    ).fetchall()
    keys = ("id", "kind", "severity", "sku", "station")
    return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in rows}


def alerts_open_keys(conn: Connection, kind: str) -> list[str]:
    """The dedupe keys of the open alerts of `kind`."""
    rows = conn.execute(
        "SELECT dedupe FROM alerts WHERE cleared IS NULL AND kind = ? AND dedupe IS NOT NULL",
        (kind,),
    ).fetchall()
    return [row[0] for row in rows]


def alert_messages_set(conn: Connection, messages: dict[str, str]) -> None:
    """Rewrite the messages of open alerts (their figures changed): dedupe -> message."""
    conn.executemany(
        "UPDATE alerts SET message = ? WHERE dedupe = ? AND cleared IS NULL",
        [(message, dedupe) for dedupe, message in messages.items()],
    )
