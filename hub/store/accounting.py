"""What the accountant's export reads: each movement's change of the stock's value, the
postings of a period and the cost true-ups."""

import sqlite3


def movement_value_add(conn: sqlite3.Connection, movement_id: int, value: int) -> None:
    conn.execute(
        "INSERT INTO movement_values VALUES (?, ?) "
        "ON CONFLICT (movement_id) DO UPDATE SET value = movement_values.value + excluded.value",
        (movement_id, value),
    )


def postings_between(
    conn: sqlite3.Connection, since: str, until: str, after: int, limit: int
) -> list[tuple]:
    """(id, day, type, sku, location, lot, owner, delta, value) of the movements applied on
    days [since, until], after movement `after`, in id order. `value`: the change of our
    stock's value it made (micros; 0 for consigned stock, None if applied before values
    were kept)."""
    return conn.execute(
        "SELECT m.id, substr(m.hub_ts, 1, 10), m.type, m.sku, m.location, m.lot, m.owner, "
        "m.delta, CASE WHEN v.value IS NOT NULL THEN v.value WHEN m.owner != '' THEN 0 END "
        "FROM movements m LEFT JOIN movement_values v ON v.movement_id = m.id "
        "WHERE m.id > ? AND m.hub_ts >= ? AND m.hub_ts < ? ORDER BY m.id LIMIT ?",
        (after, since, _next_day(until), limit),
    ).fetchall()


def true_ups_of(conn: sqlite3.Connection, first: int, last: int) -> list[tuple[int, str, int]]:
    """(movement id, kind of the deficit, value) of the cost true-ups booked by movements
    first..last: inbound units settling units issued before any layer covered them."""
    return conn.execute(
        "SELECT movement_id, kind, value FROM cost_flows "
        "WHERE movement_id BETWEEN ? AND ? AND qty = 0 ORDER BY movement_id, id",
        (first, last),
    ).fetchall()


def first_movement_on(conn: sqlite3.Connection, day: str) -> int | None:
    """The first movement of the first event the hub applied on or after `day` (events
    are applied in hub-time order): where a period's postings start."""
    row = conn.execute(
        "SELECT id FROM movements WHERE event_id >= "
        "(SELECT min(id) FROM events WHERE hub_ts >= ?) ORDER BY event_id, id LIMIT 1",
        (day,),
    ).fetchone()
    return row[0] if row else None


def _next_day(day: str) -> str:
    """The ISO time just after `day` ends (hub_ts sorts as text)."""
    return day + "T99"
