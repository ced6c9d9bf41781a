"""Events the ingest set aside: listed (API), and a supervisor's decision to skip one, on
the Alerts page or through the API."""

from flask import Blueprint, flash, g, jsonify, redirect, request, url_for

from hub import failures
from hub.web import db
from hub.web.auth import page_role, require_token
from hub.web.pages import login_gate
from protocol.envelope import utc_now

blueprint = Blueprint("failure_pages", __name__)
blueprint.before_request(login_gate)
api_blueprint = Blueprint("failures_api", __name__)


@api_blueprint.get("/api/event-failures")
@require_token
def event_failures():
    """Station events the hub could not apply (each holds its station's later events until
    applied or skipped), with their dead letter, and any supervisor's decision."""
    return jsonify({"event_failures": failures.listing(db())})


@api_blueprint.post("/api/event-failures/<station>/<epoch>/<int:seq>/skip")
@require_token
def skip_event(station: str, epoch: str, seq: int):
    """Skip a failed station event (JSON body `{"note": why}`, required): recorded with who
    and when; the hub then records a `skipped` event in its place and applies the station's
    events that waited behind it. 409 when there is no such undecided failure."""
    body = request.get_json(silent=True)
    note = body.get("note") if isinstance(body, dict) else None
    if not isinstance(note, str) or not note.strip():
        return jsonify({"error": 'say why it is skipped: {"note": "..."}'}), 400
    try:
        failures.decide_skip(db(), station, epoch, seq, g.account.name, note,
                             utc_now().isoformat())  # fmt: skip
    except failures.SkipError as exc:
        return jsonify({"error": str(exc)}), 409
    return jsonify({"skipped": {"station": station, "epoch": epoch, "seq": seq}}), 202


@blueprint.post("/alerts/event-failures/<station>/<epoch>/<int:seq>/skip")
@page_role("supervisor")
def skip_event_page(station: str, epoch: str, seq: int):
    try:
        failures.decide_skip(db(), station, epoch, seq, g.account.name,
                             request.form.get("note", ""), utc_now().isoformat())  # fmt: skip
    except failures.SkipError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Skipping {station} seq {seq}: the station's later events follow.", "ok")
    return redirect(url_for("pages.alerts"))
