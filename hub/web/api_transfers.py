"""Transfers between sites (docs/multi-site.md): made at the central hub, listed with their
state there and at both sites (a site hub lists the transfers it sends or receives)."""

from typing import Literal

import msgspec
from flask import Blueprint, abort, current_app, jsonify

from hub import central_transfers, store
from hub.web import db
from hub.web.api_calls import NotFound, answer_http_errors_as_json, domain_call
from hub.web.api_params import LimitQuery, Saved
from hub.web.auth import require_token
from hub.web.contract import contract
from protocol.envelope import utc_now
from protocol.types import Code

blueprint = Blueprint("api_transfers", __name__)
answer_http_errors_as_json(blueprint)


class TransferPath(msgspec.Struct):
    transfer: Code


class TransferQuery(LimitQuery):
    status: Literal["open", "in_transit", "received"] | None = None


@blueprint.get("/api/transfers")
@require_token
@contract(query=TransferQuery)
def transfer_list(query: TransferQuery):
    """Transfers, newest first (optionally of one `status`): per SKU ordered, shipped and
    received, `short_shipped`, `over_short_received`, and the value that shipped at the
    sender's FIFO cost (in transit until received). A kit line packed from its parts
    counts the complete kits they make, and lists its `parts` (`per_kit`, shipped and
    received each)."""
    rows = store.transfer_list(db(), query.status, query.limit)
    return jsonify({"transfers": [central_transfers.transfer_dict(r) for r in rows]})


@blueprint.get("/api/transfers/<transfer>")
@require_token
@contract(path=TransferPath, errors=(404,))
def transfer_get(transfer: str):
    """One transfer with its lines and state."""
    row = store.transfer_get(db(), transfer)
    if row is None:
        abort(404, f"no transfer {transfer}")
    return jsonify(central_transfers.transfer_dict(row))


@blueprint.post("/api/transfers/<transfer>/resend")
@require_token
@contract(path=TransferPath, answer=Saved, errors=(404,))
def transfer_resend(transfer: str):
    """Send the transfer to both sites again, as it stands (after a site could not take it:
    a product missing from its catalog, say); a site that has it already changes nothing."""

    def run(conn):
        if not central_transfers.resend(conn, transfer, utc_now().isoformat()):
            raise NotFound(f"no transfer {transfer}")
        return {"saved": [transfer]}

    return domain_call(run)


@blueprint.post("/api/transfers")
@require_token
@contract(body=central_transfers.TransferIn, status=201, answer=Saved, errors=(409, 422))
def transfer_create(body: central_transfers.TransferIn):
    """Make a transfer from one site to another (a central hub only: 409 on a site hub);
    the centre sends it to both sites. 422 for an unknown site or the same site twice."""
    sites = current_app.config["SITES"]
    if not sites:
        abort(409, "transfers are made at the central hub; this is a site hub")

    def run(conn):
        return {"saved": [central_transfers.create(conn, sites, body, utc_now().isoformat())]}

    return domain_call(run, 201)
