"""Reorder planning for every product at once (planning.refresh_reorder): demand sums,
preferred suppliers, demand uplifts and the stored plans."""

import json
from collections.abc import Iterable

from hub.store.conditions import Where
from hub.store.connection import Connection, json_values


def demand_sums(conn: Connection, since: str, until: str) -> dict[str, tuple[int, int]]:
    """sku -> (units shipped, sum of the squares of each day's units) in [since, until]."""
    rows = conn.execute(
        "SELECT sku, sum(out_qty), sum(out_qty * out_qty) FROM daily_sku "
        "WHERE day BETWEEN ? AND ? GROUP BY sku",
        (since, until),
    )
    return {sku: (total, squares) for sku, total, squares in rows}


def preferred_suppliers(conn: Connection) -> dict[str, tuple[str, int]]:
    """sku -> (preferred supplier, its promised lead time days): `product_suppliers`' first."""
    found: dict[str, tuple[str, int]] = {}
    rows = conn.execute(
        "SELECT sku, supplier, lead_time_days FROM product_suppliers ORDER BY sku, rank"
    )
    for sku, supplier, days in rows:
        found.setdefault(sku, (supplier, days))
    return found


def uplift_add(
    conn: Connection, sku: str | None, start: str, end: str, factor: float, note: str
) -> int:
    cur = conn.execute(
        "INSERT INTO demand_uplifts (sku, start_day, end_day, factor, note) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id",
        (sku, start, end, factor, note),
    )
    return cur.fetchone()[0]


def uplifts(conn: Connection, sku: str | None = None) -> list[tuple]:
    """(id, sku, start, end, factor, note): every plan, or those that apply to `sku`."""
    where = Where().add("(sku IS NULL OR sku = ?)", sku) if sku is not None else Where()
    return conn.execute(
        "SELECT id, sku, start_day, end_day, factor, note FROM demand_uplifts "
        f"{where.sql} ORDER BY start_day, id",
        where.params,
    ).fetchall()


def uplift_delete(conn: Connection, uplift_id: int) -> bool:
    cur = conn.execute("DELETE FROM demand_uplifts WHERE id = ?", (uplift_id,))
    return cur.rowcount == 1


def reorder_plans_replace(conn: Connection, rows: Iterable[tuple]) -> None:
    """rows: (sku, due, target, mean, plan JSON)."""
    conn.execute("DELETE FROM reorder_plans")
    conn.executemany(
        "INSERT INTO reorder_plans (sku, due, target, mean, plan) VALUES (?, ?, ?, ?, ?)", rows
    )


def reorder_plan_get(conn: Connection, sku: str) -> tuple[int, int, float, str] | None:
    """(due, target, mean, plan JSON) of the sku's stored plan."""
    return conn.execute(
        "SELECT due, target, mean, plan FROM reorder_plans WHERE sku = ?", (sku,)
    ).fetchone()


def reorder_plans_of(conn: Connection, skus: list[str]) -> dict[str, tuple[int, int, float, str]]:
    """`reorder_plan_get` of those of `skus` with a stored plan, in one statement."""
    rows = conn.execute(
        "SELECT sku, due, target, mean, plan FROM reorder_plans "
        f"WHERE sku IN ({json_values(conn)})",
        (json.dumps(skus),),
    ).fetchall()
    return {sku: (due, target, mean, plan) for sku, due, target, mean, plan in rows}


def reorder_plan_set_due(conn: Connection, sku: str, due: bool) -> None:
    conn.execute("UPDATE reorder_plans SET due = ? WHERE sku = ?", (int(due), sku))


def reorder_plans_page(
    conn: Connection, after: str, limit: int, due_only: bool
) -> list[tuple[str, int, float, str]]:
    """(sku, target, mean, plan JSON) by sku after `after`: the due ones or every product."""
    # Two statements: the partial index on due plans serves only a literal `due = 1`.
    where = "sku > ? AND due = 1" if due_only else "sku > ?"
    return conn.execute(
        f"SELECT sku, target, mean, plan FROM reorder_plans WHERE {where} ORDER BY sku LIMIT ?",
        (after, limit),
    ).fetchall()


def uplift_get(conn: Connection, uplift_id: int) -> tuple | None:
    """(id, sku, start, end, factor, note) of one contingency plan."""
    return conn.execute(
        "SELECT id, sku, start_day, end_day, factor, note FROM demand_uplifts WHERE id = ?",
        (uplift_id,),
    ).fetchone()


def uplift_set_end(conn: Connection, uplift_id: int, end: str) -> None:
    conn.execute("UPDATE demand_uplifts SET end_day = ? WHERE id = ?", (end, uplift_id))
