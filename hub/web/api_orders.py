"""The JSON API of sales orders and purchase orders (reorder suggestions included)."""

from typing import Annotated

import msgspec
from flask import Blueprint, abort, current_app, jsonify
from msgspec import Meta

from hub import orders, purchasing, routing, siteday, store
from hub.web import db, site_today, site_zone
from hub.web.api_calls import (
    NotFound,
    answer_http_errors_as_json,
    csv_import,
    domain_call,
    each_once,
    topics,
)
from hub.web.api_params import (
    DryRunQuery,
    OrderPageQuery,
    OrderPath,
    PoPageQuery,
    PoPath,
    Saved,
)
from hub.web.auth import importer, require_token
from hub.web.contract import CSV_BODY, as_list, contract, one_or_many
from protocol.envelope import utc_now
from protocol.messages import Order
from protocol.types import Code

blueprint = Blueprint("api_orders", __name__)
answer_http_errors_as_json(blueprint)


# --- sales orders ------------------------------------------------------------------------
@blueprint.get("/api/orders")
@require_token
@contract(query=OrderPageQuery)
def order_list(query: OrderPageQuery):
    """Sales orders, newest first, optionally of one `status`; paged."""
    rows = store.order_list(db(), query.status, query.limit, query.offset)
    keys = ("order", "status", "created", "updated", "closed")
    return jsonify({"orders": [dict(zip(keys, r, strict=True)) for r in rows]})


@blueprint.post("/api/orders")
@require_token
@contract(body=one_or_many(Order), status=201, answer=Saved, errors=(409, 422))
def post_orders(body):
    """Create or replace sales orders (one object or a list, the protocol Order shape, each
    order once), all or none; 409 when one is already packed or shipped. On a central hub
    each order is routed to a site instead (GET /api/sites/orders shows where; 409 once it
    is picked)."""
    new_orders, now = as_list(body), utc_now().isoformat()
    sites = current_app.config["SITES"]

    def run(conn):
        each_once("order", [o.order for o in new_orders])
        for order in new_orders:
            if sites:
                routing.route(conn, order, sites, now)
            else:
                orders.save_order(conn, topics(), order, now)
        return {"saved": [o.order for o in new_orders]}

    return domain_call(run, 201)


@blueprint.get("/api/orders/<order_id>")
@require_token
@contract(path=OrderPath, errors=(404,))
def order_get(order_id: str):
    """One sales order with its stored lines (`rows`: shipped, short, kit, dropship PO)."""
    found = orders.order_dict(db(), order_id)
    if found is None:
        abort(404, f"no order {order_id}")
    return jsonify(found)


@blueprint.post("/api/orders/<order_id>/cancel")
@require_token
@contract(path=OrderPath, errors=(404, 409, 422))
def order_cancel(order_id: str):
    """Cancel an order that has not shipped; its commitments and dropship POs go."""

    def run(conn):
        if store.order_get(conn, order_id) is None:
            raise NotFound(f"no order {order_id}")
        orders.cancel(conn, topics(), order_id, utc_now().isoformat())
        return {"order": order_id, "status": "cancelled"}

    return domain_call(run)


@blueprint.post("/api/orders.csv")
@importer
@contract(query=DryRunQuery, body=CSV_BODY, status=201, also=(200,), errors=(422,))
def orders_csv_import(query: DryRunQuery):
    """Import sales orders from a CSV body (one row per line); `dry_run=1` only checks;
    all orders or none (bad rows: 422 with each line and reason)."""
    return csv_import("orders", query.dry_run)


# --- purchase orders ---------------------------------------------------------------------
@blueprint.get("/api/purchase-orders")
@require_token
@contract(query=PoPageQuery)
def purchase_orders(query: PoPageQuery):
    """Purchase orders with their lines, newest first, optionally of one `status`; paged."""
    page = purchasing.po_page(db(), query.status, query.limit, query.offset)
    return jsonify({"purchase_orders": page})


@blueprint.post("/api/purchase-orders")
@require_token
@contract(body=one_or_many(purchasing.PurchaseOrderIn), status=201, answer=Saved,
          errors=(409, 422))  # fmt: skip
def post_purchase_orders(body):
    """Create or replace purchase orders (one object or a list, each `po` once); a PO with
    receipts cannot be replaced (409)."""
    new, now = as_list(body), utc_now().isoformat()

    def run(conn):
        each_once("po", [p.po for p in new if p.po is not None])
        return {"saved": [purchasing.create(conn, topics(), p, now) for p in new]}

    return domain_call(run, 201)


@blueprint.get("/api/purchase-orders/<po>")
@require_token
@contract(path=PoPath, errors=(404,))
def purchase_order(po: str):
    """One purchase order with its lines, received units and dates."""
    found = purchasing.po_dict(db(), po)
    if found is None:
        abort(404, f"no purchase order {po}")
    return jsonify(found)


def _po_action(po: str, action):
    """`action(conn, now, day)`: `day` the site's at `now`."""
    now = utc_now()
    day = siteday.today(site_zone(), now).isoformat()

    def run(conn):
        if store.po_get(conn, po) is None:
            raise NotFound(f"no purchase order {po}")
        action(conn, now.isoformat(), day)
        return purchasing.po_dict(conn, po)

    return domain_call(run)


@blueprint.post("/api/purchase-orders/<po>/close")
@require_token
@contract(path=PoPath, errors=(404, 409, 422))
def purchase_order_close(po: str):
    """Close short: nothing more will arrive (a dock station may send the same as an event)."""

    def close(conn, now, day):
        if not purchasing.close(conn, topics(), po, now, "closed through the API", day):
            raise purchasing.PurchaseConflict(f"purchase order {po} is not open")

    return _po_action(po, close)


@blueprint.post("/api/purchase-orders/<po>/cancel")
@require_token
@contract(path=PoPath, errors=(404, 409, 422))
def purchase_order_cancel(po: str):
    """Cancel an open purchase order that has no receipts."""
    return _po_action(po, lambda conn, now, _day: purchasing.cancel(conn, topics(), po, now))


@blueprint.post("/api/purchase-orders/<po>/confirm")
@require_token
@contract(path=PoPath, errors=(404, 409, 422))
def purchase_order_confirm(po: str):
    """The supplier confirms a dropship order shipped: its sales order lines close."""
    return _po_action(po, lambda conn, now, day: orders.confirm_dropship(conn, topics(), po, now,
                                                                         day))  # fmt: skip


@blueprint.post("/api/purchase-orders.csv")
@importer
@contract(query=DryRunQuery, body=CSV_BODY, status=201, also=(200,), errors=(422,))
def purchase_orders_csv_import(query: DryRunQuery):
    """Import purchase orders from a CSV body (one row per line); `dry_run=1` only checks;
    all or none (bad rows: 422 with each line and reason)."""
    return csv_import("purchase-orders", query.dry_run)


class ReorderBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    skus: Annotated[list[Code], Meta(min_length=1, max_length=10_000)] | None = None


@blueprint.post("/api/purchase-orders/from-reorder")
@require_token
@contract(body=ReorderBody, body_required=False, status=201, answer=Saved, errors=(422,))
def purchase_orders_from_reorder(body: ReorderBody):
    """One purchase order per supplier from the reorder suggestions due today: of `skus`
    (`{"skus": [...]}`, those not due are left out) or, without it, of every product.
    Answers the new POs' ids in `saved` (empty when nothing was due)."""
    now, today = utc_now(), site_today()

    def run(conn):
        made = purchasing.from_reorder(conn, topics(), body.skus, today, now.isoformat())
        return {"saved": made}

    return domain_call(run, 201)
