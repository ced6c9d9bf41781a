"""Stock pages: search (SKU, GTIN, name, location), low and negative filters, a location's
contents, and a product with its stock lines, FIFO layers, history and on-hand chart."""

from flask import Blueprint, render_template, request

from hub import fifo, planning, store
from hub.web import csvout, db, site_today, views
from hub.web.pages import login_gate
from hub.web.params import keyset, page, text_arg

blueprint = Blueprint("stock_pages", __name__)
blueprint.before_request(login_gate)

FILTERS = ("", "low", "negative")


def _filter() -> str:
    only = request.args.get("filter", "")
    return only if only in FILTERS else ""


def _listed(only: str, after: str, limit: int) -> list[dict]:
    """The catalog, its low-stock products or those below zero, by sku after `after`."""
    conn = db()
    if only == "low":
        return planning.low_stock(conn, site_today(), after, limit)
    rows = store.catalog_stock_page(conn, after, limit, negative_only=only == "negative")
    return views.stock_rows(rows)


def _found(text: str, limit: int, offset: int) -> list[dict]:
    return views.stock_rows(store.stock_search(db(), text, limit, offset))


@blueprint.get("/stock")
def stock():
    text, only = text_arg("q"), _filter()
    here = views.location_rows(store.location_stock(db(), text, 100, 0)) if text else []
    if text and not only:
        limit, offset = page()
        rows, after = _found(text, limit, offset), None
    else:
        (limit, after), offset = keyset(), 0
        rows = _listed(only, after, limit)
    return render_template("stock.html", rows=rows, q=text, only=only,
                           location=text if here else None, location_rows=here,
                           limit=limit, offset=offset, after=after)  # fmt: skip


@blueprint.get("/stock.csv")
def stock_csv():
    text, only = text_arg("q"), _filter()
    rows = _found(text, 10_000, 0) if text and not only else _listed(only, "", 10_000)
    return csvout.download("stock", ["sku", "name", "on_hand", "quarantined"], rows)


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
    return render_template("product.html", p=found, layers=fifo.layers(db(), sku))
