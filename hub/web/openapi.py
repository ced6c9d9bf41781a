"""The OpenAPI 3.1 document of the JSON API, built from the app's registered routes and
the contract each view declares (hub/web/contract.py): the same msgspec types that
validate a request give its parameters, its body and its answers here.

Each operation's description is its view's docstring, so a route cannot be added without
being documented: `tests/test_web_openapi.py` fails on any /api/ route without one, or
without a contract.
"""

import inspect
import re
from typing import Any

import msgspec
from flask import Blueprint, Flask, current_app, jsonify

from hub.nul import NUL_FREE
from hub.web import contract as contracts
from hub.web.contract import CSV, CSV_BODY, DESCRIPTIONS, JSON, Contract

blueprint = Blueprint("openapi", __name__)

_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_SKIP_METHODS = {"HEAD", "OPTIONS"}
_REF = "#/components/schemas/{name}"
_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"],
          "additionalProperties": True}  # fmt: skip
_ROWS_ERROR = {**_ERROR, "properties": {**_ERROR["properties"], "rows": {"type": "array", "items": {
    "type": "object", "properties": {"line": {"type": "integer"}, "reason": {"type": "string"}}}}}}  # fmt: skip


def _path(rule: str) -> str:
    return _PARAM.sub(lambda m: "{" + m.group(2) + "}", rule)


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


class _Schemas:
    """The JSON Schemas of the contracts' types; shared definitions go to components."""

    def __init__(self) -> None:
        self.types: list[Any] = []

    def of(self, kind: Any) -> int:
        self.types.append(kind)
        return len(self.types) - 1

    def build(self) -> tuple[list[dict], dict]:
        schemas, components = msgspec.json.schema_components(self.types, ref_template=_REF)
        return [_plain(s) for s in schemas], {k: _plain(v) for k, v in components.items()}


def _plain(schema: Any) -> Any:
    """Without msgspec's `format: decimal` (no reader knows it; the pattern says it all),
    and with the rule the contract checks of every text: no NUL (hub/web/contract.py)."""
    if isinstance(schema, dict):
        plain = {k: _plain(v) for k, v in schema.items()
                 if not (k == "format" and v == "decimal")}  # fmt: skip
        return {**plain, "pattern": NUL_FREE} if _free_text(plain) else plain
    if isinstance(schema, list):
        return [_plain(v) for v in schema]
    return schema


def _free_text(schema: dict) -> bool:
    """A string any character may fill (the others' patterns, formats or values admit no
    NUL already)."""
    return schema.get("type") == "string" and not schema.keys() & {"pattern", "format", "enum"}


def _parameters(where: str, kind: type | None, schemas: _Schemas) -> list[tuple[str, int]]:
    if kind is None:
        return []
    return [(where, schemas.of(kind))]


def _fields(schema: dict, components: dict) -> dict:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _answers(declared: Contract, role: str) -> dict:
    ok: dict = {"description": DESCRIPTIONS.get(declared.status, "OK"), "content": {}}
    for media in declared.media:
        ok["content"][media] = {"schema": {"type": "string"} if media != JSON else
                                {"type": "object"}}  # fmt: skip
    answers = {str(status): {**ok, "description": DESCRIPTIONS.get(status, "OK")}
               for status in (declared.status, *declared.also)}  # fmt: skip
    statuses = {400, 413, *declared.errors} | (set() if role == "none" else {401, 403})
    for status in sorted(statuses):
        body = _ROWS_ERROR if status == 422 and declared.body == CSV_BODY else _ERROR
        answers[str(status)] = {"description": DESCRIPTIONS[status],
                                "content": {JSON: {"schema": body}}}  # fmt: skip
    return answers


def document(app: Flask) -> dict:
    schemas = _Schemas()
    pending = []
    for method, path, description, view in operations(app):
        declared = contracts.of(view) or Contract()
        answer = schemas.of(declared.answer) if declared.answer is not None else None
        body = None
        if declared.body is not None and declared.body != CSV_BODY:
            body = schemas.of(declared.body)
        params = (_parameters("path", declared.path, schemas)
                  + _parameters("query", declared.query, schemas))  # fmt: skip
        pending.append((method, path, description, view, declared, answer, body, params))
    built, components = schemas.build()

    paths: dict[str, dict] = {}
    for method, path, description, view, declared, answer, body, params in pending:
        role = getattr(view, "required_role", "none")
        operation = {
            "operationId": f"{method.lower()}_{view.__name__}",
            "summary": description.split("\n")[0].split(". ")[0].rstrip("."),
            "description": description,
            "parameters": [
                {"name": name, "in": where, "required": where == "path" or name in
                 fields.get("required", []), "schema": field}
                for where, index in params
                for fields in [_fields(built[index], components)]
                for name, field in fields.get("properties", {}).items()
            ],  # fmt: skip
            "responses": _answers(declared, role),
            "x-required-role": role,
        }
        if answer is not None:
            operation["responses"][str(declared.status)]["content"][JSON] = {"schema": built[answer]}
        if body is not None:
            operation["requestBody"] = {"required": declared.body_required,
                                        "content": {JSON: {"schema": built[body]}}}  # fmt: skip
        elif declared.body == CSV_BODY:
            operation["requestBody"] = {"required": True,
                                        "content": {CSV: {"schema": {"type": "string"}}}}  # fmt: skip
        if role == "none":
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
            "users and imports. 400: the request does not match this document (the error "
            "names the field and the limit; no text in a request may hold a NUL character); 404: what the path names does not exist; 409: "
            "the hub's state does not allow it now; 422: well formed but against a rule of "
            "the warehouse. docs/reliability.md lists the limits.",
        },
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "hub_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": dict(sorted(paths.items())),
    }


@blueprint.get("/api/openapi.json")
@contracts.contract()
def openapi_json():
    """This document (no login needed)."""
    return jsonify(document(current_app))
