"""A central hub's Sites page: each site's link and lag, and the company's stock per SKU
with each site's part, filtered to one site on request."""

from flask import Blueprint, abort, current_app, render_template

from hub import store
from hub.central_transfers import transfer_dict
from hub.web import db, site_views
from hub.web.pages import login_gate
from hub.web.params import keyset, text_arg
from protocol.envelope import utc_now

blueprint = Blueprint("site_pages", __name__)
blueprint.before_request(login_gate)


@blueprint.get("/sites")
def sites():
    followed = current_app.config["SITES"]
    site = text_arg("site") or None
    if site is not None and site not in followed:
        abort(404, f"this hub follows no site {site!r}")
    limit, after = keyset()
    return render_template(
        "sites.html", sites=site_views.site_rows(db(), followed, utc_now()), followed=followed,
        site=site, rows=site_views.stock_rows(db(), site, None, limit, after), limit=limit,
        after=after,
        transfers=[transfer_dict(r) for r in store.transfers_unfinished(db(), 100)],
    )  # fmt: skip
