"""How the JSON API's views call the domain and answer: errors as `{"error": ...}` (405
keeping its `Allow` header), domain refusals as 404 / 409 / 422, CSV in and out."""

from collections import Counter
from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from hub import corrections, csvio, orders, purchasing, routing, store
from hub.web import db
from hub.web.contract import CSV
from protocol.topics import Topics


class NotFound(Exception):
    """What the request names does not exist (answered 404)."""


def error(status: int, message: str, headers: dict | None = None) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    response.headers.update(headers or {})
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="warehouse-hub"'
    return response


def answer_http_errors_as_json(blueprint: Blueprint) -> None:
    """Flask's own errors (400 from a contract, 404, 405, 413) as JSON, headers kept: a
    405 says in `Allow` which methods the path takes."""

    blueprint.register_error_handler(HTTPException, http_error)


def http_error(exc: HTTPException) -> Response:
    return error(exc.code or 500, exc.description or exc.name, kept_headers(exc))


def kept_headers(exc: HTTPException) -> dict[str, str]:
    """The headers an HTTP error carries (`Allow` of a 405), less its own content type."""
    return {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}


def topics() -> Topics:
    return current_app.config["TOPICS"]


def changed() -> None:
    """Committed rows wait in the outbox; live pages wait on the change feed."""
    current_app.config["OUTBOX_WAKE"]()
    current_app.config["CHANGES"].bump()


def domain_call(run: Callable, status: int = 200) -> tuple | Response:
    """Run a domain write in one transaction; its refusals become 404 / 409 / 422."""
    try:
        with store.transaction(db()):
            result = run(db())
    except (orders.OrderConflict, purchasing.PurchaseConflict,
            corrections.AlreadySettled, routing.RoutingConflict) as exc:  # fmt: skip
        return error(409, str(exc))
    except (NotFound, corrections.NothingToCorrect) as exc:
        return error(404, str(exc))
    except ValueError as exc:
        return error(422, str(exc))
    changed()
    return jsonify(result), status


def each_once(what: str, keys: list) -> None:
    """A list body names each record once, as a CSV names a row whose key an earlier row
    has: two versions of one record in one request is a mistake, not a replacement.
    ValueError: 422 in `domain_call`."""
    twice = sorted(key for key, n in Counter(keys).items() if n > 1)
    if twice:
        raise ValueError(f"{what} {twice[0]} is listed twice")


def csv_response(text: str, name: str) -> Response:
    disposition = f'attachment; filename="{name}.csv"'
    return Response(text, mimetype=CSV, headers={"Content-Disposition": disposition})


def csv_import(kind: str, dry_run: bool) -> tuple | Response:
    """The body as CSV: `dry_run` checks every row as the import would and keeps nothing
    (200, `checked`); otherwise all rows are saved or none (201, `imported`). Bad rows:
    422 with each line and reason."""
    try:
        text = request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        return error(400, "the CSV must be UTF-8")
    try:
        result = csvio.import_file(db(), topics(), kind, text, dry_run)
    except csvio.CsvImportError as exc:
        message = "the file has bad rows" + ("" if dry_run else ": nothing was imported")
        response = jsonify({"error": message,
                            "rows": [{"line": e.line, "reason": e.reason} for e in exc.errors]})
        response.status_code = 422
        return response
    if dry_run:
        return jsonify({"checked": result, "dry_run": True})
    changed()
    return jsonify({"imported": result}), 201
