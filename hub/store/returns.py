"""Customer returns: what was shipped on an order and what came back, return
authorisations (RMAs), and the quarantine holds that keep returned stock from orders."""

import json
from dataclasses import dataclass

from hub.store.connection import Connection, json_values


@dataclass(frozen=True)
class ShippedUnits:
    movement_id: int
    sku: str
    lot: str
    location: str
    qty: int


def shipped_on_order(conn: Connection, order_id: str) -> list[ShippedUnits]:
    """The shipment movements of an order (not the kit assemblies booked with them)."""
    rows = conn.execute(
        "SELECT m.id, m.sku, m.lot, m.location, -m.delta FROM events e "
        "JOIN movements m ON m.event_id = e.id AND m.type = 'shipment' "
        "WHERE e.type = 'shipment' AND json_extract(e.data, '$.order') = ? ORDER BY m.id",
        (order_id,),
    ).fetchall()
    return [ShippedUnits(*row) for row in rows]


def shipments_of_order(conn: Connection, order_id: str) -> list[str]:
    """The data (JSON) of the order's shipment events, oldest first."""
    # The IN (...) matches the partial index events_order_log, so this is a search.
    rows = conn.execute(
        "SELECT data FROM events WHERE type IN ('scan', 'shipment') "
        "AND json_extract(data, '$.order') = ? AND type = 'shipment' ORDER BY id",
        (order_id,),
    )
    return [r[0] for r in rows]


def return_line_add(
    conn: Connection, event_id: int, day: str, order_id: str, rma: str, sku: str,
    lot: str, qty: int, condition: str, reason: str, location: str, serials: str, value: int,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO return_lines (event_id, day, order_id, rma, sku, lot, qty, condition, "
        "reason, location, serials, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (event_id, day, order_id, rma, sku, lot, qty, condition, reason, location, serials,
         value),
    )  # fmt: skip


def returned_on_order(conn: Connection, order_id: str) -> list[tuple[str, str, str, int, str]]:
    """(rma, sku, lot, qty, serials JSON) of what came back against an order so far."""
    return conn.execute(
        "SELECT rma, sku, lot, qty, serials FROM return_lines WHERE order_id = ? ORDER BY id",
        (order_id,),
    ).fetchall()


def return_lines_of_event(conn: Connection, event_id: int) -> list[tuple]:
    return conn.execute(
        "SELECT sku, lot, qty, condition, reason, location, serials, value FROM return_lines "
        "WHERE event_id = ? ORDER BY id",
        (event_id,),
    ).fetchall()


def return_rate_rows(conn: Connection, since: str, until: str) -> list[tuple]:
    """(sku, reason, condition, units returned, value) in the period."""
    return conn.execute(
        "SELECT sku, reason, condition, sum(qty), sum(value) FROM return_lines "
        "WHERE day BETWEEN ? AND ? GROUP BY sku, reason, condition ORDER BY sku, reason, "
        "condition",
        (since, until),
    ).fetchall()


def units_out_by_sku(conn: Connection, since: str, until: str) -> dict[str, int]:
    return dict(conn.execute(
        "SELECT sku, sum(out_qty) FROM daily_sku WHERE day BETWEEN ? AND ? GROUP BY sku",
        (since, until),
    ))  # fmt: skip


def rma_add(conn: Connection, rma: str, order_id: str, lines: str, note: str,
            now: str) -> None:  # fmt: skip
    conn.execute("INSERT INTO rmas VALUES (?, ?, ?, ?, ?)", (rma, order_id, lines, note, now))


def rma_get(conn: Connection, rma: str) -> tuple[str, str, str, str] | None:
    """(order, lines JSON, note, created)."""
    return conn.execute(
        "SELECT order_id, lines, note, created FROM rmas WHERE rma = ?", (rma,)
    ).fetchone()


def rmas_of_order(conn: Connection, order_id: str) -> list[str]:
    rows = conn.execute("SELECT rma FROM rmas WHERE order_id = ? ORDER BY rma", (order_id,))
    return [r[0] for r in rows]


def order_ids_closed_between(conn: Connection, since: str, until: str) -> list[str]:
    """Orders closed (shipped, short or cancelled) at or after `since` and before `until`."""
    rows = conn.execute(
        "SELECT order_id FROM orders WHERE closed >= ? AND closed < ? ORDER BY closed",
        (since, until),
    )
    return [r[0] for r in rows]


def location_hold(conn: Connection, location: str, reason: str, now: str) -> list[str]:
    """Hold a location; when it was not held yet, returns the skus on hand there (their
    availability and pick location changed)."""
    held = conn.execute(
        "INSERT INTO location_holds VALUES (?, ?, ?) ON CONFLICT (location) DO NOTHING "
        "RETURNING location",
        (location, reason, now),
    ).fetchall()
    return _skus_at(conn, location) if held else []


def location_release(conn: Connection, location: str) -> list[str]:
    """Lift a hold; returns the skus on hand there (their availability changed)."""
    found = conn.execute("DELETE FROM location_holds WHERE location = ?", (location,))
    return _skus_at(conn, location) if found.rowcount else []


def _skus_at(conn: Connection, location: str) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT sku FROM balances WHERE location = ? AND qty != 0 ORDER BY sku",
        (location,),
    )
    return [r[0] for r in rows]


def location_held(conn: Connection, location: str) -> bool:
    query = "SELECT 1 FROM location_holds WHERE location = ?"
    return conn.execute(query, (location,)).fetchone() is not None


def quarantined(conn: Connection, sku: str) -> int:
    """Units of `sku` on hand in held (quarantine) locations: not available to orders."""
    return conn.execute(
        "SELECT coalesce(sum(b.qty), 0) FROM balances b JOIN location_holds h "
        "ON h.location = b.location WHERE b.sku = ?",
        (sku,),
    ).fetchone()[0]


def quarantined_of(conn: Connection, skus: list[str]) -> dict[str, int]:
    """`quarantined` of those of `skus` with stock in a held location, in one statement."""
    return dict(conn.execute(
        "SELECT b.sku, sum(b.qty) FROM balances b JOIN location_holds h "
        f"ON h.location = b.location WHERE b.sku IN ({json_values(conn)}) GROUP BY b.sku",
        (json.dumps(skus),),
    ))  # fmt: skip


def quarantined_by_sku(conn: Connection) -> dict[str, int]:
    """`quarantined` of every sku with stock in a held location."""
    return dict(conn.execute(
        "SELECT b.sku, sum(b.qty) FROM balances b JOIN location_holds h "
        "ON h.location = b.location GROUP BY b.sku"
    ))  # fmt: skip


def quarantine_lines(conn: Connection, limit: int, offset: int) -> list[tuple]:
    """(location, sku, lot, owner, qty) held in quarantine."""
    return conn.execute(
        "SELECT b.location, b.sku, b.lot, b.owner, b.qty FROM balances b "
        "JOIN location_holds h ON h.location = b.location WHERE b.qty != 0 "
        "ORDER BY b.location, b.sku, b.lot LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()
