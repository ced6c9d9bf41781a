"""What a central hub shows of its sites, for its API and its page: each site's link and
lag, and stock per SKU with each site's part and the company's total."""

from datetime import datetime

from hub import central_transfers, store
from hub.money import text
from hub.store.connection import Connection


def site_rows(conn: Connection, sites: list[str], now: datetime) -> list[dict]:
    moving = central_transfers.in_transit(conn)
    return [_site_row(conn, link, now, moving) for link in store.site_links(conn)
            if link.site in sites]  # fmt: skip


def company_row(conn: Connection) -> dict:
    """What the company has in transit between its sites (each unit once: the sender's)."""
    return {"in_transit": central_transfers.transit_total(central_transfers.in_transit(conn))}


def _site_row(conn: Connection, link: store.SiteLink, now: datetime,
              moving: list[central_transfers.Moving]) -> dict:  # fmt: skip
    lag_s = 0.0
    if link.behind_since is not None:
        lag_s = max(0.0, (now - datetime.fromisoformat(link.behind_since)).total_seconds())
    return {
        "site": link.site,
        "link": link.link,
        "link_changed": link.link_changed,
        "hub": link.hub_state,
        "applied": link.applied,
        "last_applied": link.last_applied,
        "known": link.known,
        "lag_movements": link.known - link.applied,
        "lag_s": round(lag_s, 1),
        "held": store.site_pending_count(conn, link.site),
        **store.site_feed_counts(conn, link.site),
        "in_transit": central_transfers.transit_of(moving, link.site),
    }


def stock_rows(
    conn: Connection, site: str | None, sku: str | None, limit: int, after: str
) -> list[dict]:
    """Per SKU: the total over the sites (or the one `site`), and each site's part. The
    company's total counts a transfer's units once while the centre has applied one
    site's side of it and not yet the other's (each site's part is its own books)."""
    items: dict[str, dict] = {}
    for row_site, row_sku, qty, value in store.site_stock(conn, site, sku, limit, after):
        item = items.setdefault(row_sku, {"sku": row_sku, "on_hand": 0, "micros": 0,
                                          "sites": []})  # fmt: skip
        item["on_hand"] += qty
        item["micros"] += value
        item["sites"].append({"site": row_site, "on_hand": qty, "value": text(value)})
    if site is None:
        for row_sku, (units, micros) in central_transfers.company_overcount(conn).items():
            if row_sku in items:
                items[row_sku]["on_hand"] -= units
                items[row_sku]["micros"] -= micros
    return [{"sku": i["sku"], "on_hand": i["on_hand"], "value": text(i["micros"]),
             "sites": i["sites"]} for i in items.values()]  # fmt: skip


# The KPIs a site's movements allow, each from its movement types; `sign` turns what left
# the site (negative deltas and values) into positive units and cost.
KPI_TYPES = {
    "received": (("receipt",), 1),
    "shipped": (("shipment",), -1),
    "adjusted": (("adjustment", "count"), 1),
    "returned": (("return",), 1),
}


def kpi_rows(conn: Connection, followed: list[str], which: store.SiteFilter) -> dict:
    """Per site and for the company: units and value received, shipped (its FIFO cost: the
    COGS), adjusted (adjustments and counts, signed: a loss is negative) and returned in the
    period, the movements in it, and the stock on hand now with its value."""
    sites = [which.site] if which.site is not None else followed
    totals: dict[str, dict[str, list[int]]] = {s: {} for s in sites}
    counts = dict.fromkeys(sites, 0)
    for t in store.site_type_totals(conn, which):
        if t.site in totals:
            totals[t.site][t.type] = [t.units, t.value]
            counts[t.site] += t.movements
    stock = {v.site: v for v in store.site_valuations(conn, which.site)}
    rows = [_kpi(site, totals[site], counts[site], stock.get(site)) for site in sites]
    company = _company(rows)
    if which.site is None:  # a transfer's units once, as in stock_rows
        over = central_transfers.company_overcount(conn).values()
        company["on_hand"]["units"] -= sum(units for units, _ in over)
        company["on_hand"]["value"] -= sum(micros for _, micros in over)
    # one SKU at two sites is one SKU of the company: the sites' counts do not add up
    company["on_hand"]["skus"] = store.site_skus_on_hand(conn, sites)
    return {"sites": [_kpi_text(r) for r in rows], "company": _kpi_text(company)}


def _kpi(site: str, by_type: dict[str, list[int]], movements: int,
         stock: store.SiteValuation | None) -> dict:  # fmt: skip
    row: dict = {"site": site, "movements": movements}
    for name, (types, sign) in KPI_TYPES.items():
        row[name] = {"units": sign * sum(by_type.get(t, [0, 0])[0] for t in types),
                     "value": sign * sum(by_type.get(t, [0, 0])[1] for t in types)}  # fmt: skip
    row["on_hand"] = {"skus": stock.skus if stock else 0, "units": stock.units if stock else 0,
                      "value": stock.value if stock else 0}  # fmt: skip
    return row


def _company(rows: list[dict]) -> dict:
    total: dict = {"site": None, "movements": sum(r["movements"] for r in rows)}
    for name in (*KPI_TYPES, "on_hand"):
        total[name] = {k: sum(r[name][k] for r in rows) for k in ("units", "value")}
    return total


def _kpi_text(row: dict) -> dict:
    """Money as decimal text, as everywhere in the API."""
    return {key: ({**v, "value": text(v["value"])} if isinstance(v, dict) else v)
            for key, v in row.items()}  # fmt: skip


def movement_rows(conn: Connection, which: store.SiteFilter, limit: int,
                  before: int | None) -> list[dict]:  # fmt: skip
    return [{"id": m.id, "site": m.site, "ledger_seq": m.ledger_seq, "type": m.type,
             "sku": m.sku, "location": m.location, "lot": m.lot or None, "owner": m.owner or None,
             "delta": m.delta, "value": text(m.value), "ts": m.ts or None}
            for m in store.site_movements_list(conn, which, limit, before)]  # fmt: skip
