"""A central hub's reports of its sites (docs/multi-site.md): valuation, ABC, dead stock,
surplus and open alerts, each for one site or for the company (every site it follows).

They are made from what the centre has of a site: its movements as replayed (type, SKU,
delta, FIFO value change, the site hub's time), the balances they made, and the alerts it
sent. The definitions and the settings are the site hub's own (hub/reports.py,
hub/planning.py): the same tests decide what is dead or surplus and the same classifier
makes the ABC classes, on the centre's Settings. A site's figures are its own books as
replayed: a site that shipped a transfer holds its units in transit until its book-out.
The company counts a transfer's units once (hub.central_transfers.company_overcount),
wherever the two sites' replays stand.

A site hub's day is its own zone's; the centre counts a movement on the UTC day of the
site hub's time, as its KPIs do. Unlike the site hub, nothing is stored: each report is
computed when asked, from grouped reads.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from hub import central_transfers, planning, reports, store
from hub.money import text
from hub.reports import Report
from hub.settings import load as load_settings
from hub.store.connection import Connection
from protocol.envelope import InvalidMessage, decode_message, utc_now
from protocol.messages import Alert


@dataclass(frozen=True)
class CompanyQuery:
    today: date
    site: str | None = None  # None: the company (every site followed)
    limit: int = 100
    offset: int = 0
    kind: str | None = None  # alerts: one kind


def _page(name: str, columns: list[str], rows: list[dict], q: CompanyQuery,
          summary: dict) -> Report:  # fmt: skip
    """The rows of one page; `next` while more follow."""
    end = q.offset + q.limit
    return Report(name, columns, rows[q.offset:end],
                  next={"offset": end} if len(rows) > end else None, summary=summary)  # fmt: skip


def _per_site(sites: list[str], q: CompanyQuery, column: str) -> list[str]:
    """The company's columns of each site's part (`value_s1`...); none for one site."""
    return [f"{column}_{s}" for s in sites] if q.site is None else []


def _scope(sites: list[str], q: CompanyQuery) -> list[str]:
    return [q.site] if q.site is not None else sites


def _overcount(conn: Connection, q: CompanyQuery) -> dict[str, tuple[int, int]]:
    """Per SKU, what the sum of the sites counts twice (or not at all) of the transfers
    between them; nothing for one site, whose part is its own books."""
    return central_transfers.company_overcount(conn) if q.site is None else {}


# --- valuation ----------------------------------------------------------------------------
VALUATION = ["sku", "own_qty", "consigned_qty", "in_transit_qty", "value", "in_transit_value",
             "unit_cost"]  # fmt: skip


def valuation(conn: Connection, sites: list[str], q: CompanyQuery) -> Report:
    """Per SKU: our own and consigned units, the part of them in transit to another site,
    and our own stock's FIFO value, at one site or for the company with each site's value."""
    scope = _scope(sites, q)
    by_sku: dict[str, dict] = {}
    for line in store.site_sku_values(conn, q.site):
        if line.site not in scope:
            continue
        item = by_sku.setdefault(line.sku, {"sku": line.sku, "own_qty": 0, "consigned_qty": 0,
                                            "in_transit_qty": 0, "value": 0,
                                            "in_transit_value": 0, "lines": 0,
                                            "sites": {}})  # fmt: skip
        for key, amount in (("own_qty", line.own_qty), ("consigned_qty", line.consigned_qty),
                            ("in_transit_qty", line.transit_qty), ("value", line.value),
                            ("in_transit_value", line.transit_value),
                            ("lines", line.lines)):  # fmt: skip
            item[key] += amount
        item["sites"][line.site] = line.value
    for sku, (units, micros) in _overcount(conn, q).items():
        if sku in by_sku:  # counted at both sites (or neither) while it travels: once
            for key, amount in (("own_qty", units), ("in_transit_qty", units),
                                ("value", micros), ("in_transit_value", micros)):  # fmt: skip
                by_sku[sku][key] -= amount
    items = [i for i in by_sku.values() if i["lines"]]
    rows = [_valuation_row(i, sites, q) for i in items]
    summary = {"total_value": text(sum(i["value"] for i in items)),
               "in_transit_units": sum(i["in_transit_qty"] for i in items),
               "in_transit_value": text(sum(i["in_transit_value"] for i in items))}  # fmt: skip
    if q.site is not None:  # what other sites shipped to it: theirs until it receives them
        coming = central_transfers.transit_of(central_transfers.in_transit(conn), q.site)["in"]
        summary |= {"coming_in_units": coming["units"], "coming_in_value": coming["value"]}
    return _page("valuation", VALUATION + _per_site(sites, q, "value"), rows, q, summary)


def _valuation_row(item: dict, sites: list[str], q: CompanyQuery) -> dict:
    own, value = item["own_qty"], item["value"]
    row = {"sku": item["sku"], "own_qty": own, "consigned_qty": item["consigned_qty"],
           "in_transit_qty": item["in_transit_qty"], "value": text(value),
           "in_transit_value": text(item["in_transit_value"]),
           "unit_cost": text(round(value / own)) if own > 0 else None}  # fmt: skip
    if q.site is None:
        for site in sites:
            part = item["sites"].get(site)
            row[f"value_{site}"] = text(part) if part is not None else None
    return row


# --- ABC ----------------------------------------------------------------------------------
ABC = ["rank", "sku", "class", "annual_value", "cumulative_share"]


def abc(conn: Connection, sites: list[str], q: CompanyQuery) -> Report:
    """Classes by the cost of what shipped in the last year (the COGS), the largest first:
    the company's from every site's shipments, with each site's own class beside it; or
    one site's. Every SKU a site has a balance line of is classed (C without shipments)."""
    settings = load_settings(conn)
    since = planning.abc_since(q.today)
    values: dict[str, dict[str, int]] = defaultdict(dict)  # site -> sku -> COGS
    for site, sku, _qty in store.site_sku_on_hand(conn):
        values[site].setdefault(sku, 0)
    for site, sku, cogs in store.site_shipped_values(conn, since, q.site):
        values[site][sku] = cogs
    scope = _scope(sites, q)
    total: dict[str, int] = defaultdict(int)
    for site in scope:
        for sku, cogs in values[site].items():
            total[sku] += cogs
    classes = {site: _classify_by_sku(values[site], settings) for site in sites
               if q.site is None}  # fmt: skip
    rows = []
    for rank, (sku, cls, value, share) in enumerate(_classify(total, settings), start=1):
        row = {"rank": rank, "sku": sku, "class": cls, "annual_value": text(value),
               "cumulative_share": round(share, 4)}  # fmt: skip
        for site, found in classes.items():
            row[f"class_{site}"] = found[sku][0] if sku in found else None
        rows.append(row)
    return _page("abc", ABC + _per_site(sites, q, "class"), rows, q,
                 {"since": since, "computed": utc_now().isoformat()})  # fmt: skip


