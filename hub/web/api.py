"""The JSON API for other systems: Bearer tokens from the hub config."""

from datetime import date

import msgspec
from flask import Blueprint, Response, abort, current_app, jsonify, request

from hub import (
    catalog,
    corrections,
    counts,
    csvio,
    housekeeping,
    ledger,
    orders,
    planning,
    purchasing,
    reports,
    settings,
    store,
)
from hub.web import db
from hub.web.auth import require_token
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


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, f"`{name}` must be a whole number")
    if not low <= value <= high:
        abort(400, f"`{name}` must be between {low} and {high}")
    return value


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


@blueprint.get("/healthz")
def healthz():
    store.meta_get(db(), "schema")  # the database answers
    return jsonify({"status": "ok"})


@blueprint.get("/api/stations")
@require_token
def stations():
    return jsonify({"stations": station_rows()})


def station_rows() -> list[dict]:
    rows = []
    for row in store.station_list(db()):
        status = msgspec.json.decode(row.pop("status")) if row["status"] else {}
        head = status.get("head", 0) if status.get("epoch") == row["epoch"] else 0
        rows.append({**row, **_status_fields(status), "unacked": max(0, head - row["applied"])})
    return rows


def _status_fields(status: dict) -> dict:
    keys = ("conn", "head", "mode", "operator", "devices", "last_scan", "last_verdict", "ts")
    return {key: status.get(key) for key in keys}


@blueprint.get("/api/stock")
@require_token
def stock():
    sku = request.args.get("sku")
    limit = _int_arg("limit", 100, 1, 1000)
    offset = _int_arg("offset", 0, 0, 10**9)
    items = []
    for row_sku, on_hand in store.stock_list(db(), sku, limit, offset):
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
    return jsonify({"stock": items})


@blueprint.get("/api/movements")
@require_token
def movements():
    limit = _int_arg("limit", 50, 1, 1000)
    before = request.args.get("before")
    before_id = _int_arg("before", 0, 1, 2**62) if before is not None else None
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
    return jsonify({"alerts": store.alerts_open(db(), _int_arg("limit", 100, 1, 1000))})


@blueprint.get("/api/dead-letters")
@require_token
def dead_letters():
    return jsonify({"dead_letters": store.dead_letters(db(), _int_arg("limit", 100, 1, 1000))})


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
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _csv_import(run):
    try:
        result = run()
    except csvio.CsvImportError as exc:
        response = jsonify({"error": "nothing was imported: the file has bad rows",
                            "rows": [{"line": e.line, "reason": e.reason} for e in exc.errors]})
        response.status_code = 400
        return response
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


def _ledger_call(run):
    """A hub-originated ledger change: publishes the stock of what it touched."""

    def wrapped(conn):
        effects = ledger.Effects()
        result = run(conn, effects)
        now = utc_now().isoformat()
        for sku in effects.skus:
            ledger.publish_stock(conn, _topics(), sku, now)
        return result

    return _domain_call(wrapped, 201)


def _page() -> tuple[int, int]:
    return _int_arg("limit", 100, 1, 1000), _int_arg("offset", 0, 0, 10**9)


# --- products, locations, suppliers ---------------------------------------------------------
@blueprint.get("/api/products")
@require_token
def products():
    records = catalog.list_records(db(), *_page())
    return jsonify({"products": [msgspec.to_builtins(r) for r in records]})


@blueprint.get("/api/products/<sku>")
@require_token
def product(sku: str):
    record = catalog.get_record(db(), sku)
    if record is None:
        abort(404, f"no product {sku}")
    on_hand, committed = store.on_hand(db(), sku), store.committed(db(), sku)
    return jsonify({**msgspec.to_builtins(record), "on_hand": on_hand, "committed": committed,
                    "available": on_hand - committed, "on_order": store.on_order(db(), sku)})


@blueprint.get("/api/products/<sku>/history")
@require_token
def product_history(sku: str):
    limit = _int_arg("limit", 50, 1, 1000)
    before = _int_arg("before", 0, 1, 2**62) if request.args.get("before") else None
    return jsonify({"sku": sku, "movements": store.movements_of_sku(db(), sku, limit, before)})


@blueprint.get("/api/products/<sku>/fefo")
@require_token
def product_fefo(sku: str):
    """Where to pick from: stock lines with the soonest expiry first."""
    lines = [{"location": loc, "lot": lot or None, "owner": owner or None, "qty": qty,
              "expiry": expiry} for loc, lot, owner, qty, expiry in store.fefo_lines(db(), sku)]
    return jsonify({"sku": sku, "pick": lines})


@blueprint.get("/api/products.csv")
@require_token
def products_csv():
    return _csv_response(csvio.export_products(db()), "products")


@blueprint.post("/api/products.csv")
@require_token
def products_csv_import():
    return _csv_import(lambda: csvio.import_products(db(), _topics(), _csv_text()))


