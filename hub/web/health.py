"""/healthz (the hub and its loops, for load balancers and people) and /livez (the web
server answers at all: what the hub's own watchdog thread probes)."""

from flask import Blueprint, current_app, jsonify

from hub import store
from hub.web import db

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    """Health for load balancers and people (no login): 200 when the database answers and
    every loop of the hub (ingest, outbox, housekeeping, web) finished a turn within its
    limit; 503 naming the stalled ones. `loops` gives each one's last progress."""
    store.meta_get(db(), "schema")  # the database answers
    heartbeats = current_app.config["HEARTBEATS"]
    states = heartbeats.states() if heartbeats is not None else []
    loops = {
        state.name: {"alive": state.alive, "last_progress_s": state.last_progress_s,
                     "stall_after_s": state.stall_after_s, "turns": state.turns}
        for state in states
    }  # fmt: skip
    stalled = [name for name, loop in loops.items() if not loop["alive"]]
    body = {"status": "stalled" if stalled else "ok", "stalled": stalled, "loops": loops}
    return jsonify(body), 503 if stalled else 200


@blueprint.get("/livez")
def livez():
    return jsonify({"status": "ok"})
