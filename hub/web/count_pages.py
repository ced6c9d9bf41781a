"""Counts: the schedule, open count tasks, and variances waiting for approval."""

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for

from hub.web import db, domain
from hub.web.auth import page_role
from hub.web.pages import login_gate
from hub.web.params import page

blueprint = Blueprint("count_pages", __name__)
blueprint.before_request(login_gate)


def _section(call, *args) -> tuple[list, str | None]:
    try:
        return call(db(), *args), None
    except domain.DomainMissing as exc:
        return [], str(exc)


@blueprint.get("/counts")
def counts():
    limit, offset = page()
    variances, variances_missing = _section(domain.count_variances, limit, offset)
    tasks, tasks_missing = _section(domain.count_tasks_open, 200)
    schedule, schedule_missing = _section(domain.count_schedule, 200)
    return render_template(
        "counts.html",
        variances=variances, variances_missing=variances_missing,
        tasks=tasks, tasks_missing=tasks_missing,
        schedule=schedule, schedule_missing=schedule_missing,
        limit=limit, offset=offset,
    )  # fmt: skip


@blueprint.post("/counts/variances/<int:variance>/<any(approve, reject):decision>")
@page_role("supervisor")
def decide(variance: int, decision: str):
    decide_fn = domain.approve_variance if decision == "approve" else domain.reject_variance
    try:
        decide_fn(db(), current_app.config["TOPICS"], variance, g.account.name)
    except domain.DomainRefused as exc:
        flash(f"Variance {variance}: {exc}", "error")
    else:
        current_app.config["OUTBOX_WAKE"]()
        current_app.config["CHANGES"].bump()
        flash(f"Variance {variance} {decision}d.", "ok")
    return redirect(url_for("count_pages.counts"))
