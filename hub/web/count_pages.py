"""Counts: variances waiting for approval, open count tasks, and the lines due for a
cycle count (what the hub issues next)."""

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for

from hub import corrections, counts, settings, store
from hub.web import db
from hub.web.auth import page_role
from hub.web.pages import login_gate
from hub.web.params import page
from protocol.envelope import utc_now

blueprint = Blueprint("count_pages", __name__)
blueprint.before_request(login_gate)

SECTION_ROWS = 200


@blueprint.get("/counts", endpoint="counts")
def counts_page():
    limit, offset = page()
    conn = db()
    due = counts.due_now(conn, settings.load(conn), utc_now().date(), SECTION_ROWS)
    return render_template(
        "counts.html",
        variances=counts.variances_pending(conn, limit, offset),
        tasks=counts.open_tasks(conn, SECTION_ROWS), due=due, limit=limit, offset=offset,
    )  # fmt: skip


@blueprint.post("/counts/variances/<int:variance>/<any(approve, reject):decision>")
@page_role("supervisor")
def decide(variance: int, decision: str):
    conn = db()
    try:
        with store.transaction(conn):
            corrections.settle_count(conn, current_app.config["TOPICS"], variance,
                                     decision == "approve", g.account.name, utc_now())
    except corrections.CorrectionError as exc:
        flash(f"Variance {variance}: {exc}", "error")
    else:
        current_app.config["OUTBOX_WAKE"]()
        current_app.config["CHANGES"].bump()
        flash(f"Variance {variance} {decision}d.", "ok")
    return redirect(url_for("count_pages.counts"))
