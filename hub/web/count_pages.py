"""Counts: variances waiting for approval, open count tasks, the lines due for a cycle
count (what the hub issues next); a count task or a full count started by hand, and each
full count's progress."""

from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from hub import catalog, corrections, counts, settings, store
from hub.web import db, site_today, site_zone
from hub.web.auth import page_role
from hub.web.pages import login_gate
from hub.web.params import page
from protocol.envelope import utc_now
from protocol.labels import CODE

blueprint = Blueprint("count_pages", __name__)
blueprint.before_request(login_gate)

SECTION_ROWS = 200


@blueprint.get("/counts", endpoint="counts")
def counts_page():
    limit, offset = page()
    conn = db()
    due = counts.due_now(conn, settings.load(conn), site_today(), SECTION_ROWS)
    return render_template(
        "counts.html",
        variances=[_valued(conn, v) for v in counts.variances_pending(conn, limit, offset)],
        tasks=counts.open_tasks(conn, SECTION_ROWS), due=due, limit=limit, offset=offset,
        stations=[s["station"] for s in store.station_list(conn)],
        runs=store.count_runs(conn, 10),
    )  # fmt: skip


@blueprint.post("/counts/tasks")
@page_role("supervisor")
def issue_task():
    """A count task for one location (and one sku, if given), sent to one station."""
    form = request.form
    station, location, sku = (form.get(k, "").strip() for k in ("station", "location", "sku"))
    conn = db()
    try:
        if sku and not CODE.match(sku):
            raise counts.CountTaskError(f"SKU {sku!r}: letters, digits, . _ - only.")
        counts.check_target(conn, station, location)
    except counts.CountTaskError as exc:
        flash(str(exc), "error")
        return redirect(url_for("count_pages.counts"))
    with store.transaction(conn):
        task = counts.issue_task(conn, current_app.config["TOPICS"], station, location,
                                 sku or None, None, utc_now().isoformat())  # fmt: skip
    _changed()
    flash(f"Count task {task} sent to {station}: count {location}.", "ok")
    return redirect(url_for("count_pages.counts"))


@blueprint.post("/counts/full")
@page_role("supervisor")
def start_full_count():
    """A full count: every location, one cut-off, the tasks spread over the chosen stations."""
    chosen = request.form.getlist("station")
    conn = db()
    try:
        with store.transaction(conn):
            run, tasks = counts.start_full_count(conn, current_app.config["TOPICS"], chosen,
                                                 utc_now().isoformat())  # fmt: skip
    except counts.CountTaskError as exc:
        flash(str(exc) if chosen else "Choose the stations that will count.", "error")
        return redirect(url_for("count_pages.counts"))
    _changed()
    flash(f"Full count {run}: {len(tasks)} locations sent to {', '.join(chosen)}.", "ok")
    return redirect(url_for("count_pages.full_count", run=run))


@blueprint.get("/counts/full/<run>")
def full_count(run: str):
    found = counts.full_count_report(db(), run)
    if found is None:
        abort(404, f"No full count {run}.")
    return render_template("full_count.html", r=found)


def _valued(conn, variance: dict) -> dict:
    """A variance with its value at the product's unit cost (None when it has none)."""
    record = catalog.get_record(conn, variance["sku"])
    cost = record.unit_cost if record else None
    value = None if cost is None else Decimal(str(cost)) * variance["variance"]
    return {**variance, "value": value}


def _changed() -> None:
    current_app.config["OUTBOX_WAKE"]()
    current_app.config["CHANGES"].bump()


@blueprint.post("/counts/variances/<int:variance>/<any(approve, reject):decision>")
@page_role("supervisor")
def decide(variance: int, decision: str):
    conn = db()
    try:
        with store.transaction(conn):
            corrections.settle_count(
                conn,
                current_app.config["TOPICS"],
                variance,
                decision == "approve",
                g.account.name,
                utc_now(),
                site_zone(),
            )
    except corrections.CorrectionError as exc:
        flash(f"Variance {variance}: {exc}", "error")
    else:
        _changed()
        flash(f"Variance {variance} {decision}d.", "ok")
    return redirect(url_for("count_pages.counts"))
