"""Reports, as rows of plain values (the API renders them as JSON or CSV).

Each report reads balances, cost layers and the per-day aggregates, a page at a time;
none sums the movement ledger. Every field is described in docs/inventory.md.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from hub import picking, planning, sales, store
from hub.money import text
from hub.settings import Settings
from hub.settings import load as load_settings
from hub.store.connection import Connection
from protocol.envelope import utc_now


@dataclass(frozen=True)
class Query:
    today: date
    limit: int = 100
    offset: int = 0
    since: date | None = None  # kpis: first day of the period (default: 30 days)
    until: date | None = None  # kpis: last day (default: today)
    sku: str | None = None
    location: str | None = None
    owner: str | None = None  # '' for our own stock
    after: str = ""  # reorder: continue after this sku
    all: bool = False  # reorder: every product, not only those due; alerts: cleared too
    kind: str | None = None  # alerts: one kind


@dataclass
class Report:
    name: str
    columns: list[str]
    rows: list[dict] = field(default_factory=list)
    next: dict | None = None  # the query arguments of the next page, if there is one
    summary: dict = field(default_factory=dict)


def _paged(query: Query, rows: list) -> dict | None:
    return {"offset": query.offset + query.limit} if len(rows) == query.limit else None


def stock(conn: Connection, q: Query) -> Report:
    columns = ["sku", "location", "lot", "owner", "qty", "expiry", "value"]
    rows = store.stock_page(conn, q.sku, q.location, q.owner, q.limit, q.offset)
    report = Report("stock", columns, next=_paged(q, rows))
    for sku, location, lot, owner, qty, expiry, value in rows:
        report.rows.append({"sku": sku, "location": location, "lot": lot, "owner": owner,
                            "qty": qty, "expiry": expiry,
                            "value": text(value) if not owner else None})  # fmt: skip
    return report


def valuation(conn: Connection, q: Query) -> Report:
    columns = ["sku", "own_qty", "consigned_qty", "value", "unit_cost"]
    rows = store.valuation_page(conn, q.limit, q.offset)
    report = Report("valuation", columns, next=_paged(q, rows),
                    summary={"total_value": text(store.value_total(conn))})  # fmt: skip
    for sku, own, consigned, value in rows:
        unit = text(round(value / own)) if own > 0 else None
        report.rows.append({"sku": sku, "own_qty": own, "consigned_qty": consigned,
                            "value": text(value), "unit_cost": unit})  # fmt: skip
    return report


def reorder(conn: Connection, q: Query) -> Report:
    settings = load_settings(conn)
    computed = _stored(conn, "reorder", q, planning.reorder_params(settings))
    if computed:
        plans, cursor = planning.stored_reorder_page(conn, q.today, q.after, q.limit, not q.all)
    else:
        plans, cursor = planning.reorder_page(conn, q.today, settings, q.after, q.limit,
                                              not q.all)  # fmt: skip
    columns = [f for f in planning.Plan.__dataclass_fields__]
    report = Report("reorder", columns, next={"after": cursor} if cursor else None,
                    summary={"computed": computed or _now()})  # fmt: skip
    for row in plans:
        values = row.as_dict()
        values["unit_cost"] = text(values["unit_cost"])
        report.rows.append(values)
    return report


def abc(conn: Connection, q: Query) -> Report:
    if store.abc_computed(conn) is None:
        with store.transaction(conn):
            planning.refresh_abc(conn, q.today, q.today.isoformat())
    rows = store.abc_page(conn, q.limit, q.offset)
    report = Report(
        "abc",
        ["rank", "sku", "class", "annual_value", "cumulative_share"],
        next=_paged(q, rows),
        summary={"computed": store.abc_computed(conn)},
    )
    for rank, sku, cls, value, share in rows:
        report.rows.append({"rank": rank, "sku": sku, "class": cls, "annual_value": text(value),
                            "cumulative_share": round(share, 4)})  # fmt: skip
    return report


def dead_stock(conn: Connection, q: Query) -> Report:
    days = load_settings(conn).dead_stock_days
    computed = _stored(conn, "dead-stock", q, _dead_stock_params(days))
    if computed:
        rows = store.dead_stock_stored(conn, q.limit, q.offset)
    else:
        rows = store.dead_stock_page(conn, dead_before(q.today, days), q.limit, q.offset)
    report = Report("dead-stock", ["sku", "on_hand", "last_outbound"], next=_paged(q, rows),
                    summary={"days": days, "computed": computed or _now()})  # fmt: skip
    report.rows = [{"sku": s, "on_hand": n, "last_outbound": d} for s, n, d in rows]
    return report


def dead_before(today: date, days: int) -> str:
    """The day from which an outbound keeps a product off the dead-stock list."""
    return (today - timedelta(days=days)).isoformat()


def is_dead(on_hand: int, last_outbound: str | None, before: str) -> bool:
    """In stock and not shipped since `before`: the same test as store.dead_stock_page's
    SQL, for figures the centre adds up."""
    return on_hand > 0 and (last_outbound is None or last_outbound < before)


def surplus_since(today: date, window: int) -> str:
    """The first day of the demand window a surplus is measured over."""
    return (today - timedelta(days=window - 1)).isoformat()


def surplus(conn: Connection, q: Query) -> Report:
    settings = load_settings(conn)
    window, days = settings.demand_window_days, settings.surplus_days
    computed = _stored(conn, "surplus", q, _surplus_params(window, days))
    if computed:
        rows = store.surplus_stored(conn, q.limit, q.offset)
    else:
        rows = store.surplus_page(conn, surplus_since(q.today, window), window, days, q.limit,
                                  q.offset)  # fmt: skip
    columns = ["sku", "on_hand", "daily_demand", "days_of_supply", "surplus_qty"]
    report = Report("surplus", columns, next=_paged(q, rows),
                    summary={"days": days, "window_days": window,
                             "computed": computed or _now()})  # fmt: skip
    report.rows = [surplus_line(sku, on_hand, shipped, window, days)
                   for sku, on_hand, shipped in rows]  # fmt: skip
    return report


def is_surplus(on_hand: int, shipped: int, window: int, days: int) -> bool:
    """Stock beyond `days` of supply at the window's mean demand (none shipped: all of it);
    the same test as the SQL of store.surplus_page, for figures the centre adds up."""
    return on_hand > 0 and (shipped <= 0 or on_hand * window > days * shipped)


def surplus_line(sku: str, on_hand: int, shipped: int, window: int, days: int) -> dict:
    """A surplus row: `shipped` units over the `window` days make the daily demand; what
    `days` of it would use is kept, the rest is surplus."""
    daily = shipped / window
    supply = round(on_hand / daily, 1) if daily > 0 else None
    keep = int(daily * days)
    return {"sku": sku, "on_hand": on_hand, "daily_demand": round(daily, 4),
            "days_of_supply": supply, "surplus_qty": on_hand - keep}  # fmt: skip


# --- the stored reports ---------------------------------------------------------------------
# Dead stock, surplus and reorder group every balance (or plan every product): at 100,000
# products that is seconds, so the housekeeping stores their rows once a day (`refresh`)
# and a page reads them. Stored rows answer only for the day and settings they were
# computed with; any other query (a fresh hub, `today=` another day, changed settings) is
# computed from the ledger, as before, and says it was computed now.
def _stored(conn: Connection, name: str, q: Query, params: str) -> str | None:
    """When the stored rows of report `name` were computed, if they answer `q`; else None."""
    run = store.report_run(conn, name)
    if run is None:
        return None
    day, computed, stored_params = run
    return computed if day == q.today.isoformat() and stored_params == params else None


def _now() -> str:
    return utc_now().isoformat()


def _dead_stock_params(days: int) -> str:
    return json.dumps({"dead_stock_days": days})


def _surplus_params(window: int, days: int) -> str:
    return json.dumps({"demand_window_days": window, "surplus_days": days}, sort_keys=True)


def _dead_stock_rows(conn: Connection, today: date, settings: Settings) -> list[tuple]:
    return store.dead_stock_all(conn, dead_before(today, settings.dead_stock_days))


def _surplus_rows(conn: Connection, today: date, settings: Settings) -> list[tuple]:
    window = settings.demand_window_days
    return store.surplus_all(conn, surplus_since(today, window), window, settings.surplus_days)


@dataclass(frozen=True)
class StoredReport:
    """A report whose rows the housekeeping computes once a day and stores
    (hub.daily_refresh); its page reads them while they answer its query."""

    params: Callable[[Settings], str]  # the settings the rows answer for
    rows: Callable[[Connection, date, Settings], list[tuple]]  # every row, computed
    replace: Callable[[Connection, list[tuple]], None]  # stored in place of the last ones


STORED: dict[str, StoredReport] = {
    "dead-stock": StoredReport(lambda s: _dead_stock_params(s.dead_stock_days),
                               _dead_stock_rows, store.dead_stock_replace),  # fmt: skip
    "surplus": StoredReport(lambda s: _surplus_params(s.demand_window_days, s.surplus_days),
                            _surplus_rows, store.surplus_replace),  # fmt: skip
    "reorder": StoredReport(planning.reorder_params, planning.reorder_rows,
                            store.reorder_plans_replace),  # fmt: skip
}


def kpis(conn: Connection, q: Query) -> Report:
    until = q.until or q.today
    since = q.since or until - timedelta(days=29)
    days = store.daily_totals(conn, since.isoformat(), until.isoformat())
    sums = {key: sum(d[key] for d in days) for key in days[0] if key != "day"} if days else {}
    get = sums.get
    average_value = _average_value(conn, since, until)
    period = (until - since).days + 1
    cogs = get("cogs", 0)
    rows = [
        ("cogs", "", text(cogs)),
        ("average_inventory_value", "", text(round(average_value))),
        ("inventory_turnover", "", _ratio(cogs, average_value)),
        ("days_on_hand", "", _ratio(average_value * period, cogs)),
        ("fill_rate", "", _ratio(get("units_shipped", 0), get("units_ordered", 0))),
        ("orders_closed", "", get("orders_closed", 0)),
        ("order_cycle_hours", "", _ratio(get("order_hours", 0), get("orders_closed", 0))),
        ("count_accuracy", "", _ratio(get("counts_exact", 0), get("counts", 0))),
        ("receiving_accuracy", "", _ratio(get("po_lines_exact", 0), get("po_lines", 0))),
    ]
    rows += _scans(conn, since.isoformat(), until.isoformat())
    rows += picking.kpi_rows(conn, since.isoformat(), until.isoformat())
    rows += sales.kpi_rows(conn, since.isoformat(), until.isoformat())
    rows += _returns_kpis(conn, since.isoformat(), until.isoformat(), get("units_shipped", 0))
    for owner, units, owed in store.consignment_totals(conn, since.isoformat(),
                                                      until.isoformat()):  # fmt: skip
        rows.append(("consignment_owed", f"owner:{owner}", text(owed)))
        rows.append(("consignment_units_sold", f"owner:{owner}", units))
    report = Report(
        "kpis",
        ["kpi", "scope", "value"],
        summary={"since": since.isoformat(), "until": until.isoformat()},
    )
    report.rows = [{"kpi": k, "scope": s, "value": v} for k, s, v in rows]
    return report


def margins(conn: Connection, q: Query) -> Report:
    """Revenue, COGS, dropship cost and margin per sku over the period (the KPIs' margin
    figures per sku), in sku order, a page at a time (`after`)."""
    since, until = _period(q)
    rows, cursor = sales.margin_page(conn, since, until, q.after, q.limit)
    return Report("margins", sales.MARGIN_COLUMNS, rows=rows,
                  next={"after": cursor} if cursor else None,
                  summary={"since": since, "until": until})  # fmt: skip


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _average_value(conn: Connection, since: date, until: date) -> float:
    """Mean of each day's closing FIFO value: today's value less the changes after that day."""
    later = store.daily_totals(conn, since.isoformat(), "9999-12-31")
    value_now = store.value_total(conn)
    after = {d["day"]: d["value_delta"] for d in later}
    closing = []
    running = value_now - sum(v for day, v in after.items() if day > until.isoformat())
    day = until
    while day >= since:
        closing.append(running)
        running -= after.get(day.isoformat(), 0)
        day -= timedelta(days=1)
    return sum(closing) / len(closing)


def _scans(conn: Connection, since: str, until: str) -> list[tuple]:
    """Every scan of every mode, verdicts and prompts alike (pick accuracy: hub.picking)."""
    total = sum(scans for _station, scans, _errors in store.scan_totals(conn, since, until,
                                                                        "station"))  # fmt: skip
    return [("scans", "", total)]


def alerts(conn: Connection, q: Query) -> Report:
    rows = store.alerts_page(conn, not q.all, q.kind, q.limit, q.offset)
    columns = ["id", "kind", "severity", "message", "sku", "station", "ts", "cleared"]
    return Report("alerts", columns, rows=rows, next=_paged(q, rows))


# --- returns (hub/returns.py) ----------------------------------------------------------------
def _period(q: Query) -> tuple[str, str]:
    until = q.until or q.today
    return (q.since or until - timedelta(days=29)).isoformat(), until.isoformat()


def returns(conn: Connection, q: Query) -> Report:
    """Return rate per SKU and reason: units back ÷ units shipped in the period."""
    since, until = _period(q)
    shipped = store.units_out_by_sku(conn, since, until)
    columns = ["sku", "reason", "condition", "returned", "shipped", "return_rate", "value"]
    report = Report("returns", columns, summary={"since": since, "until": until})
    for sku, reason, condition, qty, value in store.return_rate_rows(conn, since, until):
        report.rows.append({"sku": sku, "reason": reason, "condition": condition,
                            "returned": qty, "shipped": shipped.get(sku, 0),
                            "return_rate": _ratio(qty, shipped.get(sku, 0)),
                            "value": text(value)})  # fmt: skip
    return report


def quarantine(conn: Connection, q: Query) -> Report:
    """Stock held in quarantine locations (on hand, not available to orders)."""
    rows = store.quarantine_lines(conn, q.limit, q.offset)
    columns = ["location", "sku", "lot", "owner", "qty"]
    report = Report("quarantine", columns, next=_paged(q, rows))
    report.rows = [dict(zip(columns, row, strict=True)) for row in rows]
    return report


def _returns_kpis(conn: Connection, since: str, until: str, shipped: int) -> list:
    rows = store.return_rate_rows(conn, since, until)
    units = sum(r[3] for r in rows)
    written_off = sum(r[4] for r in rows if r[2] == "scrap")
    return [("units_returned", "", units), ("return_rate", "", _ratio(units, shipped)),
            ("returns_written_off", "", text(written_off))]  # fmt: skip


REPORTS: dict[str, Callable[[Connection, Query], Report]] = {
    "stock": stock,
    "valuation": valuation,
    "reorder": reorder,
    "abc": abc,
    "dead-stock": dead_stock,
    "surplus": surplus,
    "kpis": kpis,
    "margins": margins,
    "alerts": alerts,
    "returns": returns,
    "quarantine": quarantine,
}
