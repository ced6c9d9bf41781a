"""The kiosk's Flask app: one page, its live feed (Server-Sent Events) and its buttons.

It only reads the core's published snapshots and hands button presses to the core's
input queue as `Touch` values; it never touches station state itself.
"""

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, render_template, request

from station.inputs import Emit, Touch
from station.snapshot import SnapshotBoard

# What the kiosk's buttons may ask for; anything else is refused with 400.
TOUCH_COMMANDS = frozenset(
    {"done", "undo", "cancel", "short", "override", "mode", "tare", "weigh", "reason", "task",
     "condition", "return", "apart"}
)  # fmt: skip
MAX_ARG = 80
POLL_SECONDS = 0.5  # how soon a stream notices the server stopping
KEEPALIVE_SECONDS = 15.0


# The names a kiosk always answers to: the bench's own screen opens it on the loopback.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def create_app(
    board: SnapshotBoard,
    emit: Emit,
    stopping: threading.Event,
    hosts: frozenset[str] = LOOPBACK_NAMES,
) -> Flask:
    """`hosts`: the names (and addresses) the page may be asked for by; any other Host is
    refused, so a site whose name an attacker points at this machine (DNS rebinding)
    reaches nothing: the browser would count it as that site's own origin."""
    app = Flask(__name__)
    app.json.sort_keys = False

    @app.before_request
    def known_host() -> tuple[Response, int] | None:
        name = _host_name(request.host)
        if name not in hosts:
            return jsonify(error=f"unknown Host {request.host!r}: this kiosk answers to "
                                 f"{', '.join(sorted(hosts))} ([kiosk] hosts)"), 421  # fmt: skip
        return None

    @app.get("/")
    def page() -> str:
        _, snapshot = board.latest()
        return render_template("kiosk.html", snapshot=snapshot)

    @app.get("/snapshot")
    def snapshot() -> Response:
        version, data = board.latest()
        return jsonify(version=version, snapshot=data)

    @app.get("/events")
    def events() -> Response:
        return Response(
            _stream(board, stopping),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.post("/touch")
    def touch() -> tuple[Response, int]:
        problem = _cross_site(request) or _not_json(request)
        if problem:
            return jsonify(error=problem), 403 if "origin" in problem else 415
        parsed = _touch(request.get_json(silent=True))
        if isinstance(parsed, str):
            return jsonify(error=parsed), 400
        emit(parsed)
        return jsonify(accepted=True), 202

    return app


def _stream(board: SnapshotBoard, stopping: threading.Event) -> Iterator[str]:
    yield "retry: 1000\n\n"
    version = -1
    quiet_since = time.monotonic()
    while not stopping.is_set():
        newer, snapshot = board.wait_newer(version, POLL_SECONDS)
        if newer != version:
            version = newer
            quiet_since = time.monotonic()
            yield f"id: {version}\ndata: {_json(snapshot)}\n\n"
        elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
            quiet_since = time.monotonic()
            yield ": keepalive\n\n"


def _json(snapshot: dict[str, Any]) -> str:
    # One line: a newline inside would end the SSE data field.
    return json.dumps(snapshot, default=str, separators=(",", ":"))


def _host_name(host: str) -> str:
    """The name in a Host header, without its port or an IPv6 address's brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _cross_site(req) -> str | None:
    """Why this POST is not from our own page, or None.

    Browsers send Origin (and Sec-Fetch-Site) on every POST; a page on another site can
    make the browser post here, so the origin has to be ours.
    """
    origin = req.headers.get("Origin")
    if origin is not None:
        parts = urlsplit(origin)
        if parts.netloc != req.host or parts.scheme != req.scheme:
            return f"cross-origin request refused (origin {origin})"
    site = req.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return f"cross-origin request refused (Sec-Fetch-Site {site})"
    return None


def _not_json(req) -> str | None:
    # A cross-site form cannot send application/json without a CORS preflight we never allow.
    if req.mimetype != "application/json":
        return "send JSON (Content-Type: application/json)"
    return None


def _touch(body: object) -> Touch | str:
    if not isinstance(body, dict):
        return 'body must be a JSON object like {"command": "done"}'
    command, arg = body.get("command"), body.get("arg")
    if command not in TOUCH_COMMANDS:
        return f"command must be one of {', '.join(sorted(TOUCH_COMMANDS))}"
    if arg is not None and (not isinstance(arg, str) or not 0 < len(arg) <= MAX_ARG):
        return f"arg must be a string of 1 to {MAX_ARG} characters, or null"
    return Touch(command, arg)
