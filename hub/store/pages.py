"""Read queries behind the web pages (no business rules: what is stored, paged and
indexed)."""

from hub.store.conditions import word
from hub.store.connection import Connection, dialect

# Any string starting with a prefix sorts below prefix + this (the highest code point).
_AFTER_PREFIX = "\U0010ffff"

# Events since a time (the day's figures): a range with both ends. Planned without its
# values (PostgreSQL's generic plan, once a statement has run five times), `hub_ts >= ?`
# alone is taken for a third of the events, read whole (a Seq Scan); with an upper end,
# for a narrow range, read through events_hub_ts. `_LAST` is above every time: the same
# rows.
_SINCE = "hub_ts >= ? AND hub_ts < ?"
_LAST = _AFTER_PREFIX

# A listed sku's name (None for a sku the catalog lacks), looked up per row of the page: a
# join to products is planned, without the page's values (a generic plan), as a hash join
# over the whole catalog.
_NAME = "(SELECT p.name FROM products p WHERE p.sku = {sku})"

# Units of a listed sku on hand in held (quarantine) locations: on hand, not available.
_QUARANTINED = (
    "(SELECT coalesce(sum(q.qty), 0) FROM balances q JOIN location_holds qh "
    "ON qh.location = q.location WHERE q.sku = {sku})"
)


def stock_search(
    conn: Connection, text: str, limit: int, offset: int
) -> list[tuple[str, str | None, int, int]]:
    """(sku, name, on hand, quarantined) of products whose sku starts with, or name contains, `text`,
    or whose GTIN is `text`."""
    if "\0" in text:
        return []  # matches nothing the ledger holds (PostgreSQL's text cannot hold NUL)
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    # A name may contain the text anywhere, in any case: no index can seek that. On SQLite
    # (LIKE ignores case), scanning the narrow products_name index (name, rowid) instead of
    # whole product rows (their JSON records) makes it a third of the work on a big catalog.
    names = dialect(
        conn,
        sqlite="SELECT sku FROM products WHERE rowid IN (SELECT rowid FROM products "
        "INDEXED BY products_name WHERE name LIKE '%' || ? || '%' ESCAPE '\\')",
        postgresql="SELECT sku FROM products WHERE name ILIKE '%' || CAST(? AS TEXT) || '%' "
        "ESCAPE '\\'",
    )
    after = text + _AFTER_PREFIX
    return conn.execute(
        "WITH hits AS ("
        "  SELECT sku FROM products WHERE sku >= ? AND sku < ?"
        f"  UNION {names}"
        "  UNION SELECT sku FROM gtins WHERE gtin = ?"
        "  UNION SELECT DISTINCT sku FROM balances WHERE sku >= ? AND sku < ?"
        f") SELECT h.sku, {_NAME.format(sku='h.sku')}, "
        "coalesce((SELECT sum(qty) FROM balances b WHERE b.sku = h.sku), 0), "
        + _QUARANTINED.format(sku="h.sku") +
        " FROM hits h ORDER BY h.sku LIMIT ? OFFSET ?",
        (text, after, like, text.zfill(14) if text.isdigit() else "", text, after, limit, offset),
    ).fetchall()


def catalog_stock_page(
    conn: Connection, after: str, limit: int, negative_only: bool = False
) -> list[tuple[str, str | None, int, int]]:
    """(sku, name, on hand, quarantined) of the catalog in sku order after `after` (keyset); with
    `negative_only`, the skus (known or not) with a line below zero."""
    if negative_only:
        return conn.execute(
            f"SELECT n.sku, {_NAME.format(sku='n.sku')}, "
            "(SELECT sum(qty) FROM balances b WHERE b.sku = n.sku), "
            + _QUARANTINED.format(sku="n.sku") +
            " FROM (SELECT DISTINCT sku FROM balances WHERE qty < 0 AND sku > ? ORDER BY sku "
            "LIMIT ?) n ORDER BY n.sku",
            (after, limit),
        ).fetchall()
    return conn.execute(
        "SELECT p.sku, p.name, coalesce((SELECT sum(qty) FROM balances b WHERE b.sku = p.sku), 0), "
        + _QUARANTINED.format(sku="p.sku") +
        " FROM products p WHERE p.sku > ? ORDER BY p.sku LIMIT ?",
        (after, limit),
    ).fetchall()


def location_stock(
    conn: Connection, location: str, limit: int, offset: int
) -> list[tuple[str, str | None, str, str, int]]:
    """(sku, name, lot, owner, qty) of the non-zero lines at one location."""
    return conn.execute(
        "SELECT b.sku, p.name, b.lot, b.owner, b.qty FROM balances b "
        "LEFT JOIN products p ON p.sku = b.sku WHERE b.location = ? AND b.qty != 0 "
        "ORDER BY b.sku, b.lot, b.owner LIMIT ? OFFSET ?",
        (location, limit, offset),
    ).fetchall()


