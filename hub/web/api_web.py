"""The JSON API behind the pages' own reads and actions: who am I, overview, stock search,
product history, order scan log, station commands, reorder-to-PO, CSV import and users.

The domain's resources (products, orders, reports, count approvals...) are in api.py.
Every view's docstring is its description in the OpenAPI document.
"""

from flask import Blueprint, abort, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from hub import store, users
from hub.web import commands, db, domain, views
from hub.web.auth import api_role, csrf_token
from hub.web.params import page, text_arg

blueprint = Blueprint("api_web", __name__, url_prefix="/api")


def _error(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    return response


@blueprint.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _error(exc.code or 500, exc.description)


@blueprint.errorhandler(domain.DomainMissing)
def _missing(exc: domain.DomainMissing):
    return _error(501, f"not available in this build: {exc} is not implemented yet")


@blueprint.errorhandler(domain.DomainRefused)
def _refused(exc: domain.DomainRefused):
    return _error(409, str(exc))


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
    """Stations, latest movements, open alerts and today's KPIs (what the overview shows)."""
    return jsonify(views.overview(db(), current_app.config["CHANGES"].version))


@blueprint.get("/stock/search")
@api_role("viewer")
def stock_search():
    """Products by SKU prefix, name (contains) or GTIN, with on hand; `q` empty lists all.
    `negative=1` keeps only SKUs with a line below zero. Paged by `limit` and `offset`."""
    limit, offset = page()
    text = text_arg("q")
    if request.args.get("negative") == "1":
        rows = store.catalog_stock_page(db(), limit, offset, negative_only=True)
    elif text:
        rows = store.stock_search(db(), text, limit, offset)
    else:
        rows = store.catalog_stock_page(db(), limit, offset)
    return jsonify({"stock": views.stock_rows(rows), "limit": limit, "offset": offset})


@blueprint.get("/locations/<location>/stock")
@api_role("viewer")
def location_stock(location: str):
    """What is in one location (bin): sku, name, lot, owner, qty of its non-zero lines."""
    limit, offset = page()
    rows = store.location_stock(db(), location, limit, offset)
    return jsonify({"location": location, "stock": views.location_rows(rows)})


@blueprint.get("/products/<sku>/history")
@api_role("viewer")
def product_history(sku: str):
    """A product's details, stock by location/lot/owner, latest movements and on-hand series
    (the last 500 movements, worked back from the balance)."""
    found = views.product(db(), sku)
    if found is None:
        return _error(404, f"no product or stock for SKU {sku!r}")
    return jsonify(found)


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


@blueprint.post("/reorder/purchase-order")
@api_role("supervisor")
def reorder_to_po():
    """Turn the reorder suggestions of the given SKUs (`{"skus": [...]}`) into a purchase
    order."""
    skus = _json_body().get("skus")
    if not isinstance(skus, list) or not skus or not all(isinstance(s, str) for s in skus):
        return _error(400, "`skus` must be a non-empty list of SKUs")
    po = domain.po_from_reorder(db(), current_app.config["TOPICS"], skus, g.account.name)
    current_app.config["OUTBOX_WAKE"]()
    return jsonify({"po": po}), 201


@blueprint.post("/import/<kind>")
@api_role("admin")
def csv_import(kind: str):
    """Import a CSV (the request body) of products, locations, orders or purchase-orders.
    `dry_run=1` checks every row and saves nothing; otherwise all rows or none are saved.
    Errors name the line and the reason."""
    if kind not in domain.IMPORT_KINDS:
        return _error(404, f"unknown import {kind!r}: one of {', '.join(domain.IMPORT_KINDS)}")
    try:
        text = request.get_data().decode("utf-8-sig")
    except UnicodeDecodeError:
        return _error(400, "the CSV must be UTF-8")
    if request.args.get("dry_run") == "1":
        return jsonify(domain.csv_preview(db(), kind, text))
    result = domain.csv_import(db(), current_app.config["TOPICS"], kind, text)
    current_app.config["OUTBOX_WAKE"]()
    return jsonify(result), (422 if result.get("errors") else 201)


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
