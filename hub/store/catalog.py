"""Products: their catalog records and master data (costs, stock policy, owner), GTINs,
suppliers per product and kit components."""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hub.store.connection import Connection, json_values


def product_upsert(conn: Connection, sku: str, name: str, data: bytes, now: str) -> None:
    conn.execute(
        "INSERT INTO products (sku, name, data, updated) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (sku) DO UPDATE SET "
        "name = excluded.name, data = excluded.data, updated = excluded.updated",
        (sku, name, data.decode(), now),
    )


def gtins_replace(conn: Connection, sku: str, gtins: Iterable[tuple[str, int]]) -> None:
    conn.execute("DELETE FROM gtins WHERE sku = ?", (sku,))
    conn.executemany(
        "INSERT INTO gtins VALUES (?, ?, ?) ON CONFLICT (gtin) DO UPDATE SET "
        "sku = excluded.sku, units = excluded.units",
        [(gtin.zfill(14), sku, units) for gtin, units in gtins],
    )


def gtin_owner(conn: Connection, gtin: str) -> str | None:
    """The product a GTIN (any length, as given) scans as, if any."""
    row = conn.execute("SELECT sku FROM gtins WHERE gtin = ?", (gtin.zfill(14),)).fetchone()
    return row[0] if row else None


def gtin_conflicts(conn: Connection) -> list[dict]:
    """GTINs a product's record lists (and so its stations' catalog) that the hub scans as
    another product or as none: a ledger saved before the hub refused a GTIN on two
    products (hub.catalog.check_products)."""
    owners = dict(conn.execute("SELECT gtin, sku FROM gtins").fetchall())
    found = []
    for sku, data in conn.execute("SELECT sku, data FROM products ORDER BY sku").fetchall():
        for gtin in json.loads(data).get("gtins", []):
            scans_as = owners.get(gtin["gtin"].zfill(14))
            if scans_as != sku:
                found.append({"gtin": gtin["gtin"], "listed_by": sku, "scans_as": scans_as})
    return found


def product_get(conn: Connection, sku: str) -> bytes | None:
    row = conn.execute("SELECT data FROM products WHERE sku = ?", (sku,)).fetchone()
    return row[0].encode() if row else None


def product_exists(conn: Connection, sku: str) -> bool:
    return conn.execute("SELECT 1 FROM products WHERE sku = ?", (sku,)).fetchone() is not None


def product_master_set(
    conn: Connection,
    sku: str,
    master: bytes,
    unit_cost: int | None,
    par_level: int | None,
    reorder_point: int | None,
    safety_stock: int | None,
    high_risk: bool,
    owner: str,
) -> None:
    conn.execute(
        "UPDATE products SET master = ?, unit_cost = ?, par_level = ?, reorder_point = ?, "
        "safety_stock = ?, high_risk = ?, owner = ? WHERE sku = ?",
        (master.decode(), unit_cost, par_level, reorder_point, safety_stock, int(high_risk),
         owner, sku),
    )  # fmt: skip


def product_master_get(conn: Connection, sku: str) -> bytes | None:
    row = conn.execute("SELECT master FROM products WHERE sku = ?", (sku,)).fetchone()
    return row[0].encode() if row else None


def product_skus(conn: Connection, limit: int, offset: int) -> list[str]:
    rows = conn.execute(
        "SELECT sku FROM products ORDER BY sku LIMIT ? OFFSET ?", (limit, offset)
    ).fetchall()
    return [r[0] for r in rows]


def product_skus_after(conn: Connection, after: str, limit: int) -> list[str]:
    rows = conn.execute(
        "SELECT sku FROM products WHERE sku > ? ORDER BY sku LIMIT ?", (after, limit)
    ).fetchall()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class ProductPolicy:
    sku: str
    name: str
    unit_cost: int | None
    par_level: int | None
    reorder_point: int | None
    safety_stock: int | None
    high_risk: bool
    owner: str


