"""Consignment settlement: what each owner is owed since their last settlement, and
recording a settlement (docs/inventory.md, "Consignment").

Every view's docstring is its description in the OpenAPI document.
"""

from datetime import date

from flask import Blueprint, abort, current_app, g, jsonify, request

from hub import consignment, store
from hub.web import db
from hub.web.auth import require_token
from hub.web.params import date_arg, int_arg, text_arg
from protocol.envelope import utc_now

blueprint = Blueprint("consignment_api", __name__)


@blueprint.get("/api/consignment/settlement")
@require_token
def settlement_report():
    """What consignment owners are owed since their last settlement, on days up to `until`
    (default today): per owner (`owner` for one) the units sold and amount owed per SKU,
    by each product's terms as fixed at the sale."""
    until = date_arg("until") or utc_now().date()
    owner = text_arg("owner")
    owners = [owner] if owner else store.consignment_owners(db())
    return jsonify({"until": until.isoformat(),
                    "owners": [consignment.statement(db(), o, until).as_dict()
                               for o in owners]})  # fmt: skip


@blueprint.get("/api/consignment/settlements")
@require_token
def settlements():
    """Settlements recorded, newest first (`owner` for one owner's, `limit` up to 1000)."""
    owner = text_arg("owner") or None
    rows = consignment.settlement_list(db(), owner, int_arg("limit", 100, 1, 1000))
    return jsonify({"settlements": rows})


@blueprint.post("/api/consignment/settlements")
@require_token
def post_settlement():
    """Record that an `owner` was paid everything owed on days up to `until` (YYYY-MM-DD,
    not in the future; optional `note`): 201 with the statement settled. The owner's next
    settlement report starts after it. 400 when nothing is owed or the owner is already
    settled past `until`."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, 'the body must be a JSON object: {"owner": ..., "until": "YYYY-MM-DD"}')
    owner, until, note = body.get("owner"), body.get("until"), body.get("note", "")
    if not isinstance(owner, str) or not owner:
        abort(400, "`owner` is required")
    if not isinstance(note, str) or len(note) > 500:
        abort(400, "`note` must be text of at most 500 characters")
    day = _day(until)
    now = utc_now()
    conn = db()
    try:
        with store.transaction(conn):
            result = consignment.settle(conn, owner, day, now.date(), now.isoformat(),
                                        g.account.name, note)  # fmt: skip
    except consignment.SettlementError as exc:
        abort(400, str(exc))
    current_app.config["CHANGES"].bump()
    return jsonify(result), 201


def _day(value: object) -> date:
    if not isinstance(value, str):
        abort(400, "`until` is required: the last day settled (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400, f"`until` must be a date (YYYY-MM-DD), got {value!r}")