@blueprint.get("/api/locations")
@require_token
def locations():
    found = catalog.list_locations(db(), *_page())
    return jsonify({"locations": [{**msgspec.to_builtins(x), "barcode": x.barcode}
                                  for x in found]})  # fmt: skip


@blueprint.post("/api/locations")
@require_token
def post_locations():
    new = _decode_body(catalog.Location)

    def run(conn):
        catalog.save_locations(conn, new)
        return {"saved": [x.code for x in new]}

    return _domain_call(run, 201)


@blueprint.get("/api/locations.csv")
@require_token
def locations_csv():
    return _csv_response(csvio.export_locations(db()), "locations")


@blueprint.post("/api/locations.csv")
@require_token
def locations_csv_import():
    return _csv_import(lambda: csvio.import_locations(db(), _csv_text()))


@blueprint.get("/api/suppliers")
@require_token
def suppliers():
    found = catalog.list_suppliers(db(), *_page())
    return jsonify({"suppliers": [msgspec.to_builtins(s) for s in found]})


@blueprint.post("/api/suppliers")
@require_token
def post_suppliers():
    new = _decode_body(catalog.Supplier)

    def run(conn):
        catalog.save_suppliers(conn, new)
        return {"saved": [x.supplier for x in new]}

    return _domain_call(run, 201)


@blueprint.get("/api/suppliers.csv")
@require_token
def suppliers_csv():
    return _csv_response(csvio.export_suppliers(db()), "suppliers")


@blueprint.post("/api/suppliers.csv")
@require_token
def suppliers_csv_import():
    return _csv_import(lambda: csvio.import_suppliers(db(), _csv_text()))


@blueprint.get("/api/suppliers/<supplier>/lead-time")
@require_token
def supplier_lead_time(supplier: str):
    if not store.supplier_exists(db(), supplier):
        abort(404, f"no supplier {supplier}")
    return jsonify(purchasing.lead_time(db(), supplier))


# --- orders ------------------------------------------------------------------------------------
@blueprint.get("/api/orders")
@require_token
def order_list():
    status = request.args.get("status")
    rows = store.order_list(db(), status, *_page())
    keys = ("order", "status", "created", "updated", "closed")
    return jsonify({"orders": [dict(zip(keys, r, strict=True)) for r in rows]})


@blueprint.get("/api/orders/<order_id>")
@require_token
def order_get(order_id: str):
    found = orders.order_dict(db(), order_id)
    if found is None:
        abort(404, f"no order {order_id}")
    return jsonify(found)


@blueprint.post("/api/orders/<order_id>/cancel")
@require_token
def order_cancel(order_id: str):
    def run(conn):
        if store.order_get(conn, order_id) is None:
            raise NotFound(f"no order {order_id}")
        orders.cancel(conn, _topics(), order_id, utc_now().isoformat())
        return {"order": order_id, "status": "cancelled"}

    return _domain_call(run)


@blueprint.post("/api/orders.csv")
@require_token
def orders_csv_import():
    return _csv_import(lambda: csvio.import_orders(db(), _topics(), _csv_text()))


# --- purchase orders ---------------------------------------------------------------------------
@blueprint.get("/api/purchase-orders")
@require_token
def purchase_orders():
    rows = store.po_list(db(), request.args.get("status"), *_page())
    return jsonify({"purchase_orders": [purchasing.po_dict(db(), r.po) for r in rows]})


@blueprint.post("/api/purchase-orders")
@require_token
def post_purchase_orders():
    new = _decode_body(purchasing.PurchaseOrderIn)
    now = utc_now().isoformat()
    return _domain_call(
        lambda conn: {"saved": [purchasing.create(conn, _topics(), p, now) for p in new]}, 201
    )


@blueprint.get("/api/purchase-orders/<po>")
@require_token
def purchase_order(po: str):
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
    return _po_action(po, lambda conn, now: purchasing.cancel(conn, _topics(), po, now))


@blueprint.post("/api/purchase-orders/<po>/confirm")
@require_token
def purchase_order_confirm(po: str):
    """The supplier confirms a dropship order shipped: its sales order lines close."""
    return _po_action(po, lambda conn, now: orders.confirm_dropship(conn, _topics(), po, now))


@blueprint.post("/api/purchase-orders.csv")
@require_token
def purchase_orders_csv_import():
    return _csv_import(lambda: csvio.import_purchase_orders(db(), _topics(), _csv_text()))


