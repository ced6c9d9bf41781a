"""Master data besides products: the warehouse's locations and the suppliers."""

from hub.store.connection import Connection


def location_upsert(
    conn: Connection, code: str, zone: str, aisle: str, bay: str, bin_: str,
    barcode: str, now: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO locations VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
        "zone = excluded.zone, aisle = excluded.aisle, bay = excluded.bay, bin = excluded.bin, "
        "barcode = excluded.barcode, updated = excluded.updated",
        (code, zone, aisle, bay, bin_, barcode, now),
    )


def location_list(conn: Connection, limit: int, offset: int) -> list[tuple]:
    return conn.execute(
        "SELECT code, zone, aisle, bay, bin FROM locations ORDER BY code LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def location_by_barcode(conn: Connection, barcode: str) -> str | None:
    row = conn.execute("SELECT code FROM locations WHERE barcode = ?", (barcode,)).fetchone()
    return row[0] if row else None


def location_codes(conn: Connection) -> list[str]:
    """Every location: the master list and any that holds or held stock."""
    rows = conn.execute(
        "SELECT code FROM locations UNION SELECT DISTINCT location FROM balances ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def supplier_upsert(
    conn: Connection, supplier: str, name: str, email: str, lead_days: int, now: str
) -> None:
    conn.execute(
        "INSERT INTO suppliers VALUES (?, ?, ?, ?, ?) ON CONFLICT (supplier) DO UPDATE SET "
        "name = excluded.name, email = excluded.email, lead_time_days = excluded.lead_time_days, "
        "updated = excluded.updated",
        (supplier, name, email, lead_days, now),
    )


def supplier_exists(conn: Connection, supplier: str) -> bool:
    query = "SELECT 1 FROM suppliers WHERE supplier = ?"
    return conn.execute(query, (supplier,)).fetchone() is not None


def supplier_list(conn: Connection, limit: int, offset: int) -> list[tuple]:
    return conn.execute(
        "SELECT supplier, name, email, lead_time_days FROM suppliers ORDER BY supplier "
        "LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def supplier_lead_time(conn: Connection, supplier: str) -> int | None:
    query = "SELECT lead_time_days FROM suppliers WHERE supplier = ?"
    row = conn.execute(query, (supplier,)).fetchone()
    return row[0] if row else None
