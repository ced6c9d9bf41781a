"""The OpenAPI 3.1 document of the JSON API, built from the app's registered routes.

Each operation's description is its view's docstring, so a route cannot be added without
being documented: `tests/test_web_openapi.py` fails on any /api/ route without one.
"""

import inspect
import re

from flask import Blueprint, Flask, current_app, jsonify

blueprint = Blueprint("openapi", __name__)

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
            found.append((method, _path(rule.rule), inspect.getdoc(view) or "", view))
    return found


def _rules(app: Flask) -> dict[str, str]:
    """OpenAPI path -> the Flask rule it came from (for the path parameters' types)."""
    return {_path(rule.rule): rule.rule for rule in app.url_map.iter_rules()}


def document(app: Flask) -> dict:
    paths: dict[str, dict] = {}
    rules = _rules(app)
    for method, path, description, view in operations(app):
        rule = rules[path]
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
                "403": {
                    "description": "the role is too low, or a session POST lacks X-CSRF-Token"
                },  # fmt: skip
            },
            "x-required-role": getattr(view, "required_role", "none"),
        }
        if path == "/api/openapi.json":
            operation["security"] = []
        paths.setdefault(path, {})[method.lower()] = operation
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
    """This document (no login needed)."""
    return jsonify(document(current_app))
