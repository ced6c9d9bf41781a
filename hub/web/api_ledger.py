"""The JSON API of the ledger as it stands: stations, stock, movements, alerts,
dead letters and reports. Every view's docstring is its description in the OpenAPI
document (hub/web/openapi.py); its contract is its parameters, body and answers."""

from typing import Annotated

import msgspec
from flask import Blueprint, abort, jsonify, request
from msgspec import Meta

from hub import csvio, reports, store
from hub.reports import Query
from hub.web import db, site_today, views
from hub.web.api_calls import answer_http_errors_as_json, csv_response, error
from hub.web.api_params import BackQuery, KeysetQuery, LimitQuery, ReportQuery
from hub.web.auth import require_token
from hub.web.contract import CSV, JSON, contract
from protocol.types import Code

blueprint = Blueprint("api_ledger", __name__)
answer_http_errors_as_json(blueprint)


@blueprint.get("/api/stations")
@require_token
@contract()
def stations():
    """Every station with its state, mode, operator, devices, last scan, and how many of
    its journaled events the hub has not applied yet (`unacked`)."""
    return jsonify({"stations": views.station_rows(db())})


class StockQuery(KeysetQuery):
    sku: Code | None = None


@blueprint.get("/api/stock")
@require_token
@contract(query=StockQuery)
def stock(query: StockQuery):
    """On hand, committed, quarantined and available per SKU with its lines by location,
    lot and owner: `sku` for one SKU, else every SKU with a balance in SKU order, `limit` (up
    to 1000) at a time after `after` (the last SKU of the previous page; `next` gives it).
    `quarantined` is on hand in held (quarantine) locations: owned and valued, not for
    sale. `available` is on hand less committed less quarantined (until December 2026 it left
    quarantined units in, wrongly)."""
    if request.args.get("offset") not in (None, "", "0"):
        abort(400, "this list pages with `after` (the last key of the previous page, as "
                   "given in `next`), not `offset`")  # fmt: skip
    sku, limit = query.sku, query.limit
    rows = store.stock_list(db(), sku, limit, query.after)
    if sku and not rows:
        rows = [(sku, 0)]
    items = [_stock_item(row_sku, on_hand) for row_sku, on_hand in rows]
    paged = not sku and len(items) == limit
    return jsonify({"stock": items, "next": {"after": items[-1]["sku"]} if paged else None})


def _stock_item(sku: str, on_hand: int) -> dict:
    lines = [
        {"location": loc, "lot": lot or None, "owner": owner or None, "qty": qty}
        for loc, lot, owner, qty in store.stock_lines(db(), sku)
    ]
    committed, quarantined = store.committed(db(), sku), store.quarantined(db(), sku)
    return {"sku": sku, "on_hand": on_hand, "committed": committed, "quarantined": quarantined,
            "available": on_hand - committed - quarantined, "locations": lines}  # fmt: skip


@blueprint.get("/api/movements")
@require_token
@contract(query=BackQuery)
def movements(query: BackQuery):
    """The latest ledger movements, newest first, with their station event's key; `before`
    (a movement id) pages back, `limit` up to 1000."""
    return jsonify({"movements": store.movements_latest(db(), query.limit, query.before)})


@blueprint.get("/api/alerts")
@require_token
@contract(query=LimitQuery)
def alerts(query: LimitQuery):
    """Open alerts, newest first (`limit` up to 1000)."""
    return jsonify({"alerts": store.alerts_open(db(), query.limit)})


@blueprint.get("/api/dead-letters")
@require_token
@contract(query=LimitQuery)
def dead_letters(query: LimitQuery):
    """Messages the ingest rejected, newest first, with their topic and the reason."""
    return jsonify({"dead_letters": store.dead_letters(db(), query.limit)})


_NAMES = [*reports.REPORTS, *(f"{name}.csv" for name in reports.REPORTS)]


class ReportPath(msgspec.Struct):
    # Not a Literal: a report that does not exist is a 404 naming the reports.
    name: Annotated[str, Meta(extra_json_schema={"enum": _NAMES})]


@blueprint.get("/api/reports/<name>")
@require_token
@contract(path=ReportPath, query=ReportQuery, media=(JSON, CSV), errors=(404, 422))
def report(name: str, query: ReportQuery):
    """A report (stock, valuation, reorder, abc, dead-stock, surplus, kpis, margins, alerts,
    returns, quarantine) as JSON (`columns`, `rows`, `next`: the arguments of the next page,
    `summary`), or as CSV with the `.csv` suffix. Arguments: `limit`, `offset` (or `after`
    for reorder and margins), `sku`, `location`, `owner`, `since`/`until` (kpis, margins,
    returns), `all=1`, `kind` (alerts), `today`. kpis is a summary: its margins per sku
    are the margins report (until 2026-12 they were kpis rows of scope `sku:<sku>`).
    abc, dead-stock, surplus and reorder are read from rows the housekeeping computes once
    a day: their `summary.computed` says when (reorder lines show today's stock position)."""
    as_csv = name.endswith(".csv")
    name = name.removesuffix(".csv")
    build = reports.REPORTS.get(name)
    if build is None:
        abort(404, f"no report {name!r}; reports: {', '.join(reports.REPORTS)}")
    today = query.today or site_today()
    until = query.until or today
    if query.since and query.since > until:
        return error(422, f"`since` {query.since} is after `until` {until} (default: today)")
    result = build(db(), Query(**{**msgspec.structs.asdict(query), "today": today}))
    if as_csv:
        return csv_response(csvio.write(result.columns, result.rows), name)
    return jsonify({"report": result.name, "columns": result.columns, "rows": result.rows,
                    "next": result.next, "summary": result.summary})  # fmt: skip
