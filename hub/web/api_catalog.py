"""The JSON API of master data: products, locations and suppliers. Each of the three is
the same four operations, written once (`MasterData`): the list as JSON, a JSON body of
one record or a list saved all or none, the whole list as CSV, and a CSV import."""

from collections.abc import Callable
from dataclasses import dataclass

import msgspec
from flask import Blueprint, abort, jsonify

from hub import catalog, csvio, fifo, purchasing, store
from hub.web import db, views
from hub.web.api_calls import (
    answer_http_errors_as_json,
    csv_import,
    csv_response,
    domain_call,
    each_once,
    topics,
)
from hub.web.api_params import BackQuery, DryRunQuery, PageQuery, Saved, SkuPath, SupplierPath
from hub.web.auth import importer, require_token
from hub.web.contract import CSV, CSV_BODY, as_list, contract, one_or_many

blueprint = Blueprint("api_catalog", __name__)
answer_http_errors_as_json(blueprint)


@dataclass(frozen=True)
class MasterData:
    name: str  # the path and the JSON key: products, locations, suppliers
    record: type[msgspec.Struct]
    key: str  # the record's identifying field
    listed: Callable  # (conn, limit, offset) -> records
    as_json: Callable  # record -> JSON object
    save: Callable  # (conn, records) -> None, inside the transaction
    export: Callable  # conn -> CSV text
    about: str  # what a record holds, for the descriptions


def _add(kind: MasterData) -> None:
    def list_json(query: PageQuery):
        return jsonify({kind.name: [kind.as_json(r) for r in kind.listed(db(), query.limit,
                                                                          query.offset)]})  # fmt: skip

    def save_json(body):
        records = as_list(body)

        def run(conn):
            keys = [getattr(r, kind.key) for r in records]
            each_once(kind.key, keys)
            kind.save(conn, records)
            return {"saved": keys}

        return domain_call(run, 201)

    def export_csv():
        return csv_response(kind.export(db()), kind.name)

    def import_csv(query: DryRunQuery):
        return csv_import(kind.name, query.dry_run)

    list_json.__doc__ = f"{kind.about}, paged by `limit` and `offset`."
    save_json.__doc__ = (f"Create or replace {kind.name} (one object or a list, each "
                         f"{kind.key} once), all or none; 422 names a record that refers to "
                         "something unknown or is listed twice.")  # fmt: skip
    export_csv.__doc__ = f"Every one of the {kind.name} as CSV (the import's columns)."
    import_csv.__doc__ = (f"Import {kind.name} from a CSV body (columns as the export); "
                          "`dry_run=1` only checks. Each bad row is named with its line and "
                          "reason (422); all rows are saved or none.")  # fmt: skip
    path = f"/api/{kind.name}"
    routes = [
        (path, "GET", list_json, require_token, contract(query=PageQuery)),
        (path, "POST", save_json, require_token,
         contract(body=one_or_many(kind.record), status=201, answer=Saved, errors=(422,))),
        (f"{path}.csv", "GET", export_csv, require_token, contract(media=(CSV,))),
        (f"{path}.csv", "POST", import_csv, importer,
         contract(query=DryRunQuery, body=CSV_BODY, status=201, also=(200,), errors=(422,))),
    ]  # fmt: skip
    for rule, method, view, role, declared in routes:
        view.__name__ = f"{method.lower()}_{kind.name}{'_csv' if rule.endswith('.csv') else ''}"
        blueprint.add_url_rule(rule, view.__name__, role(declared(view)), methods=[method])


def _save_products(conn, records) -> None:
    catalog.save_products(conn, topics(), records)


for _kind in (
    MasterData("products", catalog.ProductRecord, "sku", catalog.list_records,
               msgspec.to_builtins, _save_products, csvio.export_products,
               "Products (the hub's whole record), by SKU"),
    MasterData("locations", catalog.Location, "code", catalog.list_locations,
               lambda x: {**msgspec.to_builtins(x), "barcode": x.barcode},
               catalog.save_locations, csvio.export_locations,
               "Locations (bins) with their zone, aisle, bay, bin and barcode"),
    MasterData("suppliers", catalog.Supplier, "supplier", catalog.list_suppliers,
               msgspec.to_builtins, catalog.save_suppliers, csvio.export_suppliers,
               "Suppliers with their contact and promised lead time"),
):  # fmt: skip
    _add(_kind)


@blueprint.get("/api/products/<sku>")
@require_token
@contract(path=SkuPath, errors=(404,))
def product(sku: str):
    """One product's record with on hand, committed, quarantined (on hand in held
    locations), available (on hand less committed less quarantined) and on order."""
    record = catalog.get_record(db(), sku)
    if record is None:
        abort(404, f"no product {sku}")
    on_hand, committed = store.on_hand(db(), sku), store.committed(db(), sku)
    quarantined = store.quarantined(db(), sku)
    return jsonify({**msgspec.to_builtins(record), "on_hand": on_hand, "committed": committed,
                    "quarantined": quarantined, "available": on_hand - committed - quarantined,
                    "on_order": store.on_order(db(), sku)})  # fmt: skip


@blueprint.get("/api/products/<sku>/history")
@require_token
@contract(path=SkuPath, query=BackQuery, errors=(404,))
def product_history(sku: str, query: BackQuery):
    """What the product page shows: the record (`details`), on hand, committed, available,
    on order, stock `lines` by location, lot and owner, `movements` (newest first, `limit`
    up to 1000 before movement `before`; `next` pages back) with station and operator, and
    the on-hand `series` of the last 500 movements. 404 for a SKU the hub never saw."""
    found = views.product(db(), sku, query.limit, query.before)
    if found is None:
        abort(404, f"no product, stock or movement for SKU {sku}")
    return jsonify(found)


@blueprint.get("/api/products/<sku>/fefo")
@require_token
@contract(path=SkuPath)
def product_fefo(sku: str):
    """Where to pick from: stock lines with the soonest expiry first."""
    lines = [{"location": loc, "lot": lot or None, "owner": owner or None, "qty": qty,
              "expiry": expiry} for loc, lot, owner, qty, expiry in store.fefo_lines(db(), sku)]  # fmt: skip
    return jsonify({"sku": sku, "pick": lines})


@blueprint.get("/api/products/<sku>/layers")
@require_token
@contract(path=SkuPath)
def product_layers(sku: str):
    """The product's open FIFO cost layers by location and lot, oldest first within each,
    with unit cost and value (what its own stock is valued at); a negative `qty` is a
    deficit (units issued before a receipt covered them)."""
    return jsonify({"sku": sku, "layers": fifo.layers(db(), sku)})


@blueprint.get("/api/suppliers/<supplier>/lead-time")
@require_token
@contract(path=SupplierPath, errors=(404,))
def supplier_lead_time(supplier: str):
    """Promised against actual days from order to complete over the supplier's last
    completed purchase orders, and how many were late."""
    if not store.supplier_exists(db(), supplier):
        abort(404, f"no supplier {supplier}")
    return jsonify(purchasing.lead_time(db(), supplier))