@blueprint.post("/api/purchase-orders/from-reorder")
@require_token
def purchase_orders_from_reorder():
    """One PO per supplier from the due reorder suggestions (optionally only `skus`)."""
    skus = _field(_body_object(), "skus", list)
    today = utc_now().date()

    def run(conn):
        settings_ = settings.load(conn)
        plans = [p for p in (planning.plan(conn, s, today, settings_) for s in skus)
                 if p and p.due] if skus else planning.reorder_page(
                     conn, today, settings_, "", 1000, True)[0]  # fmt: skip
        return {"saved": purchasing.from_plans(conn, _topics(), plans, utc_now().isoformat())}

    return _domain_call(run, 201)


# --- corrections and counts ----------------------------------------------------------------------
@blueprint.post("/api/movements/<int:movement_id>/reverse")
@require_token
def reverse_movement(movement_id: int):
    body = _body_object()
    reason = _field(body, "reason", str)
    if not reason:
        abort(400, "`reason` is required: say why the movement is reversed")
    by = _field(body, "by", str, "api")

    def run(conn, effects):
        event = corrections.reverse(conn, _topics(), movement_id, reason, by, utc_now(), effects)
        return {"reversal_event": event, "movements": effects.movements}

    return _ledger_call(run)


@blueprint.get("/api/counts")
@require_token
def count_list():
    rows = store.count_list(db(), request.args.get("status"), *_page())
    return jsonify({"counts": [counts.count_dict(c) for c in rows]})


def _decide(count_id: int, approve: bool):
    by = _field(_body_object(), "by", str, "api")

    def run(conn, effects):
        found = corrections.decide_count(conn, _topics(), count_id, approve, by, utc_now(),
                                         effects)  # fmt: skip
        return counts.count_dict(found)

    return _ledger_call(run)


@blueprint.post("/api/counts/<int:count_id>/approve")
@require_token
def count_approve(count_id: int):
    return _decide(count_id, True)


@blueprint.post("/api/counts/<int:count_id>/reject")
@require_token
def count_reject(count_id: int):
    return _decide(count_id, False)


@blueprint.get("/api/count-tasks")
@require_token
def count_tasks():
    return jsonify({"tasks": store.count_tasks(db(), None, request.args.get("status"))})


@blueprint.post("/api/count-tasks")
@require_token
def post_count_task():
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
    found = counts.full_count_report(db(), run)
    if found is None:
        abort(404, f"no full count {run}")
    return jsonify(found)


# --- policy ----------------------------------------------------------------------------------
@blueprint.get("/api/settings")
@require_token
def get_settings():
    return jsonify(msgspec.to_builtins(settings.load(db())))


@blueprint.put("/api/settings")
@require_token
def put_settings():
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
    keys = ("id", "sku", "start", "end", "factor", "note")
    return jsonify({"uplifts": [dict(zip(keys, r, strict=True)) for r in store.uplifts(db())]})


@blueprint.post("/api/uplifts")
@require_token
def post_uplift():
    plan = _decode_body(planning.Uplift)

    def run(conn):
        return {"saved": [planning.add_uplift(conn, p) for p in plan]}

    return _domain_call(run, 201)


@blueprint.delete("/api/uplifts/<int:uplift_id>")
@require_token
def delete_uplift(uplift_id: int):
    def run(conn):
        if not store.uplift_delete(conn, uplift_id):
            raise NotFound(f"no uplift {uplift_id}")
        return {"deleted": uplift_id}

    return _domain_call(run)


@blueprint.post("/api/housekeeping")
@require_token
def run_housekeeping():
    """Expiry alerts, ABC classes and due cycle counts now (the hub also runs this itself)."""
    result = housekeeping.tick(db(), _topics(), utc_now())
    _changed()
    return jsonify({"expiring": result.expiring, "abc_refreshed": result.abc_refreshed,
                    "tasks": result.tasks})  # fmt: skip


# --- reports ---------------------------------------------------------------------------------
@blueprint.get("/api/reports/<name>")
@require_token
def report(name: str):
    as_csv = name.endswith(".csv")
    name = name.removesuffix(".csv")
    build = reports.REPORTS.get(name)
    if build is None:
        abort(404, f"no report {name!r}; reports: {', '.join(reports.REPORTS)}")
    result = build(db(), _report_query())
    if as_csv:
        return _csv_response(csvio.write(result.columns, result.rows), name)
    return jsonify({"report": result.name, "columns": result.columns, "rows": result.rows,
                    "next": result.next, "summary": result.summary})  # fmt: skip


def _report_query() -> reports.Query:
    args = request.args
    today = _date_arg("today") or utc_now().date()
    return reports.Query(
        today=today, limit=_int_arg("limit", 100, 1, 10_000), offset=_int_arg("offset", 0, 0,
        10**9), since=_date_arg("since"), until=_date_arg("until"), sku=args.get("sku"),
        location=args.get("location"), owner=args.get("owner"), after=args.get("after", ""),
        all=args.get("all", "0") in ("1", "true"), kind=args.get("kind"),
    )  # fmt: skip


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, f"`{name}` must be a date (YYYY-MM-DD)")
