"""Orders and purchase orders: status, progress, and each order's scan log."""

from flask import Blueprint, render_template, request

from hub import purchasing, store
from hub.web import csvout, db, views
from hub.web.pages import login_gate
from hub.web.params import page

blueprint = Blueprint("order_pages", __name__)
blueprint.before_request(login_gate)

ORDER_STATUSES = ("", "open", "packing", "packed", "shipped", "short", "cancelled")
PO_STATUSES = ("", "open", "receiving", "received", "closed", "cancelled")
RECEIPTS_SHOWN = 1000
LOG_COLUMNS = ["id", "hub_ts", "ts", "station", "operator", "type", "code", "sku", "verdict"]


def _status(allowed: tuple[str, ...]) -> str:
    status = request.args.get("status", "")
    return status if status in allowed else ""


@blueprint.get("/orders")
def orders():
    limit, offset = page()
    status = _status(ORDER_STATUSES)
    rows = [views.order_summary(r) for r in store.orders_page(db(), status or None, limit, offset)]
    return render_template("orders.html", rows=rows, status=status, statuses=ORDER_STATUSES,
                           limit=limit, offset=offset)  # fmt: skip


@blueprint.get("/orders/<order_id>")
def order(order_id: str):
    found = views.order(db(), order_id)
    if found is None:
        return render_template("error.html", code=404, name="Not found",
                               description=f"No order {order_id!r}."), 404  # fmt: skip
    return render_template("order.html", o=found, columns=LOG_COLUMNS)


@blueprint.get("/orders/<order_id>/scan-log.csv")
def order_log_csv(order_id: str):
    return csvout.download("scan-log", LOG_COLUMNS, store.order_log(db(), order_id, 100_000))


@blueprint.get("/purchase-orders/<po>")
def purchase_order(po: str):
    found = purchasing.po_dict(db(), po)
    if found is None:
        return render_template("error.html", code=404, name="Not found",
                               description=f"No purchase order {po!r}."), 404  # fmt: skip
    lines = [{**line, "short": max(0, line["qty"] - line["received"]),
              "over": max(0, line["received"] - line["qty"])} for line in found["lines"]]  # fmt: skip
    receipts = store.po_receipts(db(), po, RECEIPTS_SHOWN)
    return render_template("purchase_order.html", p=found, lines=lines, receipts=receipts)


@blueprint.get("/purchase-orders")
def purchase_orders():
    limit, offset = page()
    status = _status(PO_STATUSES)
    rows = purchasing.po_page(db(), status or None, limit, offset)
    return render_template("purchase_orders.html", rows=rows, status=status,
                           statuses=PO_STATUSES, limit=limit, offset=offset)  # fmt: skip
