"""The live pages' long poll: `/changes` answers when the ledger has moved.

Bounded (hub/changes.py): a poll that may not wait is answered at once with the current
version and `retry_after`, so open pages never take every thread of the web server.
"""

import hashlib

from flask import Blueprint, current_app, g, jsonify, request, session

from hub.web.pages import login_gate

blueprint = Blueprint("live", __name__)
blueprint.before_request(login_gate)


@blueprint.get("/changes")
def changes():
    """`{"version": n}` when the ledger changed since `since` (or after 25 s); beyond the
    waiting room's share, at once `{"version": n, "retry_after": s}` with `Retry-After`."""
    try:
        since = int(request.args.get("since", "0"))
    except ValueError:
        return jsonify({"error": "`since` must be a whole number"}), 400
    answer = current_app.config["LIVE_POLLS"].poll(_session_key(), since)
    if answer.retry_after is None:
        return jsonify({"version": answer.version})
    response = jsonify({"version": answer.version, "retry_after": answer.retry_after})
    response.headers["Retry-After"] = str(answer.retry_after)
    return response


def _session_key() -> str:
    """Whose share of the waiting room: the login session (its tabs), or the token."""
    sid = session.get("sid")
    if sid:
        return "session:" + hashlib.sha256(sid.encode()).hexdigest()
    return f"{g.account.name}@{request.remote_addr}"
