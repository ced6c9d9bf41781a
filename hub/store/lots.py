"""Lots and their expiry, and where stock lies in first-expired-first-out order
(allocation)."""

import json

from hub.store.connection import Connection, json_values


def lot_seen(conn: Connection, sku: str, lot: str, expiry: str | None, now: str) -> None:
    """A receipt's lot, kept with its expiry (held: a write nobody reads back in the batch
    before the next other statement)."""
    conn.execute_later(
        "INSERT INTO lots (sku, lot, expiry, first_received) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (sku, lot) DO UPDATE SET expiry = coalesce(excluded.expiry, lots.expiry)",
        (sku, lot, expiry, now),
    )


def stock_at(
    conn: Connection, sku: str, location: str, lot: str | None = None
) -> list[tuple[str, str, int, str | None]]:
    """(lot, owner, qty, expiry) at a location, in first-expired-first-out order."""
    return conn.execute(
        "SELECT b.lot, b.owner, b.qty, l.expiry FROM balances b "
        "LEFT JOIN lots l ON l.sku = b.sku AND l.lot = b.lot "
        "WHERE b.sku = ? AND b.location = ? AND (CAST(? AS TEXT) IS NULL OR b.lot = ?) "
        "ORDER BY l.expiry IS NULL, l.expiry, b.lot, b.owner",
        (sku, location, lot, lot),
    ).fetchall()


def fefo_lines(conn: Connection, sku: str) -> list[tuple[str, str, str, int, str | None]]:
    """(location, lot, owner, qty, expiry) with stock, the soonest expiry first."""
    return conn.execute(
        "SELECT b.location, b.lot, b.owner, b.qty, l.expiry FROM balances b "
        "LEFT JOIN lots l ON l.sku = b.sku AND l.lot = b.lot WHERE b.sku = ? AND b.qty > 0 "
        "ORDER BY l.expiry IS NULL, l.expiry, b.location, b.lot",
        (sku,),
    ).fetchall()


def pick_location(conn: Connection, sku: str, lot: str | None = None) -> str | None:
    """Where the first-expiring, then the oldest, stock of `sku` (of `lot`) lies; None if
    no location holds any. Held (quarantine) locations are never picked from."""
    row = conn.execute(
        "SELECT b.location FROM balances b "
        "LEFT JOIN lots l ON l.sku = b.sku AND l.lot = b.lot "
        "WHERE b.sku = ? AND b.qty > 0 AND (CAST(? AS TEXT) IS NULL OR b.lot = ?) "
        "AND b.location NOT IN (SELECT location FROM location_holds) "
        "ORDER BY l.expiry IS NULL, l.expiry, l.first_received IS NULL, l.first_received, "
        "b.location LIMIT 1",
        (sku, lot, lot),
    ).fetchone()
    return row[0] if row else None


def pick_locations_of(conn: Connection, skus: list[str]) -> dict[str, str]:
    """`pick_location` of those of `skus` in stock somewhere, in one statement (each SKU's
    first row in `pick_location`'s order)."""
    rows = conn.execute(
        "SELECT b.sku, b.location FROM balances b "
        "LEFT JOIN lots l ON l.sku = b.sku AND l.lot = b.lot "
        f"WHERE b.sku IN ({json_values(conn)}) AND b.qty > 0 "
        "AND b.location NOT IN (SELECT location FROM location_holds) "
        "ORDER BY b.sku, l.expiry IS NULL, l.expiry, l.first_received IS NULL, "
        "l.first_received, b.location",
        (json.dumps(skus),),
    ).fetchall()
    first: dict[str, str] = {}
    for sku, location in rows:
        first.setdefault(sku, location)
    return first


def lots_expiring(conn: Connection, until: str) -> list[tuple[str, str, str, int]]:
    """(sku, lot, expiry, qty on hand) of lots in stock expiring by `until`, not yet alerted."""
    return conn.execute(
        "SELECT l.sku, l.lot, l.expiry, sum(b.qty) FROM lots l JOIN balances b "
        "ON b.sku = l.sku AND b.lot = l.lot WHERE l.expiry <= ? AND l.expiry_alerted = 0 "
        "GROUP BY l.sku, l.lot HAVING sum(b.qty) > 0 ORDER BY l.expiry, l.sku, l.lot",
        (until,),
    ).fetchall()


def lot_mark_alerted(conn: Connection, sku: str, lot: str) -> None:
    conn.execute("UPDATE lots SET expiry_alerted = 1 WHERE sku = ? AND lot = ?", (sku, lot))
