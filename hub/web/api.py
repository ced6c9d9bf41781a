"""The JSON API for other systems: Bearer tokens from the hub config."""

import msgspec
from flask import Blueprint, abort, current_app, jsonify, request

from hub import catalog, orders, store
from hub.web import db
from hub.web.auth import require_token
from protocol.messages import Order, Product

blueprint = Blueprint("api", __name__)


def _error(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="warehouse-hub"'
    return response


@blueprint.errorhandler(400)
@blueprint.errorhandler(404)
@blueprint.errorhandler(405)
@blueprint.errorhandler(413)
def _http_error(exc):
    return _error(exc.code, exc.description)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, f"`{name}` must be a whole number")
    if not low <= value <= high:
        abort(400, f"`{name}` must be between {low} and {high}")
    return value


def _decode_body(kind: type[msgspec.Struct]) -> list:
    """One object or a list of them, validated against the protocol type."""
    body = request.get_data()
    try:
        return msgspec.json.decode(body, type=list[kind])
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass
    try:
        return [msgspec.json.decode(body, type=kind)]
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        abort(400, f"invalid {kind.__name__.lower()}: {exc}")


@blueprint.get("/healthz")
def healthz():
    store.meta_get(db(), "schema")  # the database answers
    return jsonify({"status": "ok"})


@blueprint.get("/api/stations")
@require_token
def stations():
    return jsonify({"stations": station_rows()})


def station_rows() -> list[dict]:
    rows = []
    for row in store.station_list(db()):
        status = msgspec.json.decode(row.pop("status")) if row["status"] else {}
        head = status.get("head", 0) if status.get("epoch") == row["epoch"] else 0
        rows.append({**row, **_status_fields(status), "unacked": max(0, head - row["applied"])})
    return rows


def _status_fields(status: dict) -> dict:
    keys = ("conn", "head", "mode", "operator", "devices", "last_scan", "last_verdict", "ts")
    return {key: status.get(key) for key in keys}


@blueprint.get("/api/stock")
@require_token
def stock():
    sku = request.args.get("sku")
    limit = _int_arg("limit", 100, 1, 1000)
    offset = _int_arg("offset", 0, 0, 10**9)
    items = []
    for row_sku, on_hand in store.stock_list(db(), sku, limit, offset):
        lines = [
            {"location": loc, "lot": lot or None, "owner": owner or None, "qty": qty}
            for loc, lot, owner, qty in store.stock_lines(db(), row_sku)
        ]
        items.append({"sku": row_sku, "on_hand": on_hand, "locations": lines})
    if sku and not items:
        items = [{"sku": sku, "on_hand": 0, "locations": []}]
    return jsonify({"stock": items})


@blueprint.get("/api/movements")
@require_token
def movements():
    limit = _int_arg("limit", 50, 1, 1000)
    before = request.args.get("before")
    before_id = _int_arg("before", 0, 1, 2**62) if before is not None else None
    return jsonify({"movements": store.movements_latest(db(), limit, before_id)})


@blueprint.post("/api/products")
@require_token
def post_products():
    products = _decode_body(Product)
    catalog.upsert_products(db(), current_app.config["TOPICS"], products)
    current_app.config["OUTBOX_WAKE"]()
    return jsonify({"saved": [p.sku for p in products]}), 201


@blueprint.post("/api/orders")
@require_token
def post_orders():
    new_orders = _decode_body(Order)
    saved = []
    for order in new_orders:
        try:
            orders.upsert_order(db(), current_app.config["TOPICS"], order)
        except orders.OrderConflict as exc:
            return _error(409, str(exc))
        saved.append(order.order)
    current_app.config["OUTBOX_WAKE"]()
    return jsonify({"saved": saved}), 201


@blueprint.get("/api/alerts")
@require_token
def alerts():
    return jsonify({"alerts": store.alerts_open(db(), _int_arg("limit", 100, 1, 1000))})


@blueprint.get("/api/dead-letters")
@require_token
def dead_letters():
    return jsonify({"dead_letters": store.dead_letters(db(), _int_arg("limit", 100, 1, 1000))})
