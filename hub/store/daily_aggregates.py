"""Per-day totals kept as movements apply (units, COGS, value, scans), and each sku's
latest activity and low-stock flag, so reports never sum the whole ledger."""

import json

from hub.store.connection import Connection, json_values


def daily_sku_add(conn: Connection, rows: list[tuple[str, str, int, int, int]]) -> None:
    """Add to each (day, sku)'s totals: rows of (day, sku, out_qty, in_qty, cogs)."""
    conn.executemany(
        "INSERT INTO daily_sku (day, sku, out_qty, in_qty, cogs) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (sku, day) DO UPDATE SET out_qty = daily_sku.out_qty + excluded.out_qty, "
        "in_qty = daily_sku.in_qty + excluded.in_qty, cogs = daily_sku.cogs + excluded.cogs",
        rows,
    )


_TOTALS = ("value_delta", "cogs", "units_ordered", "units_shipped", "orders_closed",
           "order_hours", "counts", "counts_exact", "po_lines", "po_lines_exact")  # fmt: skip


def daily_totals_add(conn: Connection, day: str, **amounts: float) -> None:
    names = [n for n in amounts if n in _TOTALS]
    if len(names) != len(amounts):
        raise ValueError(f"unknown daily totals: {set(amounts) - set(names)}")
    columns = ", ".join(names)
    marks = ", ".join("?" for _ in names)
    updates = ", ".join(f"{n} = daily_totals.{n} + excluded.{n}" for n in names)
    conn.execute(
        f"INSERT INTO daily_totals (day, {columns}) VALUES (?, {marks}) "
        f"ON CONFLICT (day) DO UPDATE SET {updates}",
        (day, *(amounts[n] for n in names)),
    )


def daily_totals(conn: Connection, since: str, until: str) -> list[dict]:
    rows = conn.execute(
        f"SELECT day, {', '.join(_TOTALS)} FROM daily_totals WHERE day BETWEEN ? AND ? "
        "ORDER BY day",
        (since, until),
    ).fetchall()
    return [dict(zip(("day", *_TOTALS), row, strict=True)) for row in rows]


def value_total(conn: Connection) -> int:
    """Our stock's FIFO value now: the sum of the daily changes (a few hundred rows)."""
    return conn.execute("SELECT coalesce(sum(value_delta), 0) FROM daily_totals").fetchone()[0]


def value_after(conn: Connection, day: str) -> int:
    """The change of the stock's value on the days after `day` (micros)."""
    query = "SELECT coalesce(sum(value_delta), 0) FROM daily_totals WHERE day > ?"
    return conn.execute(query, (day,)).fetchone()[0]


def demand_days(conn: Connection, sku: str, since: str, until: str) -> dict[str, int]:
    """day -> units shipped, for days with any demand in [since, until]."""
    rows = conn.execute(
        "SELECT day, out_qty FROM daily_sku WHERE sku = ? AND day BETWEEN ? AND ?",
        (sku, since, until),
    ).fetchall()
    return dict(rows)


def consumption_values(conn: Connection, since: str) -> list[tuple[str, int]]:
    """(sku, COGS micros since `since`) for every product, the largest first."""
    return conn.execute(
        "SELECT p.sku, coalesce(d.v, 0) FROM products p LEFT JOIN ("
        "  SELECT sku, sum(cogs) AS v FROM daily_sku WHERE day >= ? GROUP BY sku"
        ") d ON d.sku = p.sku ORDER BY coalesce(d.v, 0) DESC, p.sku",
        (since,),
    ).fetchall()


def activity_out(conn: Connection, sku: str, day: str) -> None:
    conn.execute(
        "INSERT INTO sku_activity (sku, last_out) VALUES (?, ?) ON CONFLICT (sku) "
        "DO UPDATE SET last_out = greatest(sku_activity.last_out, excluded.last_out)",
        (sku, day),
    )


