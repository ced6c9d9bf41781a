"""Sale prices booked per shipment: revenue, cost of goods sold and margin."""

import sqlite3


def sale_add(
    conn: sqlite3.Connection, event_id: int, order_id: str, sku: str, qty: int, revenue: int,
    day: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO sale_lines (event_id, order_id, sku, qty, revenue, day) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (event_id, order_id, sku, qty, revenue, day),
    )
    conn.execute(
        "INSERT INTO daily_sales (day, sku, qty, revenue) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (sku, day) DO UPDATE SET qty = daily_sales.qty + excluded.qty, "
        "revenue = daily_sales.revenue + excluded.revenue",
        (day, sku, qty, revenue),
    )


def sales_of_event(conn: sqlite3.Connection, event_id: int) -> list[tuple[str, str, int, int]]:
    """(order, sku, qty, revenue) a shipment event booked."""
    return conn.execute(
        "SELECT order_id, sku, qty, revenue FROM sale_lines WHERE event_id = ? ORDER BY id",
        (event_id,),
    ).fetchall()


def margin_by_day(conn: sqlite3.Connection, since: str, until: str) -> list[tuple]:
    """(day, revenue, cogs) per day with either, over [since, until]."""
    return conn.execute(
        "SELECT day, sum(revenue), sum(cogs) FROM ("
        "  SELECT day, revenue, 0 AS cogs FROM daily_sales WHERE day BETWEEN ? AND ?"
        "  UNION ALL SELECT day, 0, cogs FROM daily_totals WHERE day BETWEEN ? AND ?"
        ") x GROUP BY day HAVING sum(revenue) != 0 OR sum(cogs) != 0 ORDER BY day",
        (since, until, since, until),
    ).fetchall()


def margin_by_sku(conn: sqlite3.Connection, since: str, until: str) -> list[tuple]:
    """(sku, ABC class or None, revenue, cogs) per sku with either, over [since, until]."""
    return conn.execute(
        "SELECT x.sku, max(a.class), sum(x.revenue), sum(x.cogs) FROM ("
        "  SELECT sku, revenue, 0 AS cogs FROM daily_sales WHERE day BETWEEN ? AND ?"
        "  UNION ALL SELECT sku, 0, cogs FROM daily_sku WHERE day BETWEEN ? AND ?"
        ") x LEFT JOIN abc_classes a ON a.sku = x.sku GROUP BY x.sku "
        "HAVING sum(x.revenue) != 0 OR sum(x.cogs) != 0 ORDER BY x.sku",
        (since, until, since, until),
    ).fetchall()
