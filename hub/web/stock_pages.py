"""Stock pages: search (SKU, GTIN, name, location), low and negative filters, a location's
contents, and a product with its stock lines, FIFO layers, history and on-hand chart."""

from flask import Blueprint, render_template, request

from hub import store
from hub.web import csvout, db, domain, views
from hub.web.pages import login_gate
from hub.web.params import page, text_arg

blueprint = Blueprint("stock_pages", __name__)
blueprint.before_request(login_gate)

FILTERS = ("", "low", "negative")


def _search(text: str, only: str, limit: int, offset: int) -> tuple[list[dict], str | None]:
    """(rows, missing domain function or None)."""
    conn = db()
    if only == "low":
        try:
            return domain.low_stock(conn, limit, offset), None
        except domain.DomainMissing as exc:
            return [], str(exc)
    if only == "negative":
        return views.stock_rows(store.catalog_stock_page(conn, limit, offset, negative_only=True)), None
    if text:
        return views.stock_rows(store.stock_search(conn, text, limit, offset)), None
    return views.stock_rows(store.catalog_stock_page(conn, limit, offset)), None


@blueprint.get("/stock")
def stock():
    limit, offset = page()
    text = text_arg("q")
    only = request.args.get("filter", "")
    if only not in FILTERS:
        only = ""
    rows, missing = _search(text, only, limit, offset)
    here = views.location_rows(store.location_stock(db(), text, 100, 0)) if text else []
    return render_template("stock.html", rows=rows, q=text, only=only, missing=missing,
                           location=text if here else None, location_rows=here,
                           limit=limit, offset=offset)  # fmt: skip


@blueprint.get("/stock.csv")
def stock_csv():
    text = text_arg("q")
    only = request.args.get("filter", "")
    rows, _ = _search(text, only if only in FILTERS else "", 10_000, 0)
    return csvout.download("stock", ["sku", "name", "on_hand"], rows)


@blueprint.get("/locations/<location>")
def location(location: str):
    limit, offset = page()
    rows = views.location_rows(store.location_stock(db(), location, limit, offset))
    return render_template("location.html", location=location, rows=rows,
                           limit=limit, offset=offset)  # fmt: skip


@blueprint.get("/products/<sku>")
def product(sku: str):
    found = views.product(db(), sku)
    if found is None:
        return render_template("error.html", code=404, name="Not found",
                               description=f"No product or stock for SKU {sku!r}."), 404  # fmt: skip
    try:
        layers, missing = domain.fifo_layers(db(), sku), None
    except domain.DomainMissing as exc:
        layers, missing = [], str(exc)
    return render_template("product.html", p=found, layers=layers, layers_missing=missing)
