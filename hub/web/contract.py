"""What each API operation accepts and answers, declared once next to its view.

`@contract(...)` names the msgspec types of the path, the query string and the body; the
same declaration validates every request (a request that does not match is answered 400
naming the field and the limit, before the view runs) and is what hub/web/openapi.py
turns into the OpenAPI document. So the document cannot drift from the checks.

Status codes mean one thing on every operation: 400 the request does not match the
document; 404 what the path names does not exist; 409 the hub's state does not allow it
now; 422 the request matches the document but breaks a rule it cannot express (an
unknown SKU in a kit, `end` before `start`, a CSV row).

No text anywhere in a request may hold a NUL character (U+0000): PostgreSQL cannot store
one, so both backends refuse it alike, 400 naming the field, before the view runs.
"""

import functools
from dataclasses import dataclass
from typing import Any

import msgspec
from flask import abort, request

from hub.nul import nul_path

JSON = "application/json"
CSV = "text/csv"
SVG = "image/svg+xml"

DESCRIPTIONS = {
    200: "OK",
    201: "created or done",
    202: "accepted: queued for the station",
    400: "the request does not match this document (or a text in it holds a NUL character, "
    "which no field takes); `error` names the field and the limit",
    401: "no valid token or login",
    403: "the role is too low, or a session POST lacks X-CSRF-Token",
    404: "what the path names does not exist; `error` says which",
    409: "the hub's state does not allow this now; `error` says why",
    413: "the body is larger than the hub accepts (8 MiB)",
    422: "well formed, but breaks a rule of the warehouse; `error` (and `rows` for a CSV "
    "file) says which",
}


@dataclass(frozen=True)
class Contract:
    path: type | None = None  # a Struct of the path's parameters
    query: type | None = None  # a Struct of the query string's parameters
    body: Any = None  # the msgspec type of a JSON body, or CSV_BODY
    body_required: bool = True
    status: int = 200  # on success
    also: tuple[int, ...] = ()  # other success statuses (a CSV dry run answers 200, not 201)
    media: tuple[str, ...] = (JSON,)  # of the success answer
    answer: Any = None  # the msgspec type of the success answer; None: a JSON object
    errors: tuple[int, ...] = ()  # beyond 400, 401, 403 and 413


CSV_BODY = "csv"


def contract(**fields: Any):
    """Validate the request against the declared types, then call the view with the path's
    values as keyword arguments and `query=` / `body=` (decoded Structs) when declared."""
    declared = Contract(**fields)

    def decorate(view):
        @functools.wraps(view)
        def checked(**view_args):
            kwargs = _path(declared, view_args)
            if declared.query is not None:
                kwargs["query"] = _convert(_query_args(declared.query), declared.query, "query")
            if declared.body is not None and declared.body != CSV_BODY:
                kwargs["body"] = _body(declared)
            return view(**kwargs)

        checked.contract = declared
        return checked

    return decorate


def _path(declared: Contract, view_args: dict) -> dict:
    if declared.path is None:
        _refuse_nul(view_args, "path")
        return view_args
    return msgspec.structs.asdict(_convert(view_args, declared.path, "path"))


def _query_args(kind: type) -> dict[str, str]:
    """The query string; an empty value is an absent one (`?limit=` is the default), but
    where the Struct names it in `KEEP_EMPTY` (a report's `owner=`: our own stock)."""
    keep = getattr(kind, "KEEP_EMPTY", ())
    return {k: v for k, v in request.args.items() if v != "" or k in keep}


def _convert(values: dict, kind: type, where: str):
    _refuse_nul(values, where)
    try:
        return msgspec.convert(values, kind, strict=False)
    except msgspec.ValidationError as exc:
        abort(400, f"{where}: {exc}")


def _refuse_nul(value: Any, where: str) -> None:
    found = nul_path(value, where)
    if found is not None:
        abort(400, f"{found}: holds a NUL character (U+0000), which no field takes")


def _body(declared: Contract):
    raw = request.get_data()
    if not raw.strip() and not declared.body_required:
        raw = b"{}"
    # Not strict: JSON Schema's integer includes 5.0, which msgspec takes only so.
    # msgspec reports invalid UTF-8 in an object key as UnicodeDecodeError, not DecodeError.
    try:
        body = msgspec.json.decode(raw, type=declared.body, strict=False)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
        abort(400, f"body: {exc}")
    _refuse_nul(msgspec.to_builtins(body), "body")
    return body


def one_or_many(kind: type) -> Any:
    """A body of one object or a list of them (the list first: both are objects' shapes)."""
    return list[kind] | kind


def as_list(body: Any) -> list:
    return body if isinstance(body, list) else [body]


def of(view) -> Contract | None:
    """The contract a view was declared with (through the auth wrappers)."""
    return getattr(view, "contract", None)
