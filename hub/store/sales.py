"""Sale prices booked per shipment: revenue, cost of goods sold and margin."""

from hub.store.connection import Connection


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


def margin_by_sku(conn: Connection, since: str, until: str) -> list[tuple]:
    """(sku, ABC class or None, revenue, cogs, dropship cost) per sku with any, over
    [since, until]; the cost of parts of kits built at the bench is the kit's, not the
    part's; revenue includes dropship sales'."""
    return conn.execute(
        "SELECT x.sku, a.class, sum(x.revenue), sum(x.cogs), sum(x.dropship) FROM ("
        "  SELECT sku, revenue, 0 AS cogs, 0 AS dropship FROM daily_sales"
        "  WHERE day BETWEEN ? AND ?"
        "  UNION ALL SELECT sku, 0, cogs, 0 FROM daily_sku WHERE day BETWEEN ? AND ?"
        "  UNION ALL SELECT kit, 0, cogs, 0 FROM kit_sale_costs WHERE day BETWEEN ? AND ?"
        "  UNION ALL SELECT part, 0, -cogs, 0 FROM kit_sale_costs WHERE day BETWEEN ? AND ?"
        "  UNION ALL SELECT sku, revenue, 0, coalesce(cost, 0) FROM dropship_sales"
        "  WHERE day BETWEEN ? AND ?"
        ") x LEFT JOIN abc_classes a ON a.sku = x.sku GROUP BY x.sku, a.class "
        "HAVING sum(x.revenue) != 0 OR sum(x.cogs) != 0 OR sum(x.dropship) != 0 "
        "ORDER BY x.sku",
        (since, until, since, until, since, until, since, until, since, until),
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
