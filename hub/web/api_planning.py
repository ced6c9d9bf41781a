"""The JSON API of inventory policy: settings, contingency plans (uplifts) and the
housekeeping run (expiry alerts, ABC classes, stored reports, due cycle counts)."""

import msgspec
from flask import Blueprint, jsonify, request

from hub import housekeeping, planning, settings, store
from hub.web import db, site_zone
from hub.web.api_calls import NotFound, answer_http_errors_as_json, changed, domain_call, topics
from hub.web.api_params import Flag, SavedIds, UpliftPath
from hub.web.auth import require_token
from hub.web.contract import as_list, contract, one_or_many
from protocol.envelope import utc_now

blueprint = Blueprint("api_planning", __name__)
answer_http_errors_as_json(blueprint)


@blueprint.get("/api/settings")
@require_token
@contract(answer=settings.Settings)
def get_settings():
    """The inventory policy (thresholds, frequencies, planning windows): docs/inventory.md."""
    return jsonify(msgspec.to_builtins(settings.load(db())))


@blueprint.put("/api/settings")
@require_token
@contract(body=settings.Settings, answer=settings.Settings, errors=(422,))
def put_settings(body: settings.Settings):
    """Change some settings (a JSON object of the keys to change); checked as a whole."""
    changes = msgspec.json.decode(request.get_data() or b"{}")  # the keys sent, checked above

    def run(conn):
        merged = {**msgspec.to_builtins(settings.load(conn)), **changes}
        try:
            new = msgspec.convert(merged, settings.Settings)
        except msgspec.ValidationError as exc:
            raise ValueError(f"invalid settings: {exc}") from None
        settings.save(conn, new)
        return msgspec.to_builtins(new)

    return domain_call(run)


@blueprint.get("/api/uplifts")
@require_token
@contract()
def uplifts():
    """Contingency plans: expected demand multiplied by `factor` from `start` to `end`."""
    keys = ("id", "sku", "start", "end", "factor", "note")
    return jsonify({"uplifts": [dict(zip(keys, r, strict=True)) for r in store.uplifts(db())]})


@blueprint.post("/api/uplifts")
@require_token
@contract(body=one_or_many(planning.Uplift), status=201, answer=SavedIds, errors=(422,))
def post_uplift(body):
    """Add contingency plans (one object or a list); 422 for an unknown SKU."""
    plans = as_list(body)
    return domain_call(lambda conn: {"saved": [planning.add_uplift(conn, p) for p in plans]}, 201)


@blueprint.delete("/api/uplifts/<int:uplift_id>")
@require_token
@contract(path=UpliftPath, errors=(404,))
def delete_uplift(uplift_id: int):
    """Remove a contingency plan."""

    def run(conn):
        if not store.uplift_delete(conn, uplift_id):
            raise NotFound(f"no uplift {uplift_id}")
        return {"deleted": uplift_id}

    return domain_call(run)


class HousekeepingQuery(msgspec.Struct, kw_only=True):
    refresh: Flag = False


@blueprint.post("/api/housekeeping")
@require_token
@contract(query=HousekeepingQuery)
def run_housekeeping(query: HousekeepingQuery):
    """Expiry alerts, ABC classes, stored reports and due cycle counts now (the hub also
    runs this itself, every minute). The ABC classes and the stored reports (dead-stock,
    surplus, reorder) are recomputed once a day; `refresh=1` recomputes them now. Answers
    `expiring`, `abc_refreshed`, `reports_refreshed` (names) and `tasks`."""
    result = housekeeping.tick(db(), topics(), utc_now(), query.refresh, site_zone())
    changed()
    return jsonify({"expiring": result.expiring, "abc_refreshed": result.abc_refreshed,
                    "reports_refreshed": result.reports_refreshed,
                    "tasks": result.tasks})  # fmt: skip
