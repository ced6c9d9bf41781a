"""Events the ingest set aside: listed (API), and a supervisor's decision to skip one, on
the Alerts page or through the API."""

from typing import Annotated

import msgspec
from flask import Blueprint, flash, g, jsonify, redirect, request, url_for
from msgspec import Meta

from hub import failures
from hub.web import db
from hub.web.api_calls import answer_http_errors_as_json
from hub.web.auth import page_role, require_token
from hub.web.contract import contract
from hub.web.pages import login_gate
from protocol.envelope import utc_now
from protocol.types import Epoch, Seq, StationId

blueprint = Blueprint("failure_pages", __name__)
blueprint.before_request(login_gate)
api_blueprint = Blueprint("failures_api", __name__)
answer_http_errors_as_json(api_blueprint)


@api_blueprint.get("/api/event-failures")
@require_token
@contract()
def event_failures():
    """Station events the hub could not apply (each holds its station's later events until
    applied or skipped), with their dead letter, and any supervisor's decision."""
    return jsonify({"event_failures": failures.listing(db())})


class FailurePath(msgspec.Struct):
    station: StationId
    epoch: Epoch
    seq: Seq


# At least one character blank neither to Python's `re` (which validates) nor to ECMA-262
# (the OpenAPI document's readers): plain \S differs between them on U+001C-1F, U+0085 and
# U+FEFF. And no NUL anywhere, as in every text of a request (hub/nul.py).
NOT_BLANK = r"^[^\x00]*[^\s\x00\x1c-\x1f\x85\ufeff][^\x00]*$"


class SkipNote(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    note: Annotated[str, Meta(min_length=1, max_length=500, pattern=NOT_BLANK,
                              description="why it is skipped")]  # fmt: skip


@api_blueprint.post("/api/event-failures/<station>/<epoch>/<int:seq>/skip")
@require_token
@contract(path=FailurePath, body=SkipNote, status=202, errors=(409,))
def skip_event(station: str, epoch: str, seq: int, body: SkipNote):
    """Skip a failed station event (JSON body `{"note": why}`, required): recorded with who
    and when; the hub then records a `skipped` event in its place and applies the station's
    events that waited behind it. 409 when there is no such undecided failure."""
    try:
        failures.decide_skip(db(), station, epoch, seq, g.account.name, body.note,
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
