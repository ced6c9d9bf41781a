"""The JSON API of counts and corrections: counts and their approval, count tasks, full
counts, and the reversal of a movement."""

import dataclasses
from typing import Annotated

import msgspec
from flask import Blueprint, abort, jsonify
from msgspec import Meta

from hub import corrections, counts, ledger, settings, store
from hub.web import db, site_today, site_zone
from hub.web.api_calls import answer_http_errors_as_json, domain_call, topics
from hub.web.api_params import (
    By,
    CountPageQuery,
    CountPath,
    LimitQuery,
    MovementPath,
    RunPath,
    TaskQuery,
)
from hub.web.auth import require_token
from hub.web.contract import contract
from protocol.envelope import utc_now
from protocol.types import Code, StationId, Text

blueprint = Blueprint("api_counts", __name__)
answer_http_errors_as_json(blueprint)


class Reversal(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]
    by: Text = "api"


@blueprint.post("/api/movements/<int:movement_id>/reverse")
@require_token
@contract(path=MovementPath, body=Reversal, status=201, errors=(404, 409, 422))
def reverse_movement(movement_id: int, body: Reversal):
    """Reverse the event a movement belongs to (all its movements), once, with a `reason`
    (required: say why) and `by`; the reversal is a hub event in the ledger like any other."""

    def run(conn):
        effects, now = ledger.Effects(), utc_now()
        event = corrections.reverse(conn, topics(), movement_id, body.reason, body.by, now,
                                    effects, site_zone())  # fmt: skip
        corrections.publish(conn, topics(), effects, now)
        return {"reversal_event": event, "movements": effects.movements}

    return domain_call(run, 201)


@blueprint.get("/api/counts")
@require_token
@contract(query=CountPageQuery)
def count_list(query: CountPageQuery):
    """Counts with the book they were reconciled against and their variance, newest first,
    optionally of one `status` (posted, pending, approved, rejected); paged."""
    rows = store.count_list(db(), query.status, query.limit, query.offset)
    return jsonify({"counts": [counts.count_dict(c) for c in rows]})


def _decide(count_id: int, approve: bool, by: str):
    def run(conn):
        found = corrections.settle_count(conn, topics(), count_id, approve, by, utc_now(),
                                          site_zone())  # fmt: skip
        return counts.count_dict(found)

    return domain_call(run, 201)


@blueprint.post("/api/counts/<int:count_id>/approve")
@require_token
@contract(path=CountPath, body=By, body_required=False, status=201, errors=(404, 409, 422))
def count_approve(count_id: int, body: By):
    """Approve a pending count: its variance (found at count time) is posted. `by` names
    who decided (default "api")."""
    return _decide(count_id, True, body.by)


@blueprint.post("/api/counts/<int:count_id>/reject")
@require_token
@contract(path=CountPath, body=By, body_required=False, status=201, errors=(404, 409, 422))
def count_reject(count_id: int, body: By):
    """Reject a pending count: nothing is posted."""
    return _decide(count_id, False, body.by)


@blueprint.get("/api/counts/due")
@require_token
@contract(query=LimitQuery)
def counts_due(query: LimitQuery):
    """The stock lines due for a cycle count by their product's ABC class or risk, in the
    order the hub issues their tasks (`limit` up to 1000): sku, location, class, high
    risk, last count and the day it fell due (null: never counted)."""
    conn = db()
    due = counts.due_now(conn, settings.load(conn), site_today(), query.limit)
    return jsonify({"due": [dataclasses.asdict(d) for d in due]})


@blueprint.get("/api/count-tasks")
@require_token
@contract(query=TaskQuery)
def count_tasks(query: TaskQuery):
    """Count tasks issued to stations, optionally of one `status` (open, done)."""
    return jsonify({"tasks": store.count_tasks(db(), None, query.status)})


class CountTaskIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    station: StationId
    location: Code
    sku: Code | None = None


@blueprint.post("/api/count-tasks")
@require_token
@contract(body=CountTaskIn, status=201, errors=(422,))
def post_count_task(body: CountTaskIn):
    """Issue a count task to a `station` for a `location` (and optionally one `sku`). 422
    when the station has never reported or the location is unknown: no one could close
    the task."""
    now = utc_now().isoformat()

    def run(conn):
        counts.check_target(conn, body.station, body.location)
        return {"task": counts.issue_task(conn, topics(), body.station, body.location,
                                          body.sku, None, now)}  # fmt: skip

    return domain_call(run, 201)


class FullCountIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    stations: Annotated[list[StationId], Meta(min_length=1, max_length=1000)]


@blueprint.post("/api/full-counts")
@require_token
@contract(body=FullCountIn, status=201, errors=(422,))
def post_full_count(body: FullCountIn):
    """Start a full count: one task per location, spread over the given `stations` (422
    names one that has never reported)."""
    now = utc_now().isoformat()

    def run(conn):
        run_id, tasks = counts.start_full_count(conn, topics(), body.stations, now)
        return {"run": run_id, "tasks": tasks}

    return domain_call(run, 201)


@blueprint.get("/api/full-counts/<run>")
@require_token
@contract(path=RunPath, errors=(404,))
def full_count(run: str):
    """A full count's progress: tasks, locations still open, counts and their variance."""
    found = counts.full_count_report(db(), run)
    if found is None:
        abort(404, f"no full count {run}")
    return jsonify(found)
