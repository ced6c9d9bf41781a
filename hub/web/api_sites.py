"""A central hub's API of its sites: each site's link and lag, and stock per site with the
company's total (docs/multi-site.md). A site hub answers for its own site only."""

from datetime import datetime

from flask import Blueprint, abort, current_app, jsonify, request

from hub import store
from hub.money import text
from hub.web import db
from hub.web.api_calls import answer_http_errors_as_json
from hub.web.api_params import KeysetQuery
from hub.web.auth import require_token
from hub.web.contract import contract
from protocol.envelope import utc_now
from protocol.types import Code, SiteId

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
    when, by the centre's clock), stations online and open alerts. Empty on a site hub."""
    now = utc_now()
    rows = [_site_row(db(), link, now) for link in store.site_links(db())
            if link.site in sites()]  # fmt: skip
    return jsonify({"sites": rows})


def _site_row(conn, link: store.SiteLink, now: datetime) -> dict:
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
    }


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
    if query.site is not None and query.site not in sites():
        abort(404, f"this hub follows no site {query.site!r} (its sites: "
                   f"{', '.join(sites()) or 'none: it is a site hub'})")  # fmt: skip
    items: dict[str, dict] = {}
    for site, sku, qty, value in store.site_stock(db(), query.site, query.sku, query.limit,
                                                 query.after):  # fmt: skip
        item = items.setdefault(sku, {"sku": sku, "on_hand": 0, "value_micros": 0, "sites": []})
        item["on_hand"] += qty
        item["value_micros"] += value
        item["sites"].append({"site": site, "on_hand": qty, "value": text(value)})
    stock = [{"sku": i["sku"], "on_hand": i["on_hand"], "value": text(i["value_micros"]),
              "sites": i["sites"]} for i in items.values()]  # fmt: skip
    paged = query.sku is None and len(stock) == query.limit
    return jsonify({"site": query.site, "stock": stock,
                    "next": {"after": stock[-1]["sku"]} if paged else None})  # fmt: skip