def _classify(values: dict[str, int], settings) -> list[tuple]:
    ordered = sorted(values.items(), key=lambda item: (-item[1], item[0]))
    return planning.classify(ordered, settings.abc_a_share, settings.abc_b_share)


def _classify_by_sku(values: dict[str, int], settings) -> dict[str, tuple]:
    return {sku: (cls, value) for sku, cls, value, _share in _classify(values, settings)}


# --- dead stock and surplus ---------------------------------------------------------------
def _on_hand(conn: Connection, sites: list[str], q: CompanyQuery,
             ) -> dict[str, dict[str, int]]:  # fmt: skip
    """sku -> site -> units on hand (our own and consigned, every location, as a site hub's
    reports count them)."""
    scope = _scope(sites, q)
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for site, sku, qty in store.site_sku_on_hand(conn):
        if site in scope:
            found[sku][site] = qty
    return found


def _shipped_days(conn: Connection, since: str) -> list[tuple[str, str, str, int]]:
    """(site, sku, day, units shipped) of the days a SKU shipped on net: a transfer's
    shipment puts its units in transit in the same event, so it ships nothing here, as at
    the site hub, where it is no sale."""
    return [(site, sku, day, units) for site, sku, day, units
            in store.site_daily_shipped(conn, since) if units > 0 and day]  # fmt: skip


def _company_units(parts: dict[str, int], sku: str, over: dict) -> int:
    return sum(parts.values()) - over.get(sku, (0, 0))[0]


