"""A central hub's API of its sites: each site's link and lag, and stock, KPIs and
movements per site with the company's total (docs/multi-site.md). A site hub follows no
site: its lists are empty.

All of it lives under /api/sites, not as `?site=` on /api/stock and the reports: those
are the hub's own ledger (available, committed, orders, prices), which the centre does
not have for a site; what it has of a site is that site's movements replayed."""

from datetime import date
from typing import Annotated, Literal

import msgspec
from flask import Blueprint, abort, current_app, jsonify, request
from msgspec import Meta

from hub import company_reorder, routing, settings, store
from hub.web import db, site_views
from hub.web.api_calls import NotFound, answer_http_errors_as_json, domain_call
from hub.web.api_params import (
    Day,
    KeysetQuery,
    Limit,
    OrderPath,
    PageQuery,
    _Query,
    check_days,
)
from hub.web.auth import require_token
from hub.web.contract import contract
from protocol.envelope import utc_now
from protocol.types import Code, RowId, SiteId

blueprint = Blueprint("api_sites", __name__)
answer_http_errors_as_json(blueprint)


def sites() -> list[str]:
    """The sites this hub follows: none on a site hub."""
    return current_app.config["SITES"]


@blueprint.get("/api/sites")
@require_token
@contract()
def site_list():
    """Each site a central hub follows: its link to the centre (`link`: up or down, from
    the bridge's notification; `hub`: the site hub's own status), the last movement
    applied (`applied`, its ledger_seq), how far behind the centre is (`lag_movements`:
    movements the site is known to have and the centre has not applied; `lag_s`: since
    when, by the centre's clock), stations online, open alerts, and transfers in transit
    (`in_transit.out`: units the site shipped, still its own at their FIFO cost;
    `in_transit.in`: units on their way to it, at the sender's cost). `company.in_transit`:
    all units in transit between the sites, each once. Empty (and no `company`) on a site
    hub."""
    conn = db()
    return jsonify({"sites": site_views.site_rows(conn, sites(), utc_now()),
                    "company": site_views.company_row(conn) if sites() else None})  # fmt: skip


class SiteStockQuery(KeysetQuery):
    site: SiteId | None = None
    sku: Code | None = None


@blueprint.get("/api/sites/stock")
@require_token
@contract(query=SiteStockQuery, errors=(404,))
def site_stock(query: SiteStockQuery):
    """A central hub's stock per SKU: the company's total (`on_hand`, `value` of its own
    FIFO stock) and each site's part (`sites`), as each site's movements made it; `site`
    for one site, `sku` for one SKU, else SKU order, `limit` at a time after `after`."""
    if request.args.get("offset") not in (None, "", "0"):
        abort(400, "this list pages with `after` (the last SKU of the previous page), not "
                   "`offset`")  # fmt: skip
    known_site(query.site)
    stock = site_views.stock_rows(db(), query.site, query.sku, query.limit, query.after)
    paged = query.sku is None and len(stock) == query.limit
    return jsonify({"site": query.site, "stock": stock,
                    "next": {"after": stock[-1]["sku"]} if paged else None})  # fmt: skip


def known_site(site: str | None) -> None:
    if site is not None and site not in sites():
        abort(404, f"this hub follows no site {site!r} (its sites: "
                   f"{', '.join(sites()) or 'none: it is a site hub'})")  # fmt: skip


class SiteKpiQuery(_Query):
    site: SiteId | None = None
    sku: Code | None = None
    since: Day | None = None
    until: Day | None = None

    def __post_init__(self) -> None:
        check_days(since=self.since, until=self.until)

    def filter(self, type_: str | None = None) -> store.SiteFilter:
        return store.SiteFilter(
            self.site, self.sku, type_, self.since.isoformat() if self.since else None,
            self.until.isoformat() if self.until else None,
        )  # fmt: skip


@blueprint.get("/api/sites/kpis")
@require_token
@contract(query=SiteKpiQuery, errors=(404, 422))
def site_kpis(query: SiteKpiQuery):
    """A central hub's KPIs per site and for the company (`company`), from the sites'
    movements between `since` and `until` (days by the site hub's clock, UTC, inclusive):
    units and value `received`, `shipped` (value: the FIFO cost of what shipped, the
    COGS), `adjusted` (adjustments and counts, a loss negative), `returned`, the
    `movements`; and `on_hand` now (SKUs, units, our own stock's value). `site` for one
    site, `sku` for one SKU (then `on_hand` is of all SKUs). Revenue, margin, fill rate and
    pick figures are not here: they need the sites' orders and prices (docs/multi-site.md)."""
    known_site(query.site)
    if query.since and query.until and query.until < query.since:
        abort(422, f"`until` ({query.until}) is before `since` ({query.since})")
    return jsonify({"since": query.since and query.since.isoformat(),
                    "until": query.until and query.until.isoformat(),
                    **site_views.kpi_rows(db(), sites(), query.filter())})  # fmt: skip


class SiteMovementQuery(SiteKpiQuery):
    """Newest first: `before` (a movement's `id`) pages back."""

    type: Code | None = None
    limit: Limit = 50
    before: RowId | None = None


@blueprint.get("/api/sites/movements")
@require_token
@contract(query=SiteMovementQuery, errors=(404,))
def site_movements(query: SiteMovementQuery):
    """A central hub's movements of its sites as it applied them, newest first: `site`,
    `sku`, `type`, `since`/`until` (the site hub's day, UTC) narrow it; `before` (an `id`)
    pages back. Each carries the site's `ledger_seq` and the change of its FIFO value."""
    known_site(query.site)
    rows = site_views.movement_rows(db(), query.filter(query.type), query.limit, query.before)
    full = len(rows) == query.limit
    return jsonify({"movements": rows, "next": {"before": rows[-1]["id"]} if full else None})


