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


def create_app(board: SnapshotBoard, emit: Emit, stopping: threading.Event) -> Flask:
    app = Flask(__name__)
    app.json.sort_keys = False

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