def product_policy(conn: Connection, sku: str) -> ProductPolicy | None:
    row = conn.execute(
        "SELECT sku, name, unit_cost, par_level, reorder_point, safety_stock, high_risk, owner "
        "FROM products WHERE sku = ?",
        (sku,),
    ).fetchone()
    return ProductPolicy(*row[:6], bool(row[6]), row[7]) if row else None


def product_policies_of(conn: Connection, skus: list[str]) -> dict[str, ProductPolicy]:
    """`product_policy` of those of `skus` in the catalog, in one statement."""
    rows = conn.execute(
        "SELECT sku, name, unit_cost, par_level, reorder_point, safety_stock, high_risk, owner "
        f"FROM products WHERE sku IN ({json_values(conn)})",
        (json.dumps(skus),),
    ).fetchall()
    return {row[0]: ProductPolicy(*row[:6], bool(row[6]), row[7]) for row in rows}


def product_policies(conn: Connection) -> Iterator[ProductPolicy]:
    rows = conn.execute(
        "SELECT sku, name, unit_cost, par_level, reorder_point, safety_stock, high_risk, owner "
        "FROM products ORDER BY sku"
    )
    for row in rows:
        yield ProductPolicy(*row[:6], bool(row[6]), row[7])


def product_unit_cost(conn: Connection, sku: str) -> int | None:
    row = conn.execute("SELECT unit_cost FROM products WHERE sku = ?", (sku,)).fetchone()
    return row[0] if row else None


def product_owner_cost(conn: Connection, sku: str) -> tuple[str, int | None] | None:
    """(owner, unit cost) of the product, or None when `sku` is not one."""
    row = conn.execute("SELECT owner, unit_cost FROM products WHERE sku = ?", (sku,)).fetchone()
    return None if row is None else (row[0], row[1])


def products_owner_cost(conn: Connection, skus: list[str]) -> dict[str, tuple[str, int | None]]:
    """`product_owner_cost` of those of `skus` that are products, in one statement."""
    rows = conn.execute(
        f"SELECT sku, owner, unit_cost FROM products WHERE sku IN ({json_values(conn)})",
        (json.dumps(skus),),
    ).fetchall()
    return {sku: (owner, cost) for sku, owner, cost in rows}


def high_risk_skus(conn: Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT sku FROM products WHERE high_risk = 1")}


def product_suppliers_replace(
    conn: Connection, sku: str, suppliers: list[tuple[str, int | None, int | None]]
) -> None:
    """(supplier, lead time days or None for the supplier's own, unit cost micros)."""
    conn.execute("DELETE FROM product_suppliers WHERE sku = ?", (sku,))
    conn.executemany(
        "INSERT INTO product_suppliers (sku, supplier, rank, lead_time_days, unit_cost) "
        "SELECT ?, ?, ?, coalesce(CAST(? AS BIGINT), (SELECT lead_time_days FROM suppliers "
        "WHERE supplier = ?), 14), CAST(? AS BIGINT)",
        [(sku, sup, rank, days, sup, cost) for rank, (sup, days, cost) in enumerate(suppliers)],
    )


def product_suppliers(conn: Connection, sku: str) -> list[tuple[str, int, int | None]]:
    """(supplier, promised lead time days, unit cost micros), preferred first."""
    return conn.execute(
        "SELECT supplier, lead_time_days, unit_cost FROM product_suppliers WHERE sku = ? "
        "ORDER BY rank",
        (sku,),
    ).fetchall()


def kit_replace(conn: Connection, kit: str, components: list[tuple[str, int]]) -> None:
    conn.execute("DELETE FROM kit_components WHERE kit = ?", (kit,))
    conn.executemany(
        "INSERT INTO kit_components VALUES (?, ?, ?)", [(kit, sku, qty) for sku, qty in components]
    )


def kit_components(conn: Connection, kit: str) -> list[tuple[str, int]]:
    return conn.execute(
        "SELECT sku, qty FROM kit_components WHERE kit = ? ORDER BY sku", (kit,)
    ).fetchall()
