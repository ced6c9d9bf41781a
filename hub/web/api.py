"""The JSON API of the inventory domain, for other systems (Bearer tokens from the hub
config) and for logged-in pages alike. Every view's docstring is its description in the
OpenAPI document (hub/web/openapi.py): a route without one fails tests/test_web_openapi.py.
"""

import dataclasses

import msgspec
from flask import Blueprint, Response, abort, current_app, jsonify, request

from hub import (
    catalog,
    corrections,
    counts,
    csvio,
    fifo,
    housekeeping,
    ledger,
    orders,
    planning,
    purchasing,
    reports,
    settings,
    store,
)
from hub.web import db, views
from hub.web.auth import importer, require_token
from hub.web.params import int_arg, keyset, report_query
from protocol.envelope import utc_now
from protocol.messages import Order

blueprint = Blueprint("api", __name__)


def _error(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="warehouse-hub"'
    return response


@blueprint.errorhandler(400)
@blueprint.errorhandler(404)
@blueprint.errorhandler(405)
@blueprint.errorhandler(413)
def _http_error(exc):
    return _error(exc.code, exc.description)


def _decode_body(kind: type[msgspec.Struct]) -> list:
    """One object or a list of them, validated against the protocol type."""
    body = request.get_data()
    # msgspec reports invalid UTF-8 in an object key as UnicodeDecodeError, not DecodeError.
    bad = (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError)
    try:
        return msgspec.json.decode(body, type=list[kind])
    except bad:
        pass
    try:
        return [msgspec.json.decode(body, type=kind)]
    except bad as exc:
        abort(400, f"invalid {kind.__name__.lower()}: {exc}")


@blueprint.get("/api/stations")
@require_token
def stations():
    """Every station with its state, mode, operator, devices, last scan, and how many of
    its journaled events the hub has not applied yet (`unacked`)."""
    return jsonify({"stations": views.station_rows(db())})


@blueprint.get("/api/stock")
@require_token
def stock():
    """On hand, committed and available per SKU with its lines by location, lot and owner:
    `sku` for one SKU, else every SKU with a balance in SKU order, `limit` (up to 1000) at
    a time after `after` (the last SKU of the previous page; `next` gives it)."""
    sku = request.args.get("sku")
    limit, after = keyset(high=1000, default=100)
    items = []
    for row_sku, on_hand in store.stock_list(db(), sku, limit, after):
        lines = [
            {"location": loc, "lot": lot or None, "owner": owner or None, "qty": qty}
            for loc, lot, owner, qty in store.stock_lines(db(), row_sku)
        ]
        committed = store.committed(db(), row_sku)
        items.append({"sku": row_sku, "on_hand": on_hand, "committed": committed,
                      "available": on_hand - committed, "locations": lines})  # fmt: skip
    if sku and not items:
        committed = store.committed(db(), sku)
        items = [{"sku": sku, "on_hand": 0, "committed": committed, "available": -committed,
                  "locations": []}]  # fmt: skip
    paged = not sku and len(items) == limit
    return jsonify({"stock": items, "next": {"after": items[-1]["sku"]} if paged else None})


@blueprint.get("/api/movements")
@require_token
def movements():
    """The latest ledger movements, newest first, with their station event's key; `before`
    (a movement id) pages back, `limit` up to 1000."""
    limit = int_arg("limit", 50, 1, 1000)
    before = request.args.get("before")
    before_id = int_arg("before", 0, 1, 2**62) if before is not None else None
    return jsonify({"movements": store.movements_latest(db(), limit, before_id)})


@blueprint.post("/api/products")
@require_token
def post_products():
    """Create or replace products, all or none (kits and suppliers must exist)."""
    new = _decode_body(catalog.ProductRecord)

    def run(conn):
        catalog.save_products(conn, _topics(), new)
        return {"saved": [p.sku for p in new]}

    return _domain_call(run, 201)


@blueprint.post("/api/orders")
@require_token
def post_orders():
    """Create or replace sales orders (one object or a list, the protocol Order shape), all
    or none; 409 when one is already packed or shipped."""
    new_orders = _decode_body(Order)
    now = utc_now().isoformat()

    def run(conn):
        for order in new_orders:
            orders.save_order(conn, _topics(), order, now)
        return {"saved": [o.order for o in new_orders]}

    return _domain_call(run, 201)


@blueprint.get("/api/alerts")
@require_token
def alerts():
    """Open alerts, newest first (`limit` up to 1000)."""
    return jsonify({"alerts": store.alerts_open(db(), int_arg("limit", 100, 1, 1000))})


@blueprint.get("/api/dead-letters")
@require_token
def dead_letters():
    """Messages the ingest rejected, newest first, with their topic and the reason."""
    return jsonify({"dead_letters": store.dead_letters(db(), int_arg("limit", 100, 1, 1000))})


# --- helpers for the domain endpoints ----------------------------------------------------------
def _topics():
    return current_app.config["TOPICS"]


def _changed() -> None:
    """Committed rows wait in the outbox; live pages wait on the change feed."""
    current_app.config["OUTBOX_WAKE"]()
    current_app.config["CHANGES"].bump()


def _body_object() -> dict:
    raw = request.get_data()
    if not raw:
        return {}
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        abort(400, f"body is not JSON: {exc}")
    if not isinstance(body, dict):
        abort(400, "body must be a JSON object")
    return body


def _field(body: dict, name: str, kind: type, default=None):
    value = body.get(name, default)
    if value is not None and not isinstance(value, kind):
        abort(400, f"`{name}` must be a {kind.__name__}")
    return value


def _csv_text() -> str:
    try:
        return request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        abort(400, "the CSV must be UTF-8")


def _csv_response(text: str, name: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _csv_import(kind: str):
    """An import of the body as CSV: `dry_run=1` checks every row as the import would and
    keeps nothing (200, `checked`); otherwise all rows are saved or none (201,
    `imported`). Bad rows: 400 with each line and reason."""
    dry_run = request.args.get("dry_run", "0") in ("1", "true")
    try:
        result = csvio.import_file(db(), _topics(), kind, _csv_text(), dry_run)
    except csvio.CsvImportError as exc:
        error = "the file has bad rows" + ("" if dry_run else ": nothing was imported")
        response = jsonify(
            {"error": error, "rows": [{"line": e.line, "reason": e.reason} for e in exc.errors]}
        )
        response.status_code = 400
        return response
    if dry_run:
        return jsonify({"checked": result, "dry_run": True})
    _changed()
    return jsonify({"imported": result}), 201


class NotFound(Exception):
    """What the request names does not exist (answered 404)."""


def _domain_call(run, status: int = 200):
    """Run a domain write; its refusals become 400 / 404 / 409 with the reason."""
    try:
        with store.transaction(db()):
            result = run(db())
    except (orders.OrderConflict, purchasing.PurchaseConflict) as exc:
        return _error(409, str(exc))
    except NotFound as exc:
        return _error(404, str(exc))
    except ValueError as exc:
        return _error(400, str(exc))
    _changed()
    return jsonify(result), status


def _page() -> tuple[int, int]:
    return int_arg("limit", 100, 1, 1000), int_arg("offset", 0, 0, 10**9)


# --- products, locations, suppliers ---------------------------------------------------------
@blueprint.get("/api/products")
@require_token
def products():
    """Products (the hub's whole record), by SKU, paged by `limit` and `offset`."""
    records = catalog.list_records(db(), *_page())
    return jsonify({"products": [msgspec.to_builtins(r) for r in records]})


@blueprint.get("/api/products/<sku>")
@require_token
def product(sku: str):
    """One product's record with on hand, committed, available and on order."""
    record = catalog.get_record(db(), sku)
    if record is None:
        abort(404, f"no product {sku}")
    on_hand, committed = store.on_hand(db(), sku), store.committed(db(), sku)
    return jsonify(
        {
            **msgspec.to_builtins(record),
            "on_hand": on_hand,
            "committed": committed,
            "available": on_hand - committed,
            "on_order": store.on_order(db(), sku),
        }
    )


@blueprint.get("/api/products/<sku>/history")
@require_token
def product_history(sku: str):
    """What the product page shows: the record (`details`), on hand, committed, available,
    on order, stock `lines` by location, lot and owner, `movements` (newest first, `limit`
    up to 1000 before movement `before`; `next` pages back) with station and operator, and
    the on-hand `series` of the last 500 movements. 404 for a SKU the hub never saw."""
    limit = int_arg("limit", 50, 1, 1000)
    before = int_arg("before", 0, 1, 2**62) if request.args.get("before") else None
    found = views.product(db(), sku, limit, before)
    if found is None:
        abort(404, f"no product, stock or movement for SKU {sku}")
    return jsonify(found)


@blueprint.get("/api/products/<sku>/fefo")
@require_token
def product_fefo(sku: str):
    """Where to pick from: stock lines with the soonest expiry first."""
    lines = [
        {"location": loc, "lot": lot or None, "owner": owner or None, "qty": qty, "expiry": expiry}
        for loc, lot, owner, qty, expiry in store.fefo_lines(db(), sku)
    ]
    return jsonify({"sku": sku, "pick": lines})


@blueprint.get("/api/products/<sku>/layers")
@require_token
def product_layers(sku: str):
    """The product's open FIFO cost layers by location and lot, oldest first within each,
    with unit cost and value (what its own stock is valued at); a negative `qty` is a
    deficit (units issued before a receipt covered them)."""
    return jsonify({"sku": sku, "layers": fifo.layers(db(), sku)})


@blueprint.get("/api/products.csv")
@require_token
def products_csv():
    """Every product as CSV (the import's columns)."""
    return _csv_response(csvio.export_products(db()), "products")


@blueprint.post("/api/products.csv")
@importer
def products_csv_import():
    """Import products from a CSV body (columns as the export); `dry_run=1` only checks.
    Each bad row is named with its line and reason; all rows are saved or none."""
    return _csv_import("products")


@blueprint.get("/api/locations")
@require_token
def locations():
    """Locations (bins) with their zone, aisle, bay, bin and barcode, paged."""
    found = catalog.list_locations(db(), *_page())
    return jsonify({"locations": [{**msgspec.to_builtins(x), "barcode": x.barcode}
                                  for x in found]})  # fmt: skip


@blueprint.post("/api/locations")
@require_token
def post_locations():
    """Create or replace locations (one object or a list), all or none."""
    new = _decode_body(catalog.Location)

    def run(conn):
        catalog.save_locations(conn, new)
        return {"saved": [x.code for x in new]}

    return _domain_call(run, 201)


@blueprint.get("/api/locations.csv")
@require_token
def locations_csv():
    """Every location as CSV."""
    return _csv_response(csvio.export_locations(db()), "locations")


@blueprint.post("/api/locations.csv")
@importer
def locations_csv_import():
    """Import locations from a CSV body; `dry_run=1` only checks; all rows or none."""
    return _csv_import("locations")


@blueprint.get("/api/suppliers")
@require_token
def suppliers():
    """Suppliers with their contact and promised lead time, paged."""
    found = catalog.list_suppliers(db(), *_page())
    return jsonify({"suppliers": [msgspec.to_builtins(s) for s in found]})


@blueprint.post("/api/suppliers")
@require_token
def post_suppliers():
    """Create or replace suppliers (one object or a list), all or none."""
    new = _decode_body(catalog.Supplier)

    def run(conn):
        catalog.save_suppliers(conn, new)
        return {"saved": [x.supplier for x in new]}

    return _domain_call(run, 201)


@blueprint.get("/api/suppliers.csv")
@require_token
def suppliers_csv():
    """Every supplier as CSV."""
    return _csv_response(csvio.export_suppliers(db()), "suppliers")


@blueprint.post("/api/suppliers.csv")
@importer
def suppliers_csv_import():
    """Import suppliers from a CSV body; `dry_run=1` only checks; all rows or none."""
    return _csv_import("suppliers")


@blueprint.get("/api/suppliers/<supplier>/lead-time")
@require_token
def supplier_lead_time(supplier: str):
    """Promised against actual days from order to complete over the supplier's last
    completed purchase orders, and how many were late."""
    if not store.supplier_exists(db(), supplier):
        abort(404, f"no supplier {supplier}")
    return jsonify(purchasing.lead_time(db(), supplier))


# --- orders ------------------------------------------------------------------------------------
@blueprint.get("/api/orders")
@require_token
def order_list():
    """Sales orders, newest first, optionally of one `status`; paged."""
    status = request.args.get("status")
    rows = store.order_list(db(), status, *_page())
    keys = ("order", "status", "created", "updated", "closed")
    return jsonify({"orders": [dict(zip(keys, r, strict=True)) for r in rows]})


@blueprint.get("/api/orders/<order_id>")
@require_token
def order_get(order_id: str):
    """One sales order with its stored lines (`rows`: shipped, short, kit, dropship PO)."""
    found = orders.order_dict(db(), order_id)
    if found is None:
        abort(404, f"no order {order_id}")
    return jsonify(found)


@blueprint.post("/api/orders/<order_id>/cancel")
@require_token
def order_cancel(order_id: str):
    """Cancel an order that has not shipped; its commitments and dropship POs go."""

    def run(conn):
        if store.order_get(conn, order_id) is None:
            raise NotFound(f"no order {order_id}")
        orders.cancel(conn, _topics(), order_id, utc_now().isoformat())
        return {"order": order_id, "status": "cancelled"}

    return _domain_call(run)


@blueprint.post("/api/orders.csv")
@importer
def orders_csv_import():
    """Import sales orders from a CSV body (one row per line); `dry_run=1` only checks;
    all orders or none."""
    return _csv_import("orders")


# --- purchase orders ---------------------------------------------------------------------------
@blueprint.get("/api/purchase-orders")
@require_token
def purchase_orders():
    """Purchase orders with their lines, newest first, optionally of one `status`; paged."""
    page = purchasing.po_page(db(), request.args.get("status"), *_page())
    return jsonify({"purchase_orders": page})


@blueprint.post("/api/purchase-orders")
@require_token
def post_purchase_orders():
    """Create or replace purchase orders (one object or a list); a PO with receipts cannot
    be replaced (409)."""
    new = _decode_body(purchasing.PurchaseOrderIn)
    now = utc_now().isoformat()
    return _domain_call(
        lambda conn: {"saved": [purchasing.create(conn, _topics(), p, now) for p in new]}, 201
    )


@blueprint.get("/api/purchase-orders/<po>")
@require_token
def purchase_order(po: str):
    """One purchase order with its lines, received units and dates."""
    found = purchasing.po_dict(db(), po)
    if found is None:
        abort(404, f"no purchase order {po}")
    return jsonify(found)


def _po_action(po: str, action) -> tuple:
    def run(conn):
        if store.po_get(conn, po) is None:
            raise NotFound(f"no purchase order {po}")
        action(conn, utc_now().isoformat())
        return purchasing.po_dict(conn, po)

    return _domain_call(run)


@blueprint.post("/api/purchase-orders/<po>/close")
@require_token
def purchase_order_close(po: str):
    """Close short: nothing more will arrive (a dock station may send the same as an event)."""

    def close(conn, now):
        if not purchasing.close(conn, _topics(), po, now, "closed through the API"):
            raise purchasing.PurchaseConflict(f"purchase order {po} is not open")

    return _po_action(po, close)


@blueprint.post("/api/purchase-orders/<po>/cancel")
@require_token
def purchase_order_cancel(po: str):
    """Cancel an open purchase order that has no receipts."""
    return _po_action(po, lambda conn, now: purchasing.cancel(conn, _topics(), po, now))


@blueprint.post("/api/purchase-orders/<po>/confirm")
@require_token
def purchase_order_confirm(po: str):
    """The supplier confirms a dropship order shipped: its sales order lines close."""
    return _po_action(po, lambda conn, now: orders.confirm_dropship(conn, _topics(), po, now))


@blueprint.post("/api/purchase-orders.csv")
@importer
def purchase_orders_csv_import():
    """Import purchase orders from a CSV body (one row per line); `dry_run=1` only checks;
    all or none."""
    return _csv_import("purchase-orders")


@blueprint.post("/api/purchase-orders/from-reorder")
@require_token
def purchase_orders_from_reorder():
    """One purchase order per supplier from the reorder suggestions due today: of `skus`
    (`{"skus": [...]}`, those not due are left out) or, without it, of every product.
    Answers the new POs' ids in `saved` (empty when nothing was due)."""
    skus = _field(_body_object(), "skus", list)
    if skus is not None and not (skus and all(isinstance(s, str) and s for s in skus)):
        abort(400, "`skus` must be a non-empty list of SKUs (leave it out for every product)")
    now = utc_now()

    def run(conn):
        made = purchasing.from_reorder(conn, _topics(), skus, now.date(), now.isoformat())
        return {"saved": made}

    return _domain_call(run, 201)


# --- corrections and counts ----------------------------------------------------------------------
@blueprint.post("/api/movements/<int:movement_id>/reverse")
@require_token
def reverse_movement(movement_id: int):
    """Reverse the event a movement belongs to (all its movements), once, with a `reason`
    (required) and `by`; the reversal is a hub event in the ledger like any other."""
    body = _body_object()
    reason = _field(body, "reason", str)
    if not reason:
        abort(400, "`reason` is required: say why the movement is reversed")
    by = _field(body, "by", str, "api")

    def run(conn):
        effects, now = ledger.Effects(), utc_now()
        event = corrections.reverse(conn, _topics(), movement_id, reason, by, now, effects)
        corrections.publish(conn, _topics(), effects, now)
        return {"reversal_event": event, "movements": effects.movements}

    return _domain_call(run, 201)


@blueprint.get("/api/counts")
@require_token
def count_list():
    """Counts with the book they were reconciled against and their variance, newest first,
    optionally of one `status` (posted, pending, approved, rejected); paged."""
    rows = store.count_list(db(), request.args.get("status"), *_page())
    return jsonify({"counts": [counts.count_dict(c) for c in rows]})


def _decide(count_id: int, approve: bool):
    by = _field(_body_object(), "by", str, "api")

    def run(conn):
        found = corrections.settle_count(conn, _topics(), count_id, approve, by, utc_now())
        return counts.count_dict(found)

    return _domain_call(run, 201)


@blueprint.post("/api/counts/<int:count_id>/approve")
@require_token
def count_approve(count_id: int):
    """Approve a pending count: its variance (found at count time) is posted. `by` names
    who decided (default "api")."""
    return _decide(count_id, True)


@blueprint.post("/api/counts/<int:count_id>/reject")
@require_token
def count_reject(count_id: int):
    """Reject a pending count: nothing is posted."""
    return _decide(count_id, False)


@blueprint.get("/api/counts/due")
@require_token
def counts_due():
    """The stock lines due for a cycle count by their product's ABC class or risk, in the
    order the hub issues their tasks (`limit` up to 1000): sku, location, class, high
    risk, last count and the day it fell due (null: never counted)."""
    conn = db()
    due = counts.due_now(conn, settings.load(conn), utc_now().date(),
                         int_arg("limit", 100, 1, 1000))  # fmt: skip
    return jsonify({"due": [dataclasses.asdict(d) for d in due]})


@blueprint.get("/api/count-tasks")
@require_token
def count_tasks():
    """Count tasks issued to stations, optionally of one `status` (open, done)."""
    return jsonify({"tasks": store.count_tasks(db(), None, request.args.get("status"))})


@blueprint.post("/api/count-tasks")
@require_token
def post_count_task():
    """Issue a count task to a `station` for a `location` (and optionally one `sku`)."""
    body = _body_object()
    station, location = _field(body, "station", str), _field(body, "location", str)
    if not station or not location:
        abort(400, "`station` and `location` are required")
    sku = _field(body, "sku", str)
    now = utc_now().isoformat()
    return _domain_call(lambda conn: {"task": counts.issue_task(
        conn, _topics(), station, location, sku, None, now)}, 201)  # fmt: skip


@blueprint.post("/api/full-counts")
@require_token
def post_full_count():
    """Start a full count: one task per location, spread over the given `stations`."""
    stations_ = _field(_body_object(), "stations", list)
    if not stations_ or not all(isinstance(s, str) and s for s in stations_):
        abort(400, "`stations` must list the stations that will count")
    now = utc_now().isoformat()

    def run(conn):
        run_id, tasks = counts.start_full_count(conn, _topics(), stations_, now)
        return {"run": run_id, "tasks": tasks}

    return _domain_call(run, 201)


@blueprint.get("/api/full-counts/<run>")
@require_token
def full_count(run: str):
    """A full count's progress: tasks, locations still open, counts and their variance."""
    found = counts.full_count_report(db(), run)
    if found is None:
        abort(404, f"no full count {run}")
    return jsonify(found)


# --- policy ----------------------------------------------------------------------------------
@blueprint.get("/api/settings")
@require_token
def get_settings():
    """The inventory policy (thresholds, frequencies, planning windows): docs/inventory.md."""
    return jsonify(msgspec.to_builtins(settings.load(db())))


@blueprint.put("/api/settings")
@require_token
def put_settings():
    """Change some settings (a JSON object of the keys to change); checked as a whole."""
    changes = _body_object()

    def run(conn):
        merged = {**msgspec.to_builtins(settings.load(conn)), **changes}
        try:
            new = msgspec.convert(merged, settings.Settings)
        except msgspec.ValidationError as exc:
            raise ValueError(f"invalid settings: {exc}") from None
        settings.save(conn, new)
        return msgspec.to_builtins(new)

    return _domain_call(run)


@blueprint.get("/api/uplifts")
@require_token
def uplifts():
    """Contingency plans: expected demand multiplied by `factor` from `start` to `end`."""
    keys = ("id", "sku", "start", "end", "factor", "note")
    return jsonify({"uplifts": [dict(zip(keys, r, strict=True)) for r in store.uplifts(db())]})


@blueprint.post("/api/uplifts")
@require_token
def post_uplift():
    """Add contingency plans (one object or a list)."""
    plan = _decode_body(planning.Uplift)

    def run(conn):
        return {"saved": [planning.add_uplift(conn, p) for p in plan]}

    return _domain_call(run, 201)


@blueprint.delete("/api/uplifts/<int:uplift_id>")
@require_token
def delete_uplift(uplift_id: int):
    """Remove a contingency plan."""

    def run(conn):
        if not store.uplift_delete(conn, uplift_id):
            raise NotFound(f"no uplift {uplift_id}")
        return {"deleted": uplift_id}

    return _domain_call(run)


@blueprint.post("/api/housekeeping")
@require_token
def run_housekeeping():
    """Expiry alerts, ABC classes, stored reports and due cycle counts now (the hub also
    runs this itself, every minute). The ABC classes and the stored reports (dead-stock,
    surplus, reorder) are recomputed once a day; `refresh=1` recomputes them now. Answers
    `expiring`, `abc_refreshed`, `reports_refreshed` (names) and `tasks`."""
    refresh = request.args.get("refresh", "0") in ("1", "true")
    result = housekeeping.tick(db(), _topics(), utc_now(), refresh)
    _changed()
    return jsonify({"expiring": result.expiring, "abc_refreshed": result.abc_refreshed,
                    "reports_refreshed": result.reports_refreshed,
                    "tasks": result.tasks})  # fmt: skip


# --- reports ---------------------------------------------------------------------------------
@blueprint.get("/api/reports/<name>")
@require_token
def report(name: str):
    """A report (stock, valuation, reorder, abc, dead-stock, surplus, kpis, alerts) as JSON
    (`columns`, `rows`, `next`: the arguments of the next page, `summary`), or as CSV with
    the `.csv` suffix. Arguments: `limit`, `offset` (or `after` for reorder), `sku`,
    `location`, `owner`, `since`/`until` (kpis), `all=1`, `kind` (alerts), `today`.
    abc, dead-stock, surplus and reorder are read from rows the housekeeping computes once
    a day: their `summary.computed` says when (reorder lines show today's stock position)."""
    as_csv = name.endswith(".csv")
    name = name.removesuffix(".csv")
    build = reports.REPORTS.get(name)
    if build is None:
        abort(404, f"no report {name!r}; reports: {', '.join(reports.REPORTS)}")
    result = build(db(), report_query())
    if as_csv:
        return _csv_response(csvio.write(result.columns, result.rows), name)
    return jsonify({"report": result.name, "columns": result.columns, "rows": result.rows,
                    "next": result.next, "summary": result.summary})  # fmt: skip
