"""What each page shows, assembled from the store (shared by the pages and the JSON API)."""


import msgspec

from hub import catalog, kits, store
from hub.store.connection import Connection

HISTORY_POINTS = 500  # movements behind a product's chart: recent history, not the ledger


def station_rows(conn: Connection) -> list[dict]:
    rows = []
    for row in store.station_list(conn):
        status = msgspec.json.decode(row.pop("status")) if row["status"] else {}
        head = status.get("head", 0) if status.get("epoch") == row["epoch"] else 0
        rows.append({**row, **_status_fields(status), "unacked": max(0, head - row["applied"])})
    return rows


def _status_fields(status: dict) -> dict:
    keys = ("conn", "head", "mode", "operator", "devices", "last_scan", "last_verdict", "ts",
            "fault", "last_read")  # fmt: skip
    return {key: status.get(key) for key in keys}


def kpis_since(conn: Connection, since: str) -> dict:
    """The day's figures: events applied since `since` (the site's midnight, UTC ISO)."""
    by_type = dict(store.events_today(conn, since))
    scans = by_type.get("scan", 0)
    errors = store.scan_errors_since(conn, since)
    return {
        "receipts": by_type.get("receipt", 0),
        "shipments": by_type.get("shipment", 0),
        "counts": by_type.get("count", 0),
        "scans": scans,
        "scan_errors": errors,
        "errors_per_1000": round(1000 * errors / scans, 1) if scans else 0.0,
        "open_alerts": store.alert_count_open(conn),
    }


def stock_rows(rows: list[tuple[str, str | None, int, int]]) -> list[dict]:
    """(sku, name, on hand, quarantined) rows as the stock pages and API list them."""
    return [{"sku": sku, "name": name or "", "on_hand": qty, "quarantined": held}
            for sku, name, qty, held in rows]  # fmt: skip


def location_rows(rows: list[tuple]) -> list[dict]:
    keys = ("sku", "name", "lot", "owner", "qty")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def onhand_series(current: int, newest_first: list[dict]) -> list[dict]:
    """On hand after each movement, oldest first, worked back from today's balance."""
    points, level = [], current
    for movement in newest_first:
        points.append({"ts": movement["hub_ts"], "on_hand": level, "id": movement["id"]})
        level -= movement["delta"]
    points.reverse()
    return points


def product(
    conn: Connection, sku: str, limit: int = 50, before: int | None = None
) -> dict | None:
    """A product as its page and `GET /api/products/{sku}/history` show it: the catalog
    record, stock by line, `limit` movements before movement `before` (newest first) with
    the cursor of the next page, and the on-hand series of the last HISTORY_POINTS
    movements. None when the sku has no record, no stock and no movement."""
    record = catalog.get_record(conn, sku)
    lines = store.stock_lines(conn, sku)
    movements = store.movements_of_sku(conn, sku, limit, before)
    if record is None and not lines and not movements:
        return None
    on_hand, committed = store.on_hand(conn, sku), store.committed(conn, sku)
    quarantined = store.quarantined(conn, sku)
    recent = movements if before is None and limit >= HISTORY_POINTS else (
        store.movements_of_sku(conn, sku, HISTORY_POINTS))  # fmt: skip
    return {
        "sku": sku,
        "name": record.name if record else None,
        "details": msgspec.to_builtins(record) if record else {},
        "on_hand": on_hand,
        "committed": committed,
        "quarantined": quarantined,
        "available": on_hand - committed - quarantined,
        "on_order": store.on_order(conn, sku),
        "kit": kits.availability(conn, sku),
        "lines": [
            {"location": loc, "lot": lot, "owner": owner, "qty": qty}
            for loc, lot, owner, qty in lines
        ],
        "movements": movements,
        "next": {"before": movements[-1]["id"]} if len(movements) == limit else None,
        "series": onhand_series(on_hand, recent[:HISTORY_POINTS]),
    }


def order(conn: Connection, order_id: str) -> dict | None:
    row = store.order_row(conn, order_id)
    if row is None:
        return None
    data = msgspec.json.decode(row[2])
    log = store.order_log(conn, order_id, 1000)
    return {**order_summary(row, data), "lines": data.get("lines", []), "log": log}


def order_summary(row: tuple, data: dict | None = None) -> dict:
    data = data if data is not None else msgspec.json.decode(row[2])
    lines = data.get("lines", [])
    return {
        "order": row[0],
        "status": row[1],
        "customer": data.get("customer"),
        "lines_count": len(lines),
        "units": sum(line.get("qty", 0) for line in lines),
        "created": row[3],
        "updated": row[4],
    }
