"""Contingency plans (demand uplifts): the list with each plan's effect on reorder points,
adding one and ending one (the same domain calls as `/api/uplifts`)."""

from datetime import date

import msgspec
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from hub import contingency, planning, settings, store
from hub.web import db, site_today
from hub.web.auth import page_role
from hub.web.pages import login_gate

blueprint = Blueprint("uplift_pages", __name__)
blueprint.before_request(login_gate)


@blueprint.get("/uplifts", endpoint="uplifts")
def uplifts_page():
    conn, today = db(), site_today()
    plans = contingency.listing(conn, today, settings.load(conn))
    return render_template("uplifts.html", plans=plans, today=today.isoformat())


@blueprint.post("/uplifts")
@page_role("supervisor")
def add_uplift():
    form = request.form
    fields = {"sku": form.get("sku", "").strip() or None, "start": form.get("start", ""),
              "end": form.get("end", ""), "factor": form.get("factor", ""),
              "note": form.get("note", "").strip()}  # fmt: skip
    try:
        plan = msgspec.convert(fields, planning.Uplift, strict=False)
        conn = db()
        with store.transaction(conn):
            plan_id = planning.add_uplift(conn, plan)
    except (msgspec.ValidationError, ValueError) as exc:
        flash(f"The plan was not added: {exc}", "error")
        return redirect(url_for("uplift_pages.uplifts"))
    _changed()
    flash(f"Contingency plan {plan_id} added: demand × {plan.factor} from {plan.start} "
          f"to {plan.end} for {plan.sku or 'every product'}.", "ok")  # fmt: skip
    return redirect(url_for("uplift_pages.uplifts"))


@blueprint.post("/uplifts/<int:plan_id>/end")
@page_role("supervisor")
def end_uplift(plan_id: int):
    conn = db()
    try:
        with store.transaction(conn):
            done = contingency.end(conn, plan_id, _today())
    except contingency.PlanError as exc:
        flash(str(exc), "error")
    else:
        _changed()
        flash(f"Contingency plan {plan_id} {done}.", "ok")
    return redirect(url_for("uplift_pages.uplifts"))


def _today() -> date:
    return site_today()


def _changed() -> None:
    current_app.config["CHANGES"].bump()
