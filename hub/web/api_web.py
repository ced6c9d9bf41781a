"""The JSON API of what only the pages had: who am I, overview, stock search, a bin's
contents, an order's scan log, station commands and users.

The domain's resources (products and their history, orders, purchase orders, reports,
counts, CSV imports...) are in api.py; no route is in both. Every view's docstring is its
description in the OpenAPI document.
"""

from flask import Blueprint, abort, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from hub import planning, store, users
from hub.web import commands, db, label_pages, loop_states, views
from hub.web.auth import api_role, csrf_token
from hub.web.overview import overview as overview_data
from hub.web.params import keyset, page, text_arg
from protocol.envelope import utc_now

blueprint = Blueprint("api_web", __name__, url_prefix="/api")


def _error(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    return response


@blueprint.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _error(exc.code or 500, exc.description)


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "the body must be a JSON object")
    return body


@blueprint.get("/me")
@api_role("viewer")
def me():
    """Who is calling: name and role (a token acts as a supervisor), and the CSRF token a
    logged-in browser sends as X-CSRF-Token."""
    account = g.account
    body = {"name": account.name, "role": account.role}
    if not g.via_token:
        body["csrf_token"] = csrf_token()
    return jsonify(body)


@blueprint.get("/overview")
@api_role("viewer")
def overview():
    """What the overview shows: today's KPIs, orders waiting and being packed, shipments
    per station and per packer (today, last hour, per hour), purchase orders due by today,
    the backlog (events at the stations, held, failed) and the hub's lag, stations (with
    `last_read`, and `not_ready` devices with `advice`), latest movements, open alerts."""
    return jsonify(overview_data(db(), current_app.config["CHANGES"].version, loop_states()))


@blueprint.get("/stock/search")
@api_role("viewer")
def stock_search():
    """Products by SKU prefix, name (contains) or GTIN `q`, with on hand, paged by `limit`
    and `offset`. Without `q` the whole catalog, or with `negative=1` only SKUs with a line
    below zero, or with `low=1` the low-stock ones (available at or below the reorder
    point, both given), in SKU order, paged by `after` (the last SKU of the previous page,
    as given in `next`)."""
    text = text_arg("q")
    if text:
        limit, offset = page()
        rows = views.stock_rows(store.stock_search(db(), text, limit, offset))
        more = {"offset": offset + limit} if len(rows) == limit else None
        return jsonify({"stock": rows, "next": more})
    limit, after = keyset()
    if request.args.get("low") == "1":
        rows = planning.low_stock(db(), utc_now().date(), after, limit)
    else:
        negative = request.args.get("negative") == "1"
        rows = views.stock_rows(store.catalog_stock_page(db(), after, limit, negative))
    more = {"after": rows[-1]["sku"]} if len(rows) == limit else None
    return jsonify({"stock": rows, "next": more})


@blueprint.get("/locations/<location>/stock")
@api_role("viewer")
def location_stock(location: str):
    """What is in one location (bin): sku, name, lot, owner, qty of its non-zero lines."""
    limit, offset = page()
    rows = store.location_stock(db(), location, limit, offset)
    return jsonify({"location": location, "stock": views.location_rows(rows)})


@blueprint.get("/orders/<order_id>/scan-log")
@api_role("viewer")
def order_scan_log(order_id: str):
    """An order's lines and its scan log: who scanned what at which station, with verdicts."""
    found = views.order(db(), order_id)
    if found is None:
        return _error(404, f"no order {order_id!r}")
    return jsonify(found)


@blueprint.post("/stations/<station>/commands/<name>")
@api_role("supervisor")
def station_command(station: str, name: str):
    """Send a command to a station: identify, reprint (the last label), resync, or mode
    (body `{"mode": "pack"}`). Published on station/{id}/cmd/{name} through the outbox."""
    args = request.get_json(silent=True) or {}
    if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
        return _error(400, "the body must be a JSON object of strings")
    try:
        commands.send(db(), current_app.config["TOPICS"], station, name, args)
    except commands.CommandError as exc:
        return _error(400, str(exc))
    current_app.config["OUTBOX_WAKE"]()
    return jsonify({"sent": name, "station": station}), 202


@blueprint.get("/users")
@api_role("admin")
def user_list():
    """Logins and their roles."""
    return jsonify({"users": [vars(a) for a in users.accounts(db())]})


@blueprint.post("/users")
@api_role("admin")
def user_add():
    """Create a login: `{"name", "role": viewer|supervisor|admin, "password"}`."""
    body = _json_body()
    try:
        account = users.add(db(), str(body.get("name", "")), str(body.get("role", "")),
                            str(body.get("password", "")))  # fmt: skip
    except users.UserError as exc:
        return _error(400, str(exc))
    return jsonify(vars(account)), 201


@blueprint.delete("/users/<name>")
@api_role("admin")
def user_remove(name: str):
    """Delete a login and end its sessions."""
    try:
        users.remove(db(), name)
    except users.UserError as exc:
        return _error(404, str(exc))
    return jsonify({"removed": name})


@blueprint.post("/users/<name>/password")
@api_role("admin")
def user_password(name: str):
    """Set a login's password (`{"password"}`); ends its sessions."""
    try:
        users.set_password(db(), name, str(_json_body().get("password", "")))
    except users.UserError as exc:
        return _error(400 if "password" in str(exc) else 404, str(exc))
    return jsonify({"changed": name})


@blueprint.get("/barcode.svg")
@api_role("viewer")
def barcode_svg():
    """A label's barcode as a Code 128 SVG: `code` is one of the warehouse's own labels
    (`OP:`, `ORD:`, `PO:`, `LOC:`, `QTY:` or a command of the sheet); anything else is 400."""
    return label_pages.svg_response(request.args.get("code", ""))