def orders_page(
    conn: Connection, status: str | None, limit: int, offset: int
) -> list[tuple[str, str, str, str, str]]:
    """(order, status, data JSON, created, updated), newest first."""
    if status:
        return conn.execute(
            "SELECT order_id, status, data, created, updated FROM orders WHERE status = ? "
            "ORDER BY updated DESC LIMIT ? OFFSET ?",
            (status, limit, offset),
        ).fetchall()
    return conn.execute(
        "SELECT order_id, status, data, created, updated FROM orders "
        "ORDER BY updated DESC LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()


def order_row(conn: Connection, order_id: str) -> tuple[str, str, str, str, str] | None:
    return conn.execute(
        "SELECT order_id, status, data, created, updated FROM orders WHERE order_id = ?",
        (order_id,),
    ).fetchone()


def order_log(conn: Connection, order_id: str, limit: int) -> list[dict]:
    """Scans and shipments of one order, oldest first: who scanned what, with which verdict."""
    rows = conn.execute(
        "SELECT id, station, type, ts, hub_ts, json_extract(data, '$.operator'), "
        "json_extract(data, '$.sku'), json_extract(data, '$.code'), "
        "json_extract(data, '$.verdict') FROM events "
        "WHERE json_extract(data, '$.order') = ? AND type IN ('scan', 'shipment') "
        "ORDER BY id LIMIT ?",
        (order_id, limit),
    ).fetchall()
    keys = ("id", "station", "type", "ts", "hub_ts", "operator", "sku", "code", "verdict")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def events_today(conn: Connection, since: str) -> list[tuple[str, int]]:
    """(type, count) of events applied since `since` (an ISO time)."""
    # `+type`: grouping by the bare column tempts SQLite to walk the whole events_type index
    # instead of today's slice of events_hub_ts.
    group = dialect(conn, sqlite="+type", postgresql="type")
    return conn.execute(
        f"SELECT type, count(*) FROM events WHERE {_SINCE} GROUP BY {group}", (since, _LAST)
    ).fetchall()


def scan_errors_since(conn: Connection, since: str) -> int:
    type_ = dialect(conn, sqlite="+type", postgresql="type")
    return conn.execute(
        f"SELECT count(*) FROM events WHERE {_SINCE} AND {type_} = 'scan' "
        "AND json_extract(data, '$.verdict') != 'ok'",
        (since, _LAST),
    ).fetchone()[0]


def po_receipts(conn: Connection, po: str, limit: int) -> list[dict]:
    """The receipts booked against purchase order `po`, oldest first: where each was put
    away, with its lot, expiry and station."""
    rows = conn.execute(
        "SELECT id, station, hub_ts, json_extract(data, '$.sku'), "
        "CAST(json_extract(data, '$.qty') AS INTEGER), "
        "json_extract(data, '$.location'), json_extract(data, '$.lot'), "
        "json_extract(data, '$.expiry') FROM events "
        "WHERE json_extract(data, '$.po') = ? AND type = 'receipt' ORDER BY id LIMIT ?",
        (po, limit),
    ).fetchall()
    keys = ("id", "station", "hub_ts", "sku", "qty", "location", "lot", "expiry")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def orders_in_status(conn: Connection, statuses: tuple[str, ...]) -> dict[str, int]:
    """How many orders are in each of `statuses` (0 for none)."""
    # Written out (conditions.word): planned without them, the statuses are taken for most
    # of the table, and it is read whole to count a few open orders among the closed ones.
    names = ", ".join(word(status) for status in statuses)
    rows = conn.execute(
        f"SELECT status, count(*) FROM orders WHERE status IN ({names}) GROUP BY status"
    ).fetchall()
    return {**dict.fromkeys(statuses, 0), **dict(rows)}


def packs_since(conn: Connection, since: str, recent: str) -> list[tuple]:
    """(station, operator, shipments since `since`, of them since `recent`, first hub time)
    for each station and packer that shipped since `since`."""
    type_ = dialect(conn, sqlite="+type", postgresql="type")
    return conn.execute(
        "SELECT station, coalesce(json_extract(data, '$.operator'), ''), count(*), "
        "sum(CASE WHEN hub_ts >= ? THEN 1 ELSE 0 END), min(hub_ts) FROM events "
        f"WHERE {_SINCE} AND {type_} = 'shipment' "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        (recent, since, _LAST),
    ).fetchall()


def pos_expected_by(conn: Connection, day: str, limit: int) -> list[dict]:
    """Purchase orders still to arrive (open or receiving, not dropship) expected on or
    before `day`, soonest first, with their ordered and received units."""
    rows = conn.execute(
        "SELECT p.po, p.supplier, p.status, p.expected, "
        "(SELECT sum(qty) FROM po_lines l WHERE l.po = p.po), "
        "(SELECT sum(received) FROM po_lines l WHERE l.po = p.po) "
        "FROM purchase_orders p WHERE p.status IN ('open', 'receiving') AND p.dropship = 0 "
        "AND p.expected <= ? ORDER BY p.expected, p.po LIMIT ?",
        (day, limit),
    ).fetchall()
    keys = ("po", "supplier", "status", "expected", "ordered", "received")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def held_summary(conn: Connection) -> tuple[int, str | None, int]:
    """(events held behind a gap, when the oldest of them came, undecided failures)."""
    held, oldest = conn.execute("SELECT count(*), min(received) FROM pending").fetchone()
    failed = conn.execute(
        "SELECT count(*) FROM event_failures WHERE decided IS NULL"
    ).fetchone()[0]
    return held, oldest, failed