def activity_count(conn: Connection, sku: str, day: str) -> None:
    conn.execute(
        "INSERT INTO sku_activity (sku, last_count) VALUES (?, ?) ON CONFLICT (sku) "
        "DO UPDATE SET last_count = greatest(sku_activity.last_count, excluded.last_count)",
        (sku, day),
    )


def activity_flags(conn: Connection, skus: list[str]) -> dict[str, tuple[bool, str | None]]:
    """sku -> (low-stock flag, pick location) of those of `skus` that have a row."""
    if not skus:
        return {}
    rows = conn.execute(
        f"SELECT sku, low, pick_location FROM sku_activity WHERE sku IN ({json_values(conn)})",
        (json.dumps(skus),),
    ).fetchall()
    return {sku: (bool(low), location) for sku, low, location in rows}


def activity_set(conn: Connection, sku: str, low: bool, pick_location: str | None) -> None:
    """Store the sku's low-stock flag and where it is picked from now."""
    conn.execute_later(
        "INSERT INTO sku_activity (sku, low, pick_location) VALUES (?, ?, ?) ON CONFLICT (sku) "
        "DO UPDATE SET low = excluded.low, pick_location = excluded.pick_location",
        (sku, int(low), pick_location),
    )


def low_stock_page(
    conn: Connection, after: str, limit: int
) -> list[tuple[str, str | None, int, int]]:
    """(sku, name, on hand, quarantined) of the skus flagged low, by sku after `after`."""
    return conn.execute(
        "SELECT a.sku, p.name, (SELECT coalesce(sum(qty), 0) FROM balances b WHERE b.sku = a.sku), "
        "(SELECT coalesce(sum(q.qty), 0) FROM balances q JOIN location_holds h "
        "ON h.location = q.location WHERE q.sku = a.sku) "
        "FROM sku_activity a LEFT JOIN products p ON p.sku = a.sku "
        "WHERE a.low = 1 AND a.sku > ? ORDER BY a.sku LIMIT ?",
        (after, limit),
    ).fetchall()


def scan_day_totals(conn: Connection, day: str, station: str) -> tuple[int, int]:
    """(scans, errors) of `station` on `day` so far, every operator and mode."""
    return conn.execute(
        "SELECT coalesce(sum(scans), 0), coalesce(sum(errors), 0) FROM scan_stats "
        "WHERE day = ? AND station = ?",
        (day, station),
    ).fetchone()


def scan_day_totals_of(conn: Connection, day: str,
                       stations: list[str]) -> dict[str, tuple[int, int]]:  # fmt: skip
    """`scan_day_totals` of those of `stations` with scans on `day`, in one statement."""
    rows = conn.execute(
        "SELECT station, sum(scans), sum(errors) FROM scan_stats "
        f"WHERE day = ? AND station IN ({json_values(conn)}) GROUP BY station",
        (day, json.dumps(stations)),
    ).fetchall()
    return {station: (scans, errors) for station, scans, errors in rows}


def scan_stats_add(conn: Connection, rows: list[tuple[str, str, str, str, int, int]]) -> None:
    """Count scans: rows of (day, station, operator, mode, scans, errors), one statement
    for them all (a batch's, hub.tallies)."""
    conn.executemany(
        "INSERT INTO scan_stats (day, station, operator, mode, scans, errors) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (day, station, operator, mode) "
        "DO UPDATE SET scans = scan_stats.scans + excluded.scans, "
        "errors = scan_stats.errors + excluded.errors",
        rows,
    )


def scan_totals(conn: Connection, since: str, until: str, by: str) -> list[tuple[str, int, int]]:
    """(station or operator, scans, errors) over [since, until]."""
    column = {"station": "station", "operator": "operator"}[by]
    return conn.execute(
        f"SELECT {column}, sum(scans), sum(errors) FROM scan_stats WHERE day BETWEEN ? AND ? "
        f"GROUP BY {column} ORDER BY {column}",
        (since, until),
    ).fetchall()
