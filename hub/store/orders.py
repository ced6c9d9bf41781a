"""Customer orders and their lines, and the units they commit."""

import json
from dataclasses import dataclass

from hub.store.conditions import Where
from hub.store.connection import Connection, dialect, json_values


def order_upsert(conn: Connection, order_id: str, status: str, data: bytes, now: str) -> None:
    closed = now if status in ("shipped", "short", "cancelled") else None
    conn.execute(
        "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET "
        "status = excluded.status, data = excluded.data, updated = excluded.updated, "
        "closed = excluded.closed",
        (order_id, status, data.decode(), now, now, closed),
    )


def order_get(conn: Connection, order_id: str) -> tuple[str, bytes] | None:
    row = conn.execute("SELECT status, data FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return (row[0], row[1].encode()) if row else None


def order_status(conn: Connection, order_id: str) -> str | None:
    row = conn.execute("SELECT status FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return row[0] if row else None


def orders_open_of(conn: Connection, order_ids: list[str]) -> set[str]:
    """Those of `order_ids` that are open, in one statement."""
    # SQLite would rather walk every open order (its status index) than seek each id.
    status = dialect(conn, sqlite="+status", postgresql="status")
    rows = conn.execute(
        f"SELECT order_id FROM orders WHERE order_id IN ({json_values(conn)}) "
        f"AND {status} = 'open'",
        (json.dumps(order_ids),),
    )
    return {row[0] for row in rows}


def order_created(conn: Connection, order_id: str) -> str | None:
    row = conn.execute("SELECT created FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return row[0] if row else None


def order_list(
    conn: Connection, status: str | None, limit: int, offset: int
) -> list[tuple[str, str, str, str, str | None]]:
    """(order, status, created, updated, closed), newest first."""
    where = Where().equal_word("status", status)
    return conn.execute(
        f"SELECT order_id, status, created, updated, closed FROM orders {where.sql} "
        "ORDER BY created DESC, order_id LIMIT ? OFFSET ?",
        (*where.params, limit, offset),
    ).fetchall()


@dataclass(frozen=True)
class OrderLineRow:
    line: int
    sku: str
    qty: int
    shipped: int
    short: int
    kit: str
    role: str
    supplier: str | None
    po: str | None
    open: bool


def order_lines_replace(conn: Connection, order_id: str, lines: list[tuple]) -> None:
    """lines: (sku, qty, kit, role, supplier, po)."""
    conn.execute("DELETE FROM order_lines WHERE order_id = ?", (order_id,))
    conn.executemany(
        "INSERT INTO order_lines (order_id, line, sku, qty, kit, role, supplier, po) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(order_id, n, *line) for n, line in enumerate(lines, 1)],
    )


def order_lines(conn: Connection, order_id: str) -> list[OrderLineRow]:
    rows = conn.execute(
        "SELECT line, sku, qty, shipped, short, kit, role, supplier, po, open FROM order_lines "
        "WHERE order_id = ? ORDER BY line",
        (order_id,),
    ).fetchall()
    return [OrderLineRow(*row[:9], bool(row[9])) for row in rows]


def order_line_update(
    conn: Connection, order_id: str, line: int, shipped: int, short: int, open_: bool
) -> None:
    conn.execute(
        "UPDATE order_lines SET shipped = ?, short = ?, open = ? WHERE order_id = ? AND line = ?",
        (shipped, short, int(open_), order_id, line),
    )


def committed(conn: Connection, sku: str) -> int:
    """Units open orders still have to ship from our stock."""
    return conn.execute(
        "SELECT coalesce(sum(greatest(qty - shipped - short, 0)), 0) FROM order_lines "
        "WHERE sku = ? AND open = 1 AND role = 'stock'",
        (sku,),
    ).fetchone()[0]


def committed_of(conn: Connection, skus: list[str]) -> dict[str, int]:
    """`committed` of those of `skus` with open order lines, in one statement."""
    return dict(conn.execute(
        "SELECT sku, sum(greatest(qty - shipped - short, 0)) FROM order_lines "
        f"WHERE sku IN ({json_values(conn)}) AND open = 1 AND role = 'stock' GROUP BY sku",
        (json.dumps(skus),),
    ))  # fmt: skip


def committed_by_sku(conn: Connection) -> dict[str, int]:
    """`committed` of every sku with open order lines."""
    return dict(conn.execute(
        "SELECT sku, sum(greatest(qty - shipped - short, 0)) FROM order_lines "
        "WHERE open = 1 AND role = 'stock' GROUP BY sku"
    ))  # fmt: skip


def orders_waiting_for(conn: Connection, skus: list[str]) -> dict[str, list[str]]:
    """Open orders (no station packing them yet) with a line still to ship, of each of
    `skus` that has any, in one statement."""
    if not skus:
        return {}
    # From the lines of the SKUs, not from every open order (as orders_open_of).
    status = dialect(conn, sqlite="+o.status", postgresql="o.status")
    rows = conn.execute(
        "SELECT DISTINCT l.sku, l.order_id FROM order_lines l "
        "JOIN orders o ON o.order_id = l.order_id "
        f"WHERE l.sku IN ({json_values(conn)}) AND l.open = 1 AND l.role = 'stock' "
        f"AND {status} = 'open' ORDER BY l.sku, l.order_id",
        (json.dumps(skus),),
    )
    waiting: dict[str, list[str]] = {}
    for sku, order_id in rows:
        waiting.setdefault(sku, []).append(order_id)
    return waiting


def kits_on_open_orders(conn: Connection, kit: str) -> dict[str, int]:
    """Kits still to ship on open orders, by order status (open, packing)."""
    return dict(conn.execute(
        "SELECT o.status, sum(greatest(l.qty - l.shipped - l.short, 0)) FROM order_lines l "
        "JOIN orders o ON o.order_id = l.order_id WHERE l.sku = ? AND l.role = 'kit' "
        "AND l.open = 1 GROUP BY o.status",
        (kit,),
    ))  # fmt: skip
