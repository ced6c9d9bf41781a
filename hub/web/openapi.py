"""The OpenAPI 3.1 document of the JSON API, built from the app's registered routes.

Each operation's description is its view's docstring (or an entry in DESCRIPTIONS for
views written without one), so a route cannot be added without being documented: the test
`test_web_openapi` fails on any /api/ route that has neither.
"""

import inspect
import re

from flask import Blueprint, Flask, current_app, jsonify

blueprint = Blueprint("openapi", __name__)

# Routes of api.py whose views have no docstring (yet): (METHOD, path) -> description.
DESCRIPTIONS = {
    ("GET", "/api/stations"): "Every station with its state, mode, operator, devices, "
    "last scan and how many of its events are journaled but not yet applied.",
    ("GET", "/api/stock"): "On hand per SKU with its lines by location, lot and owner; "
    "`sku` for one SKU, else paged by `limit` and `offset`.",
    ("GET", "/api/movements"): "The latest ledger movements, newest first; `before` (a "
    "movement id) pages back, `limit` up to 1000.",
    ("POST", "/api/products"): "Create or replace products (one object or a list, the "
    "protocol Product shape); changed ones are published to the stations.",
    ("POST", "/api/orders"): "Create or replace sales orders (protocol Order shape); 409 "
    "when an order is already packed or shipped.",
    ("GET", "/api/alerts"): "Open alerts, newest first.",
    ("GET", "/api/dead-letters"): "Messages the ingest rejected, with the topic and the reason.",
    ("GET", "/api/openapi.json"): "This document.",
}
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_SKIP_METHODS = {"HEAD", "OPTIONS"}


def _path(rule: str) -> str:
    return _PARAM.sub(lambda m: "{" + m.group(2) + "}", rule)


def _parameters(rule: str) -> list[dict]:
    return [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer" if conv == "int" else "string"}}
        for conv, name in _PARAM.findall(rule)
    ]  # fmt: skip


def operations(app: Flask) -> list[tuple[str, str, str, object]]:
    """(method, OpenAPI path, description or '', view) of every /api/ route."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - _SKIP_METHODS):
            doc = inspect.getdoc(view) or DESCRIPTIONS.get((method, _path(rule.rule)), "")
            found.append((method, rule.rule, doc, view))
    return found


def document(app: Flask) -> dict:
    paths: dict[str, dict] = {}
    for method, rule, description, view in operations(app):
        summary = description.split("\n")[0].split(". ")[0].rstrip(".")
        operation = {
            "operationId": f"{method.lower()}_{view.__name__}",
            "summary": summary,
            "description": description,
            "parameters": _parameters(rule),
            "responses": {
                "200": {"description": "OK (JSON)"},
                "400": {"description": "bad input; `error` says why"},
                "401": {"description": "no valid token or login"},
                "403": {"description": "the role is too low, or a session POST lacks "
                        "X-CSRF-Token"},  # fmt: skip
            },
            "x-required-role": getattr(view, "required_role", "none"),
        }
        if rule == "/api/openapi.json":
            operation["security"] = []
        paths.setdefault(_path(rule), {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Warehouse hub API",
            "version": "1",
            "description": "Bearer tokens from the hub config act as a supervisor. A "
            "logged-in browser session works too; its POSTs need the X-CSRF-Token header "
            "(GET /api/me returns it). Roles: viewer reads, supervisor acts, admin manages "
            "users and imports.",
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "hub_session"},
            }
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": dict(sorted(paths.items())),
    }


@blueprint.get("/api/openapi.json")
def openapi_json():
    return jsonify(document(current_app))
