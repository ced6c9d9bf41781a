"""Report pages: stock and valuation, dead stock and surplus (live or as stored rows), ABC
classes, and when each stored report was computed."""

from hub.store.conditions import Where, page
from hub.store.connection import Connection


def stock_page(
    conn: Connection, sku: str | None, location: str | None, owner: str | None,
    limit: int, offset: int,
) -> list[tuple]:  # fmt: skip
    """(sku, location, lot, owner, qty, expiry, layer value) of non-zero balance lines."""
    # Only the filters given, so that SQLite can use the key (sku) or balances_location;
    # the page's size written out (conditions.page): planned for LIMIT ?, PostgreSQL's
    # generic plan is one for a tenth of the stock lines.
    where = Where(["b.qty != 0"]).equal("b.sku", sku).equal("b.location", location)
    where.equal("b.owner", owner)
    return conn.execute(
        "SELECT b.sku, b.location, b.lot, b.owner, b.qty, l.expiry, "
        "CASE WHEN b.owner = '' THEN (SELECT coalesce(sum(c.qty_left * c.unit_cost), 0) "
        "  FROM cost_layers c WHERE c.sku = b.sku AND c.location = b.location AND c.lot = b.lot "
        "  AND c.qty_left != 0) ELSE 0 END "
        f"FROM balances b LEFT JOIN lots l ON l.sku = b.sku AND l.lot = b.lot {where.sql} "
        f"ORDER BY b.sku, b.location, b.lot, b.owner {page(limit, offset)}",
        where.params,
    ).fetchall()


def valuation_page(conn: Connection, limit: int, offset: int) -> list[tuple]:
    """(sku, own qty, consigned qty, value micros) per product with stock, by sku."""
    return conn.execute(
        "SELECT b.sku, sum(CASE WHEN b.owner = '' THEN b.qty ELSE 0 END), "
        "sum(CASE WHEN b.owner != '' THEN b.qty ELSE 0 END), "
        "(SELECT coalesce(sum(c.qty_left * c.unit_cost), 0) FROM cost_layers c "
        " WHERE c.sku = b.sku AND c.qty_left != 0) "
        "FROM balances b GROUP BY b.sku HAVING sum(CASE WHEN b.qty != 0 THEN 1 ELSE 0 END) > 0 ORDER BY b.sku "
        "LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


# Dead stock and surplus: the same SELECT serves a live page and the stored rows.
_DEAD_STOCK = (
    "SELECT b.sku, sum(b.qty), max(a.last_out) FROM balances b "
    "LEFT JOIN sku_activity a ON a.sku = b.sku "
    "WHERE a.last_out IS NULL OR a.last_out < :before "
    "GROUP BY b.sku HAVING sum(b.qty) > 0"
)


_SURPLUS = (
    "WITH s AS (SELECT sku, sum(qty) AS q FROM balances GROUP BY sku HAVING sum(qty) > 0), "
    "d AS (SELECT sku, sum(out_qty) AS o FROM daily_sku WHERE day >= :since GROUP BY sku) "
    "SELECT s.sku, s.q, coalesce(d.o, 0) FROM s LEFT JOIN d ON d.sku = s.sku "
    "WHERE coalesce(d.o, 0) <= 0 OR s.q * :window > :days * d.o"
)


def dead_stock_page(conn: Connection, before: str, limit: int, offset: int) -> list:
    """(sku, on hand, last outbound day) of products in stock with no outbound since `before`
    (groups every balance: `dead_stock_stored` reads the stored rows)."""
    return conn.execute(
        _DEAD_STOCK + " ORDER BY b.sku LIMIT :limit OFFSET :offset",
        {"before": before, "limit": limit, "offset": offset},
    ).fetchall()


def dead_stock_all(conn: Connection, before: str) -> list[tuple]:
    """Every row of the dead-stock report (`dead_stock_page`'s), to store."""
    return conn.execute(_DEAD_STOCK, {"before": before}).fetchall()


def dead_stock_replace(conn: Connection, rows: list[tuple]) -> None:
    """rows: (sku, on hand, last outbound day)."""
    conn.execute("DELETE FROM dead_stock_rows")
    conn.executemany("INSERT INTO dead_stock_rows (sku, on_hand, last_out) VALUES (?, ?, ?)",
                     rows)  # fmt: skip


def dead_stock_stored(conn: Connection, limit: int, offset: int) -> list:
    return conn.execute(
        "SELECT sku, on_hand, last_out FROM dead_stock_rows ORDER BY sku LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def surplus_page(
    conn: Connection, since: str, window_days: int, days: int, limit: int, offset: int
) -> list[tuple]:
    """(sku, on hand, units shipped since `since`) where on hand covers more than `days`
    (groups every balance: `surplus_stored` reads the stored rows)."""
    return conn.execute(
        _SURPLUS + " ORDER BY s.sku LIMIT :limit OFFSET :offset",
        {"since": since, "window": window_days, "days": days, "limit": limit, "offset": offset},
    ).fetchall()


def surplus_all(conn: Connection, since: str, window_days: int, days: int) -> list[tuple]:
    """Every row of the surplus report (`surplus_page`'s), to store."""
    return conn.execute(_SURPLUS, {"since": since, "window": window_days, "days": days}).fetchall()


def surplus_replace(conn: Connection, rows: list[tuple]) -> None:
    """rows: (sku, on hand, units shipped in the window)."""
    conn.execute("DELETE FROM surplus_rows")
    conn.executemany("INSERT INTO surplus_rows (sku, on_hand, shipped) VALUES (?, ?, ?)", rows)


def surplus_stored(conn: Connection, limit: int, offset: int) -> list[tuple]:
    return conn.execute(
        "SELECT sku, on_hand, shipped FROM surplus_rows ORDER BY sku LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def report_run(conn: Connection, report: str) -> tuple[str, str, str] | None:
    """(day, computed, params) of the stored rows of `report`, if they were ever computed."""
    return conn.execute(
        "SELECT day, computed, params FROM report_runs WHERE report = ?", (report,)
    ).fetchone()


def report_run_set(conn: Connection, report: str, day: str, computed: str, params: str) -> None:
    conn.execute(
        "INSERT INTO report_runs (report, day, computed, params) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (report) DO UPDATE SET day = excluded.day, computed = excluded.computed, "
        "params = excluded.params",
        (report, day, computed, params),
    )


def abc_replace(conn: Connection, rows: list[tuple[str, str, int, float]], now: str):
    """rows: (sku, class, value, cumulative share) in rank order."""
    conn.execute("DELETE FROM abc_classes")
    conn.executemany(
        "INSERT INTO abc_classes VALUES (?, ?, ?, ?, ?, ?)",
        [(sku, cls, value, share, rank, now) for rank, (sku, cls, value, share)
         in enumerate(rows, 1)],
    )  # fmt: skip


def abc_page(conn: Connection, limit: int, offset: int) -> list[tuple]:
    return conn.execute(
        "SELECT rank, sku, class, value, share FROM abc_classes ORDER BY rank LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def abc_computed(conn: Connection) -> str | None:
    row = conn.execute("SELECT max(computed) FROM abc_classes").fetchone()
    return row[0]