RoutedState = Literal["routed", "withdrawing", "rejected", "open", "packing", "packed",
                      "shipped", "short", "cancelled"]  # fmt: skip


class SiteOrderQuery(PageQuery):
    site: SiteId | None = None
    state: RoutedState | None = None


def order_row(o: store.CentralOrder) -> dict:
    lines = msgspec.json.decode(o.payload)["lines"]
    return {"order": o.order_id, "site": o.site, "state": o.state, "reason": o.reason,
            "next_site": o.next_site, "created": o.created, "updated": o.updated,
            "lines": [{"sku": line["sku"], "qty": line["qty"]} for line in lines]}  # fmt: skip


@blueprint.get("/api/sites/orders")
@require_token
@contract(query=SiteOrderQuery, errors=(404,))
def site_orders(query: SiteOrderQuery):
    """The orders a central hub routed, newest first: at which `site`, and their `state`
    there: `routed` (sent, not yet confirmed), the site's own status (open, packing,
    packed, shipped, short, cancelled), `rejected` (the site could not take it: `reason`),
    or `withdrawing` (being moved to `next_site`); `reason` says why it went there.
    `figures`: per site, whether the centre's figures of it are `fresh` (its `link` up,
    nothing it is known to have left to apply), else their age in seconds (`age_s`; null:
    never heard from), to move an order by hand knowing what the stock shown is worth."""
    known_site(query.site)
    rows = store.central_orders_list(db(), query.site, query.state, query.limit, query.offset)
    return jsonify({"orders": [order_row(o) for o in rows], "figures": _figures()})


def _figures() -> list[dict]:
    known = routing.figures(db(), sites(), utc_now().isoformat())
    return [f.as_dict() for f in known.values()]


@blueprint.get("/api/sites/orders/<order_id>")
@require_token
@contract(path=OrderPath, errors=(404,))
def site_order(order_id: str):
    """One routed order: where it is and in what state, and each site's `figures` (as
    GET /api/sites/orders gives them)."""
    found = store.central_order_get(db(), order_id)
    if found is None:
        abort(404, f"the centre has routed no order {order_id}")
    return jsonify({**order_row(found), "figures": _figures()})


class RouteBody(msgspec.Struct, forbid_unknown_fields=True):
    site: SiteId | None = None  # none: by the stock again


@blueprint.post("/api/sites/orders/<order_id>/route")
@require_token
@contract(path=OrderPath, body=RouteBody, errors=(404, 409, 422))
def site_order_route(order_id: str, body: RouteBody):
    """Route an order again: to `site`, or (none) to the site the stock says. One not yet
    picked moves: its site is asked to withdraw it, and it goes on once that site has
    cancelled it (state `withdrawing` meanwhile); 409 once picking has started."""

    def run(conn):
        try:
            record = routing.reroute(conn, order_id, sites(), utc_now().isoformat(),
                                     body.site)  # fmt: skip
        except LookupError as exc:
            raise NotFound(str(exc)) from None
        return order_row(record)

    return domain_call(run)


@blueprint.post("/api/sites/orders/<order_id>/cancel")
@require_token
@contract(path=OrderPath, errors=(404, 409))
def site_order_cancel(order_id: str):
    """Cancel an order routed to a site that nobody has started picking: its site is asked
    to cancel it (state `withdrawing` until it has, then `cancelled`); a rejected one is
    cancelled at once; 409 once picking has started."""

    def run(conn):
        try:
            return order_row(routing.cancel(conn, order_id, utc_now().isoformat()))
        except LookupError as exc:
            raise NotFound(str(exc)) from None

    return domain_call(run)


class CompanyReorderQuery(_Query):
    site: SiteId | None = None
    sku: Code | None = None
    lead_days: Annotated[int, Meta(ge=1, le=3650)] | None = None
    today: Day | None = None

    def __post_init__(self) -> None:
        check_days(today=self.today)


def reorder_rows(query_site: str | None, sku: str | None, lead_days: int | None,
                 today: date | None) -> list[dict]:  # fmt: skip
    rows = company_reorder.suggestions(db(), sites(), today or utc_now().date(),
                                       settings.load(db()), lead_days)  # fmt: skip
    return [r for r in rows if (query_site is None or r["site"] == query_site)
            and (sku is None or r["sku"] == sku)]  # fmt: skip


@blueprint.get("/api/sites/reorder")
@require_token
@contract(query=CompanyReorderQuery, errors=(404,))
def site_reorder(query: CompanyReorderQuery):
    """The company's reorder suggestions: per SKU and site at or below its reorder point
    (from its own shipments over the centre's `demand_window_days`, `lead_days` or the
    centre's `default_lead_time_days`), what it `need`s to reach its `target`, side by
    side the `move`s from sites with surplus (above their own target) that cover it and
    the rest to `buy`. `position` is what the site has and will have: `on_hand` less
    `committed` (the larger of what orders routed there and transfers it sends, not yet
    shipped, still need and what the site's open orders hold) and `quarantined` (in its
    held locations, what it sent in transit too), as its stock messages last said, plus
    `inbound` (on its way to it by transfer: ordered and not shipped, or shipped and not
    yet scanned in at its dock). A site's surplus is of what it has now, not inbound."""
    known_site(query.site)
    return jsonify({"suggestions": reorder_rows(query.site, query.sku, query.lead_days,
                                                query.today)})  # fmt: skip
