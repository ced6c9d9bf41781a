"""The JSON API of the floor as the supervisors' pages show it: overview, stock search, a
bin's contents, an order's scan log, commands to a station and label barcodes.

No route is in two modules; every view's docstring is its description in the OpenAPI
document and its contract its parameters, body and answers.
"""

from typing import Annotated, Literal

import msgspec
from flask import Blueprint, current_app, jsonify
from msgspec import Meta

from hub import planning, store
from hub.web import commands, db, label_pages, site_overview, site_today, views
from hub.web.api_calls import answer_http_errors_as_json, error
from hub.web.api_params import Flag, Key, Limit, LocationPath, Offset, OrderPath, StationPath
from hub.web.auth import api_role
from hub.web.contract import SVG, contract
from protocol.labels import MODES, label_pattern
from protocol.types import Text

blueprint = Blueprint("api_floor", __name__, url_prefix="/api")
answer_http_errors_as_json(blueprint)


@blueprint.get("/overview")
@api_role("viewer")
@contract()
def overview():
    """What the overview shows: today's KPIs, orders waiting and being packed, shipments
    per station and per packer (today, last hour, per hour), purchase orders due by today,
    the backlog (events at the stations, held, failed) and the hub's lag, stations (with
    `last_read`, and `not_ready` devices with `advice`), latest movements, open alerts; `workers`:
    the hub's processes when it runs as several; on a
    site of a company, `centre`: its bridge to the central hub (`state` up or down,
    `since`), else null; `transfers` under way between sites that involve this hub, and
    `in_transit`: units and value this site shipped and not yet received (`out`, still
    its own) and on their way to it (`in`, at the sender's FIFO cost); null on a central
    hub (GET /api/sites has every site's)."""
    return jsonify(site_overview())


class SearchQuery(msgspec.Struct, kw_only=True):
    q: Text = ""
    limit: Limit = 50
    offset: Offset = 0
    after: Key = ""
    negative: Flag = False
    low: Flag = False


@blueprint.get("/stock/search")
@api_role("viewer")
@contract(query=SearchQuery)
def stock_search(query: SearchQuery):
    """Products by SKU prefix, name (contains) or GTIN `q`, with on hand, paged by `limit`
    and `offset`. Without `q` the whole catalog, or with `negative=1` only SKUs with a line
    below zero, or with `low=1` the low-stock ones (available at or below the reorder
    point, both given), in SKU order, paged by `after` (the last SKU of the previous page,
    as given in `next`)."""
    text, limit = query.q.strip(), query.limit
    if text:
        rows = views.stock_rows(store.stock_search(db(), text, limit, query.offset))
        more = {"offset": query.offset + limit} if len(rows) == limit else None
        return jsonify({"stock": rows, "next": more})
    if query.low:
        rows = planning.low_stock(db(), site_today(), query.after, limit)
    else:
        rows = views.stock_rows(store.catalog_stock_page(db(), query.after, limit,
                                                         query.negative))  # fmt: skip
    more = {"after": rows[-1]["sku"]} if len(rows) == limit else None
    return jsonify({"stock": rows, "next": more})


class BinQuery(msgspec.Struct, kw_only=True):
    limit: Limit = 50
    offset: Offset = 0


@blueprint.get("/locations/<location>/stock")
@api_role("viewer")
@contract(path=LocationPath, query=BinQuery)
def location_stock(location: str, query: BinQuery):
    """What is in one location (bin): sku, name, lot, owner, qty of its non-zero lines."""
    rows = store.location_stock(db(), location, query.limit, query.offset)
    return jsonify({"location": location, "stock": views.location_rows(rows)})


@blueprint.get("/orders/<order_id>/scan-log")
@api_role("viewer")
@contract(path=OrderPath, errors=(404,))
def order_scan_log(order_id: str):
    """An order's lines and its scan log: who scanned what at which station, with verdicts."""
    found = views.order(db(), order_id)
    if found is None:
        return error(404, f"no order {order_id!r}")
    return jsonify(found)


class CommandPath(StationPath):
    name: Literal[commands.NAMES]  # type: ignore[valid-type]


class CommandArgs(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    mode: Literal[MODES] | None = None  # type: ignore[valid-type]


@blueprint.post("/stations/<station>/commands/<name>")
@api_role("supervisor")
@contract(path=CommandPath, body=CommandArgs, body_required=False, status=202,
          errors=(404, 422))  # fmt: skip
def station_command(station: str, name: str, body: CommandArgs):
    """Send a command to a station: identify, reprint (the last label), resync, or mode
    (body `{"mode": "pack"}`). Published on station/{id}/cmd/{name} through the outbox.
    404 for a station that has never connected; 422 for mode without a `mode`."""
    if station not in {row["station"] for row in store.station_list(db())}:
        return error(404, f"no station {station!r} has ever connected")
    args = {"mode": body.mode} if body.mode else {}
    try:
        commands.send(db(), current_app.config["TOPICS"], station, name, args)
    except commands.CommandError as exc:
        return error(422, str(exc))
    current_app.config["OUTBOX_WAKE"]()
    return jsonify({"sent": name, "station": station}), 202


class BarcodeQuery(msgspec.Struct, kw_only=True):
    code: Annotated[str, Meta(pattern=label_pattern(), description="one of our labels")]


@blueprint.get("/barcode.svg")
@api_role("viewer")
@contract(query=BarcodeQuery, media=(SVG,))
def barcode_svg(query: BarcodeQuery):
    """A label's barcode as a Code 128 SVG: `code` is one of the warehouse's own labels
    (`OP:`, `ORD:`, `PO:`, `LOC:`, `QTY:` or a command of the sheet); anything else is 400."""
    return label_pages.svg_response(query.code)
