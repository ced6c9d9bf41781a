"""Sale prices booked per shipment: revenue, cost of goods sold and margin."""

from hub.store.conditions import day
from hub.store.connection import Connection, dialect


def sale_add(
    conn: Connection, event_id: int, order_id: str, sku: str, qty: int, revenue: int,
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


def sales_of_event(conn: Connection, event_id: int) -> list[tuple[str, str, int, int]]:
    """(order, sku, qty, revenue) a shipment event booked."""
    return conn.execute(
        "SELECT order_id, sku, qty, revenue FROM sale_lines WHERE event_id = ? ORDER BY id",
        (event_id,),
    ).fetchall()


def margin_by_day(conn: Connection, since: str, until: str) -> list[tuple]:
    """(day, revenue, cogs, dropship cost) per day with any, over [since, until]; revenue
    includes dropship sales'."""
    return conn.execute(
        "SELECT day, sum(revenue), sum(cogs), sum(dropship) FROM ("
        "  SELECT day, revenue, 0 AS cogs, 0 AS dropship FROM daily_sales"
        "  WHERE day BETWEEN ? AND ?"
        "  UNION ALL SELECT day, 0, cogs, 0 FROM daily_totals WHERE day BETWEEN ? AND ?"
        "  UNION ALL SELECT day, revenue, 0, coalesce(cost, 0) FROM dropship_sales"
        "  WHERE day BETWEEN ? AND ?"
        ") x GROUP BY day HAVING sum(revenue) != 0 OR sum(cogs) != 0 OR sum(dropship) != 0 "
        "ORDER BY day",
        (since, until, since, until, since, until),
    ).fetchall()


# Each sku's revenue, COGS and dropship cost rows of a period, one branch per table: a
# kit built at the bench carries its parts' cost (+ kit, - part; kit_sale_costs). Keyed:
# the table's key is (sku, day), which a page of skus reads in order.
_BRANCHES = (
    ("sku", "revenue, 0 AS cogs, 0 AS dropship", "daily_sales", "revenue != 0", True),
    ("sku", "0, cogs, 0", "daily_sku", "cogs != 0", True),
    ("kit", "0, cogs, 0", "kit_sale_costs", "cogs != 0", False),
    ("part", "0, -cogs, 0", "kit_sale_costs", "cogs != 0", False),
    ("sku", "revenue, 0, coalesce(cost, 0)", "dropship_sales", "revenue != 0 OR cost != 0",
     False),
)


def _period(conn: Connection, since: str, until: str, keyed: bool) -> str:
    """`day BETWEEN since AND until`, the days written out (conditions.day). For a page of
    skus in a keyed table SQLite is told `+day`: else it reads the period's every row
    through the days' index (PostgreSQL, planning with the days, uses the key)."""
    column = dialect(conn, sqlite="+day", postgresql="day") if keyed else "day"
    return f"{column} BETWEEN {day(since)} AND {day(until)}"


def _figures(conn: Connection, since: str, until: str, skus: str) -> str:
    """The union of every branch's rows (sku, revenue, cogs, dropship) in [since, until],
    each branch's sku column limited by `skus` (a condition on `{sku}`, or '': the whole
    period, through the days' indexes)."""
    return " UNION ALL ".join(
        f"SELECT {column} AS sku, {figures} FROM {table} "
        f"WHERE {_period(conn, since, until, keyed and bool(skus))}"
        + (f" AND {skus.format(sku=column)}" if skus else "")
        for column, figures, table, _any, keyed in _BRANCHES
    )


def margin_skus(conn: Connection, since: str, until: str, after: str, limit: int) -> list[str]:
    """The first `limit` skus after `after`, in sku order, with a sale, a COGS or a dropship
    cost in [since, until]: the keys of a page of margin_by_sku. Each keyed branch reads
    its (sku, day) key in order and stops at `limit` skus: a page does not aggregate the
    period's every row."""
    n = int(limit)
    branches = " UNION ".join(
        f"SELECT * FROM (SELECT DISTINCT {column} AS sku FROM {table} WHERE {column} > ? "
        f"AND {_period(conn, since, until, keyed)} AND ({any_}) ORDER BY {column} "
        f"LIMIT {n}) b{i}"
        for i, (column, _values, table, any_, keyed) in enumerate(_BRANCHES)
    )
    rows = conn.execute(f"SELECT sku FROM ({branches}) k ORDER BY sku LIMIT {n}",
                        (after,) * len(_BRANCHES))  # fmt: skip
    return [sku for (sku,) in rows]


def margin_by_sku(
    conn: Connection, since: str, until: str, after: str, last: str
) -> list[tuple]:
    """(sku, ABC class or None, revenue, cogs, dropship cost) per sku in (after, last] with
    any, over [since, until], by sku; the cost of parts of kits built at the bench is the
    kit's, not the part's; revenue includes dropship sales'. The class is looked up per
    sku listed (not a join, which a plan may make by reading every class)."""
    return conn.execute(
        "SELECT s.sku, (SELECT class FROM abc_classes a WHERE a.sku = s.sku), s.revenue, "
        "s.cogs, s.dropship FROM (SELECT x.sku, sum(x.revenue) AS revenue, "
        "sum(x.cogs) AS cogs, sum(x.dropship) AS dropship FROM ("
        f"{_figures(conn, since, until, '{sku} > ? AND {sku} <= ?')}"
        ") x GROUP BY x.sku "
        "HAVING sum(x.revenue) != 0 OR sum(x.cogs) != 0 OR sum(x.dropship) != 0) s "
        "ORDER BY s.sku",
        (after, last) * len(_BRANCHES),
    ).fetchall()


def margin_by_class(conn: Connection, since: str, until: str) -> list[tuple]:
    """(ABC class or None, revenue, cogs, dropship cost) per class with any, over [since,
    until]: the per-sku figures (margin_by_sku) summed by each sku's class."""
    return conn.execute(
        "SELECT a.class, sum(x.revenue), sum(x.cogs), sum(x.dropship) FROM ("
        f"{_figures(conn, since, until, '')}"
        ") x LEFT JOIN abc_classes a ON a.sku = x.sku GROUP BY a.class "
        "HAVING sum(x.revenue) != 0 OR sum(x.cogs) != 0 OR sum(x.dropship) != 0",
    ).fetchall()


def shipment_costs(conn: Connection, event_id: int) -> dict[str, tuple[int, int]]:
    """sku -> (units out, their FIFO cost in micros) of a shipment event's own shipment
    movements (not the assemblies a backflush books in it; consigned units cost us 0)."""
    out = dict(conn.execute(
        "SELECT sku, -sum(delta) FROM movements WHERE event_id = ? AND type = 'shipment' "
        "GROUP BY sku", (event_id,)))  # fmt: skip
    cost = dict(conn.execute(
        "SELECT m.sku, sum(f.value) FROM movements m JOIN cost_flows f ON f.movement_id = m.id "
        "WHERE m.event_id = ? AND m.type = 'shipment' GROUP BY m.sku", (event_id,)))  # fmt: skip
    return {sku: (units, cost.get(sku, 0)) for sku, units in out.items()}


def kit_sale_cost_add(
    conn: Connection, event_id: int, day: str, kit: str, part: str, units: int,
    cogs: int,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO kit_sale_costs (event_id, day, kit, part, units, cogs) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (event_id, day, kit, part, units, cogs),
    )


def kit_sale_costs_of_event(conn: Connection, event_id: int) -> list[tuple]:
    """(kit, part, units, cogs) a shipment event moved from parts to kits."""
    return conn.execute(
        "SELECT kit, part, units, cogs FROM kit_sale_costs WHERE event_id = ? ORDER BY id",
        (event_id,),
    ).fetchall()


def dropship_sale_add(
    conn: Connection, po: str, order_id: str, sku: str, qty: int, revenue: int,
    cost: int | None, day: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO dropship_sales (po, order_id, sku, qty, revenue, cost, day) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (po, order_id, sku, qty, revenue, cost, day),
    )


def dropship_sales_between(conn: Connection, since: str, until: str) -> list[tuple]:
    """(day, po, order, sku, qty, revenue, cost) of dropship sales on days [since, until],
    in the order they were booked."""
    return conn.execute(
        "SELECT day, po, order_id, sku, qty, revenue, cost FROM dropship_sales "
        "WHERE day BETWEEN ? AND ? ORDER BY id",
        (since, until),
    ).fetchall()
