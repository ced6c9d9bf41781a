"""A central hub's API of its sites: each site's link and lag, and stock per site with the
company's total (docs/multi-site.md). A site hub follows no site: its lists are empty."""

from flask import Blueprint, abort, current_app, jsonify, request

from hub.web import db, site_views
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
    return jsonify({"sites": site_views.site_rows(db(), sites(), utc_now())})


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
    stock = site_views.stock_rows(db(), query.site, query.sku, query.limit, query.after)
    paged = query.sku is None and len(stock) == query.limit
    return jsonify({"site": query.site, "stock": stock,
                    "next": {"after": stock[-1]["sku"]} if paged else None})  # fmt: skip
