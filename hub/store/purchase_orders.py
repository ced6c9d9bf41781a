"""Purchase orders, their lines and receipts, the units on order, and suppliers' actual
lead times."""

from dataclasses import dataclass

from hub.store.conditions import Where, page
from hub.store.connection import Connection


@dataclass(frozen=True)
class PoRow:
    po: str
    supplier: str | None
    status: str
    ordered: str
    expected: str | None
    first_receipt: str | None
    completed: str | None
    order_id: str | None
    dropship: bool


_PO_COLUMNS = (
    "po, supplier, status, ordered, expected, first_receipt, completed, order_id, dropship"
)


def po_insert(
    conn: Connection, po: str, supplier: str | None, ordered: str, expected: str | None,
    order_id: str | None, dropship: bool, lines: list[tuple[str, int, int | None]], now: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO purchase_orders (po, supplier, status, ordered, expected, order_id, "
        "dropship, updated) VALUES (?, ?, 'open', ?, ?, ?, ?, ?)",
        (po, supplier, ordered, expected, order_id, int(dropship), now),
    )
    conn.executemany(
        "INSERT INTO po_lines (po, line, sku, qty, unit_cost) VALUES (?, ?, ?, ?, ?)",
        [(po, n, sku, qty, cost) for n, (sku, qty, cost) in enumerate(lines, 1)],
    )


def po_delete(conn: Connection, po: str) -> None:
    conn.execute("DELETE FROM po_lines WHERE po = ?", (po,))
    conn.execute("DELETE FROM purchase_orders WHERE po = ?", (po,))


def po_get(conn: Connection, po: str) -> PoRow | None:
    row = conn.execute(f"SELECT {_PO_COLUMNS} FROM purchase_orders WHERE po = ?", (po,))
    row = row.fetchone()
    return PoRow(*row[:8], bool(row[8])) if row else None


def po_list(conn: Connection, status: str | None, limit: int, offset: int) -> list[PoRow]:
    where = Where().equal_word("status", status)
    rows = conn.execute(
        f"SELECT {_PO_COLUMNS} FROM purchase_orders {where.sql} "
        f"ORDER BY ordered DESC, po {page(limit, offset)}",  # written out: conditions.page
        where.params,
    ).fetchall()
    return [PoRow(*row[:8], bool(row[8])) for row in rows]


def po_set(conn: Connection, po: str, now: str, **fields: str | None) -> None:
    allowed = {"status", "first_receipt", "completed"}
    if not set(fields) <= allowed:
        raise ValueError(f"cannot set {set(fields) - allowed} on a purchase order")
    sets = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(
        f"UPDATE purchase_orders SET {sets}, updated = ? WHERE po = ?",
        (*fields.values(), now, po),
    )


def po_lines(conn: Connection, po: str) -> list[tuple[int, str, int, int, int | None]]:
    """(line, sku, qty, received, unit cost micros)."""
    return conn.execute(
        "SELECT line, sku, qty, received, unit_cost FROM po_lines WHERE po = ? ORDER BY line",
        (po,),
    ).fetchall()


def po_line_receive(conn: Connection, po: str, line: int, qty: int) -> None:
    conn.execute(
        "UPDATE po_lines SET received = received + ? WHERE po = ? AND line = ?", (qty, po, line)
    )


def on_order(conn: Connection, sku: str) -> int:
    """Units on open purchase orders (not dropship) still to arrive."""
    return conn.execute(
        "SELECT coalesce(sum(greatest(l.qty - l.received, 0)), 0) FROM po_lines l "
        "JOIN purchase_orders p ON p.po = l.po WHERE l.sku = ? AND p.dropship = 0 "
        "AND p.status IN ('open', 'receiving')",
        (sku,),
    ).fetchone()[0]


def on_order_by_sku(conn: Connection) -> dict[str, int]:
    """`on_order` of every sku on open purchase orders."""
    return dict(conn.execute(
        "SELECT l.sku, sum(greatest(l.qty - l.received, 0)) FROM po_lines l "
        "JOIN purchase_orders p ON p.po = l.po WHERE p.dropship = 0 "
        "AND p.status IN ('open', 'receiving') GROUP BY l.sku"
    ))  # fmt: skip


def supplier_lead_times(conn: Connection, supplier: str, last: int = 10) -> list[tuple]:
    """(ordered, expected, completed) of the supplier's last completed purchase orders."""
    return conn.execute(
        "SELECT ordered, expected, completed FROM purchase_orders WHERE supplier = ? "
        "AND completed IS NOT NULL AND status IN ('received', 'closed') "
        "ORDER BY completed DESC LIMIT ?",
        (supplier, last),
    ).fetchall()
