"""What a central hub reports of its sites from their replayed movements and balances:
movement lists, totals per site and movement type over a period, valuation per site.

Plain SQL that SQLite and PostgreSQL both accept. Filters are added as conditions, never
`? IS NULL OR ...`: PostgreSQL cannot type a NULL parameter.
"""

from dataclasses import dataclass

from hub.store.connection import Connection


@dataclass(frozen=True)
class SiteMovementRow:
    id: int  # the centre's row id: what `before` pages back from
    site: str
    ledger_seq: int
    type: str
    sku: str
    location: str
    lot: str
    owner: str
    delta: int
    value: int  # micros
    ts: str  # the site hub's clock


@dataclass(frozen=True)
class SiteTypeTotal:
    site: str
    type: str
    movements: int
    units: int  # the sum of the deltas (negative for what left)
    value: int  # micros, the sum of the value changes


@dataclass(frozen=True)
class SiteValuation:
    site: str
    skus: int  # SKUs with stock on hand
    units: int  # on hand, our own and consigned
    value: int  # micros, our own stock's FIFO value


@dataclass(frozen=True)
class SiteFilter:
    """Which movements: one site, one SKU, one type, from day `since` (site hub's UTC
    day) to day `until` inclusive; None is any."""

    site: str | None = None
    sku: str | None = None
    type: str | None = None
    since: str | None = None  # YYYY-MM-DD
    until: str | None = None  # YYYY-MM-DD, inclusive: ts below the next day

    def where(self) -> tuple[str, list]:
        conditions, params = ["1 = 1"], []
        for column, value in (("site", self.site), ("sku", self.sku), ("type", self.type)):
            if value is not None:
                conditions.append(f"{column} = ?")
                params.append(value)
        if self.since is not None:
            conditions.append("ts >= ?")
            params.append(self.since)
        if self.until is not None:
            # ts is RFC 3339 text: every instant of day `until` sorts below `until` + "U"
            conditions.append("ts < ?")
            params.append(self.until + "U")
        return " AND ".join(conditions), params


_ROW = "id, site, ledger_seq, type, sku, location, lot, owner, delta, value, ts"


def site_movements_list(
    conn: Connection, which: SiteFilter, limit: int, before: int | None
) -> list[SiteMovementRow]:
    """The sites' movements as the centre applied them, newest first."""
    condition, params = which.where()
    if before is not None:
        condition += " AND id < ?"
        params.append(before)
    rows = conn.execute(
        f"SELECT {_ROW} FROM site_movements WHERE {condition} ORDER BY id DESC LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [SiteMovementRow(*row) for row in rows]


def site_type_totals(conn: Connection, which: SiteFilter) -> list[SiteTypeTotal]:
    """Per site and movement type: how many movements, units and value."""
    condition, params = which.where()
    rows = conn.execute(
        "SELECT site, type, count(*), sum(delta), sum(value) FROM site_movements "
        f"WHERE {condition} GROUP BY site, type ORDER BY site, type",
        params,
    ).fetchall()
    return [SiteTypeTotal(*row) for row in rows]


def site_valuations(conn: Connection, site: str | None) -> list[SiteValuation]:
    """Per site: SKUs on hand, units and our own stock's value, from its balance lines."""
    condition, params = ("site = ?", [site]) if site is not None else ("1 = 1", [])
    rows = conn.execute(
        "SELECT site, count(DISTINCT CASE WHEN qty > 0 THEN sku END), sum(qty), sum(value) "
        f"FROM site_balances WHERE {condition} GROUP BY site ORDER BY site",
        params,
    ).fetchall()
    return [SiteValuation(*row) for row in rows]


def site_skus_on_hand(conn: Connection, sites: list[str]) -> int:
    """SKUs with stock on hand at any of `sites` (one SKU at two sites counts once)."""
    if not sites:
        return 0
    marks = ", ".join("?" for _ in sites)
    return conn.execute(
        "SELECT count(*) FROM (SELECT sku FROM site_balances WHERE site IN "
        f"({marks}) GROUP BY sku HAVING sum(qty) > 0) AS held",
        sites,
    ).fetchone()[0]


def site_daily_shipped(conn: Connection, since: str) -> list[tuple[str, str, str, int]]:
    """(site, sku, day, units shipped) per site hub's UTC day from `since` (YYYY-MM-DD)."""
    return conn.execute(
        "SELECT site, sku, substr(ts, 1, 10) AS day, -sum(delta) FROM site_movements "
        "WHERE type = 'shipment' AND ts >= ? GROUP BY site, sku, substr(ts, 1, 10)",
        (since,),
    ).fetchall()


def site_sku_on_hand(conn: Connection) -> list[tuple[str, str, int]]:
    """(site, sku, on hand) of every SKU with a balance line at a site."""
    return conn.execute(
        "SELECT site, sku, sum(qty) FROM site_balances GROUP BY site, sku ORDER BY sku, site"
    ).fetchall()


# --- the central hub's reports (hub/company_reports.py) -----------------------------------
@dataclass(frozen=True)
class SiteSkuValue:
    """One SKU at one site, from its balance lines: our own and consigned units, the part
    in its transit locations (what it shipped to another site: still its own), and values."""

    site: str
    sku: str
    own_qty: int
    consigned_qty: int
    transit_qty: int
    value: int  # micros, our own stock's FIFO value (transit included)
    transit_value: int  # micros
    lines: int  # balance lines with a quantity: a SKU all at zero is not valued


def site_sku_values(conn: Connection, site: str | None) -> list[SiteSkuValue]:
    """Per site and SKU with a balance line (of `site`, or every site), in SKU order. A
    transit location is `transit-{transfer}` (hub.transfers.transit_location)."""
    condition, params = ("site = ?", [site]) if site is not None else ("1 = 1", [])
    rows = conn.execute(
        "SELECT site, sku, sum(CASE WHEN owner = '' THEN qty ELSE 0 END), "
        "sum(CASE WHEN owner != '' THEN qty ELSE 0 END), "
        "sum(CASE WHEN location LIKE 'transit-%' THEN qty ELSE 0 END), sum(value), "
        "sum(CASE WHEN location LIKE 'transit-%' THEN value ELSE 0 END), "
        "sum(CASE WHEN qty != 0 THEN 1 ELSE 0 END) "
        f"FROM site_balances WHERE {condition} GROUP BY site, sku ORDER BY sku, site",
        params,
    ).fetchall()
    return [SiteSkuValue(*row) for row in rows]


def site_shipped_values(conn: Connection, since: str, site: str | None) -> list[tuple[str, str, int]]:
    """(site, sku, cost of what shipped since day `since`, micros): the FIFO value that
    left with the shipments, the COGS. A transfer's shipment moves its units to transit
    in the same event (-value, +value), so it adds nothing."""
    condition, params = "type = 'shipment' AND ts >= ?", [since]
    if site is not None:
        condition += " AND site = ?"
        params.append(site)
    return conn.execute(
        f"SELECT site, sku, -sum(value) FROM site_movements WHERE {condition} "
        "GROUP BY site, sku ORDER BY site, sku",
        params,
    ).fetchall()


def site_alerts(conn: Connection, site: str | None) -> list[tuple[str, str]]:
    """(site, payload) of every alert a site raised and has not cleared, as its last
    message on `alerts` said (one per alert id: hub.central keeps the latest)."""
    condition, params = "key LIKE 'alert/%' AND state = 'raised'", []
    if site is not None:
        condition += " AND site = ?"
        params.append(site)
    return conn.execute(
        f"SELECT site, payload FROM site_feeds WHERE {condition} ORDER BY site, key", params
    ).fetchall()
