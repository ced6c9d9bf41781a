"""What the accountant's export reads: each movement's change of the stock's value, the
postings of a period and the cost true-ups."""

from hub.store.connection import Connection


def movement_values_add(conn: Connection, rows: list[tuple[int, int]]) -> None:
    """Add to each movement's value: rows of (movement id, micros)."""
    conn.executemany(
        "INSERT INTO movement_values (movement_id, value) VALUES (?, ?) "
        "ON CONFLICT (movement_id) DO UPDATE SET value = movement_values.value + excluded.value",
        rows,
    )


def postings_between(conn: Connection, start: str, end: str, after: int, limit: int) -> list[tuple]:
    """(id, hub_ts, type, sku, location, lot, owner, delta, value) of the movements applied
    from hub time `start` to before `end`, after movement `after`, in id order. `value`:
    the change of our stock's value it made (micros; 0 for consigned stock, None if
    applied before values were kept)."""
    return conn.execute(
        "SELECT m.id, m.hub_ts, m.type, m.sku, m.location, m.lot, m.owner, "
        "m.delta, CASE WHEN v.value IS NOT NULL THEN v.value WHEN m.owner != '' THEN 0 END "
        "FROM movements m LEFT JOIN movement_values v ON v.movement_id = m.id "
        "WHERE m.id > ? AND m.hub_ts >= ? AND m.hub_ts < ? ORDER BY m.id LIMIT ?",
        (after, start, end, limit),
    ).fetchall()


def true_ups_of(conn: Connection, first: int, last: int) -> list[tuple[int, str, int]]:
    """(movement id, kind of the deficit, value) of the cost true-ups booked by movements
    first..last: inbound units settling units issued before any layer covered them."""
    return conn.execute(
        "SELECT movement_id, kind, value FROM cost_flows "
        "WHERE movement_id BETWEEN ? AND ? AND qty = 0 ORDER BY movement_id, id",
        (first, last),
    ).fetchall()


def first_movement_on(conn: Connection, start: str) -> int | None:
    """The first movement of the first event the hub applied at or after hub time `start`
    (events are applied in hub-time order): where a period's postings start."""
    row = conn.execute(
        "SELECT id FROM movements WHERE event_id >= "
        "(SELECT min(id) FROM events WHERE hub_ts >= ?) ORDER BY event_id, id LIMIT 1",
        (start,),
    ).fetchone()
    return row[0] if row else None