def dead_stock(conn: Connection, sites: list[str], q: CompanyQuery) -> Report:
    """SKUs in stock that have not shipped in `dead_stock_days`: at one site, or in the
    company (shipped at no site), with each site's units."""
    days = load_settings(conn).dead_stock_days
    before = reports.dead_before(q.today, days)
    last: dict[str, dict[str, str]] = defaultdict(dict)  # sku -> site -> last day shipped
    for site, sku, day, _units in _shipped_days(conn, ""):
        last[sku][site] = max(day, last[sku].get(site, day))
    over, rows, scope = _overcount(conn, q), [], _scope(sites, q)
    for sku, parts in sorted(_on_hand(conn, sites, q).items()):
        on_hand = _company_units(parts, sku, over)
        shipped = [day for site, day in last[sku].items() if site in scope]
        last_out = max(shipped, default=None)
        if reports.is_dead(on_hand, last_out, before):
            row = {"sku": sku, "on_hand": on_hand, "last_outbound": last_out}
            rows.append(row | _parts(parts, sites, q))
    return _page("dead-stock", ["sku", "on_hand", "last_outbound", *_per_site(sites, q, "on_hand")],
                 rows, q, {"days": days, "computed": utc_now().isoformat()})  # fmt: skip


def _parts(parts: dict[str, int], sites: list[str], q: CompanyQuery) -> dict:
    return {f"on_hand_{s}": parts.get(s, 0) for s in sites} if q.site is None else {}


def surplus(conn: Connection, sites: list[str], q: CompanyQuery) -> Report:
    """Stock beyond `surplus_days` of supply at the mean daily demand of the last
    `demand_window_days`: at one site (its own demand), or in the company (every site's
    demand), with each site's units."""
    settings = load_settings(conn)
    window, days = settings.demand_window_days, settings.surplus_days
    shipped: dict[str, int] = defaultdict(int)
    for site, sku, _day, units in _shipped_days(conn, reports.surplus_since(q.today, window)):
        if site in _scope(sites, q):
            shipped[sku] += units
    over, rows = _overcount(conn, q), []
    for sku, parts in sorted(_on_hand(conn, sites, q).items()):
        on_hand = _company_units(parts, sku, over)
        if reports.is_surplus(on_hand, shipped[sku], window, days):
            line = reports.surplus_line(sku, on_hand, shipped[sku], window, days)
            rows.append(line | _parts(parts, sites, q))
    columns = ["sku", "on_hand", "daily_demand", "days_of_supply", "surplus_qty"]
    return _page("surplus", columns + _per_site(sites, q, "on_hand"), rows, q,
                 {"days": days, "window_days": window,
                  "computed": utc_now().isoformat()})  # fmt: skip


# --- alerts -------------------------------------------------------------------------------
ALERTS = ["site", "id", "kind", "severity", "message", "sku", "station", "ts"]


def alerts(conn: Connection, sites: list[str], q: CompanyQuery) -> Report:
    """The alerts each site has open (raised and not cleared, as its last alert message
    said), newest first; `kind` for one kind."""
    rows, open_at = [], dict.fromkeys(_scope(sites, q), 0)
    for site, payload in store.site_alerts(conn, q.site):
        if site not in open_at:
            continue
        try:
            alert = decode_message(payload.encode(), Alert, "alert")
        except InvalidMessage:
            continue  # hub.central stored only alerts it could decode
        if q.kind is not None and alert.kind != q.kind:
            continue
        open_at[site] += 1
        rows.append({"site": site, "id": alert.id, "kind": alert.kind,
                     "severity": alert.severity, "message": alert.message, "sku": alert.sku,
                     "station": alert.station, "ts": alert.ts.isoformat()})  # fmt: skip
    rows.sort(key=lambda r: (r["ts"], r["site"], r["id"]), reverse=True)
    summary = {"open": len(rows)}
    if q.site is None:
        summary |= {f"open_at_{site}": n for site, n in open_at.items()}
    return _page("alerts", ALERTS, rows, q, summary)


REPORTS: dict[str, Callable[[Connection, list[str], CompanyQuery], Report]] = {
    "valuation": valuation,
    "abc": abc,
    "dead-stock": dead_stock,
    "surplus": surplus,
    "alerts": alerts,
}
