"""A central hub's Sites pages: each site's link and lag, the company's stock per SKU with
each site's part, the KPIs per site with the company's total, the sites' movements, and
the orders routed to the sites (moved by hand from there); each filtered to one site on
request."""

from typing import get_args

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from hub import routing, store
from hub.central_transfers import transfer_dict
from hub.web import db, site_views
from hub.web.api_sites import RoutedState, order_row, reorder_rows
from hub.web.auth import page_role
from hub.web.pages import login_gate
from hub.web.params import date_arg, int_arg, keyset, page, text_arg
from protocol.envelope import utc_now

blueprint = Blueprint("site_pages", __name__)
blueprint.before_request(login_gate)


def site_arg(followed: list[str]) -> str | None:
    site = text_arg("site") or None
    if site is not None and site not in followed:
        abort(404, f"this hub follows no site {site!r}")
    return site


def _period() -> tuple[str | None, str | None]:
    since, until = date_arg("since"), date_arg("until")
    if since and until and until < since:
        abort(400, "`until` is before `since`")
    return since and since.isoformat(), until and until.isoformat()


@blueprint.get("/sites")
def sites():
    followed = current_app.config["SITES"]
    site = site_arg(followed)
    since, until = _period()
    limit, after = keyset()
    return render_template(
        "sites.html", sites=site_views.site_rows(db(), followed, utc_now()), followed=followed,
        company=site_views.company_row(db()),
        site=site, rows=site_views.stock_rows(db(), site, None, limit, after), limit=limit,
        after=after, since=since, until=until,
        kpis=site_views.kpi_rows(db(), followed, store.SiteFilter(site, None, None, since,
                                                                  until)),
        transfers=[transfer_dict(r) for r in store.transfers_unfinished(db(), 100)],
    )  # fmt: skip


@blueprint.get("/sites/movements")
def movements():
    followed = current_app.config["SITES"]
    which = store.SiteFilter(site_arg(followed), text_arg("sku") or None,
                             text_arg("type") or None, *_period())  # fmt: skip
    before = int_arg("before", 0, 0, 2**62) or None
    limit = int_arg("limit", 50, 1, 500)
    return render_template(
        "site_movements.html", followed=followed, which=which, limit=limit,
        rows=site_views.movement_rows(db(), which, limit, before),
    )  # fmt: skip


@blueprint.get("/sites/orders")
def orders():
    followed = current_app.config["SITES"]
    site = site_arg(followed)
    state = text_arg("state") or None
    if state is not None and state not in get_args(RoutedState):
        abort(400, f"`state` must be one of {', '.join(get_args(RoutedState))}")
    limit, offset = page()
    rows = store.central_orders_list(db(), site, state, limit, offset)
    return render_template(
        "site_orders.html", followed=followed, site=site, state=state, limit=limit,
        offset=offset, rows=[order_row(o) for o in rows], movable=routing.MOVABLE,
        states=get_args(RoutedState),
        figures=routing.figures(db(), followed, utc_now().isoformat()),
    )  # fmt: skip


@blueprint.post("/sites/orders/<order_id>/route")
@page_role("supervisor")
def route(order_id: str):
    """A supervisor moves an order not yet picked: to the chosen site, or by the stock."""
    followed = current_app.config["SITES"]
    site = request.form.get("site", "").strip() or None
    try:
        with store.transaction(db()):
            record = routing.reroute(db(), order_id, followed, utc_now().isoformat(), site)
    except LookupError as exc:
        abort(404, str(exc))
    except (routing.RoutingError, routing.RoutingConflict) as exc:
        flash(str(exc), "error")
        return redirect(url_for("site_pages.orders"))
    current_app.config["OUTBOX_WAKE"]()
    current_app.config["CHANGES"].bump()
    where = record.next_site or record.site
    flash(f"Order {order_id} goes to {where}"
          + (f" once {record.site} has let it go." if record.next_site else "."), "ok")  # fmt: skip
    return redirect(url_for("site_pages.orders"))


@blueprint.get("/sites/reorder")
def reorder():
    followed = current_app.config["SITES"]
    site = site_arg(followed)
    lead_days = int_arg("lead_days", 0, 0, 3650) or None
    return render_template(
        "site_reorder.html", followed=followed, site=site, lead_days=lead_days,
        rows=reorder_rows(site, text_arg("sku") or None, lead_days, date_arg("today")),
    )  # fmt: skip
