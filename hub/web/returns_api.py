"""The JSON API of customer returns: return authorisations (RMAs) that the shop or ERP
creates, whose `RMA:` label the dock scans, and lifting a quarantine hold
(hub/returns.py)."""

from flask import Blueprint, current_app, jsonify

from hub import returns, store
from hub.web import db
from hub.web.api_params import LocationPath, RmaPath
from hub.web.auth import require_token
from hub.web.contract import contract
from protocol.envelope import utc_now

blueprint = Blueprint("returns_api", __name__)


def _error(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    return response


@blueprint.post("/api/returns")
@require_token
@contract(body=returns.RmaIn, status=201, errors=(404, 409, 422))
def post_return(body: returns.RmaIn):
    """Create a return authorisation: `{"rma", "order", "lines": [{"sku", "qty"}], "note"}`
    (no lines: everything the order shipped may come back). The order must have shipped;
    lines must be skus it shipped, at most what may still come back. 201 with the RMA, its
    `label` (the barcode text `RMA:<rma>` to print on the return label) and what may come
    back; the dock stations get it on returnable/{rma}. 409 if the RMA exists; 422 if
    the order has not shipped or a line asks for more than may come back."""
    try:
        with store.transaction(db()):
            result = returns.create_rma(db(), current_app.config["TOPICS"], body,
                                        utc_now().isoformat())  # fmt: skip
    except returns.ReturnNotFound as exc:
        return _error(404, str(exc))
    except returns.ReturnConflict as exc:
        return _error(409, str(exc))
    except returns.ReturnError as exc:
        return _error(422, str(exc))
    current_app.config["OUTBOX_WAKE"]()
    current_app.config["CHANGES"].bump()
    return jsonify(result), 201


@blueprint.get("/api/returns/<rma>")
@require_token
@contract(path=RmaPath, errors=(404,))
def get_return(rma: str):
    """One return authorisation: its order, lines, note, label and what may still come
    back against it."""
    try:
        return jsonify(returns.rma_dict(db(), rma))
    except returns.ReturnNotFound as exc:
        return _error(404, str(exc))


@blueprint.delete("/api/quarantine/<location>")
@require_token
@contract(path=LocationPath, errors=(404,))
def release_quarantine(location: str):
    """Lift the hold on a quarantine location (its stock was inspected and may be sold):
    its stock counts as available again and may be picked. 404 if it is not held. To
    release some units only, move them out of it instead."""
    try:
        with store.transaction(db()):
            skus = returns.release(db(), current_app.config["TOPICS"], location,
                                   utc_now().isoformat())  # fmt: skip
    except returns.ReturnNotFound as exc:
        return _error(404, str(exc))
    current_app.config["OUTBOX_WAKE"]()
    current_app.config["CHANGES"].bump()
    return jsonify({"location": location, "released": skus})
