"""Consignment settlement: what each owner is owed since their last settlement, and
recording a settlement (docs/inventory.md, "Consignment").

Every view's docstring is its description in the OpenAPI document.
"""

from flask import Blueprint, abort, current_app, g, jsonify

from hub import consignment, store
from hub.web import db, site_today
from hub.web.api_params import SettlementIn, SettlementQuery, SettlementsQuery
from hub.web.auth import require_token
from hub.web.contract import contract
from protocol.envelope import utc_now

blueprint = Blueprint("consignment_api", __name__)


@blueprint.get("/api/consignment/settlement")
@require_token
@contract(query=SettlementQuery)
def settlement_report(query: SettlementQuery):
    """What consignment owners are owed since their last settlement, on days up to `until`
    (default today): per owner (`owner` for one) the units sold and amount owed per SKU,
    by each product's terms as fixed at the sale."""
    until = query.until or site_today()
    owners = [query.owner] if query.owner else store.consignment_owners(db())
    return jsonify({"until": until.isoformat(),
                    "owners": [consignment.statement(db(), o, until).as_dict()
                               for o in owners]})  # fmt: skip


@blueprint.get("/api/consignment/settlements")
@require_token
@contract(query=SettlementsQuery)
def settlements(query: SettlementsQuery):
    """Settlements recorded, newest first (`owner` for one owner's, `limit` up to 1000)."""
    rows = consignment.settlement_list(db(), query.owner, query.limit)
    return jsonify({"settlements": rows})


@blueprint.post("/api/consignment/settlements")
@require_token
@contract(body=SettlementIn, status=201, errors=(422,))
def post_settlement(body: SettlementIn):
    """Record that an `owner` was paid everything owed on days up to `until` (YYYY-MM-DD,
    not in the future; optional `note`): 201 with the statement settled. The owner's next
    settlement report starts after it. 422 when nothing is owed, `until` is in the future
    or the owner is already settled past it."""
    now = utc_now()
    conn = db()
    try:
        with store.transaction(conn):
            result = consignment.settle(conn, body.owner, body.until, site_today(),
                                        now.isoformat(), g.account.name, body.note)  # fmt: skip
    except consignment.SettlementError as exc:
        abort(422, str(exc))
    current_app.config["CHANGES"].bump()
    return jsonify(result), 201
