"""The supervisors' pages (server-rendered, updated live by long-polling for changes)."""

from flask import Blueprint, current_app, jsonify, render_template, request

from hub import store
from hub.web import db
from hub.web.api import station_rows

blueprint = Blueprint("pages", __name__)


def overview_data() -> dict:
    conn = db()
    return {
        "version": current_app.config["CHANGES"].version,
        "stations": station_rows(),
        "movements": store.movements_latest(conn, 25),
        "stock": [{"sku": sku, "on_hand": qty} for sku, qty in store.stock_list(conn, None, 50)],
        "alerts": store.alerts_open(conn, 20),
    }


@blueprint.get("/")
def overview():
    return render_template("overview.html", data=overview_data())


@blueprint.get("/overview.json")
def overview_json():
    return jsonify(overview_data())


@blueprint.get("/changes")
def changes():
    """Long poll: answers when the ledger has changed since `since`, or after 25 s."""
    try:
        since = int(request.args.get("since", "0"))
    except ValueError:
        return jsonify({"error": "`since` must be a whole number"}), 400
    version = current_app.config["CHANGES"].wait_newer(since, timeout=25)
    return jsonify({"version": version})
