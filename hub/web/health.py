"""/healthz (the hub and its loops, for load balancers and people) and /livez (the web
server answers at all: what the hub's own watchdog thread probes)."""

import time

from flask import Blueprint, current_app, jsonify

from hub import store
from hub.web import db

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    """Health for load balancers and people (no login): 200 when the database answers and
    every loop of this process (ingest, outbox, housekeeping, web; and for one of several
    processes its leases' heartbeat, and an ingest worker's broker connection) finished a
    turn within its limit; 503 naming the stalled ones. `loops` gives each one's last
    progress, `workers` the hub processes alive on this database (none for a single hub)."""
    now = time.time()
    live = store.workers_live(db(), now - current_app.config["WORKERS_STALE_S"])
    heartbeats = current_app.config["HEARTBEATS"]
    states = heartbeats.states() if heartbeats is not None else []
    loops = {
        state.name: {"alive": state.alive, "last_progress_s": state.last_progress_s,
                     "stall_after_s": state.stall_after_s, "turns": state.turns}
        for state in states
    }  # fmt: skip
    stalled = [name for name, loop in loops.items() if not loop["alive"]]
    workers = [{"id": w.id, "role": w.role, "host": w.host, "pid": w.pid,
                "heartbeat_age_s": round(now - w.heartbeat, 3)} for w in live]  # fmt: skip
    body = {"status": "stalled" if stalled else "ok", "stalled": stalled, "loops": loops,
            "workers": workers}  # fmt: skip
    return jsonify(body), 503 if stalled else 200


@blueprint.get("/livez")
def livez():
    return jsonify({"status": "ok"})
