"""Printable labels: the command sheet, operator badges, location labels, and the barcode
of any order, purchase order or quantity; each barcode an SVG the hub draws itself."""

from flask import Blueprint, Response, abort, render_template, request

from hub import labels, store
from hub.web import db
from hub.web.pages import login_gate
from hub.web.params import page, text_arg
from protocol.labels import COMMAND_SHEET, PREFIXES, own_label

blueprint = Blueprint("label_pages", __name__)
blueprint.before_request(login_gate)

QUANTITIES = (2, 3, 4, 5, 6, 10, 12, 20, 24, 50, 100)
MAX_LABELS = 200


@blueprint.get("/labels")
def index():
    return render_template("labels.html", commands=COMMAND_SHEET,
                           quantities=[(f"QTY:{n}", f"{n} of the next item") for n in QUANTITIES],
                           title="Labels", sheet=True)  # fmt: skip


@blueprint.get("/labels/print")
def print_codes():
    """The labels named by `code` (repeatable), or badges for the `names` given."""
    codes = request.args.getlist("code")
    names = text_arg("names", 2000).replace(",", " ").split()
    try:
        codes += [own_label("OP", name) for name in names]
    except ValueError as exc:
        abort(400, f"Badge: {exc}")
    if not codes or len(codes) > MAX_LABELS:
        abort(400, f"Name 1 to {MAX_LABELS} labels (`code=` or `names=`)")
    bad = [code for code in codes if not labels.is_own_label(code)]
    if bad:
        abort(400, f"Not the warehouse's labels: {', '.join(bad)}")
    return render_template("labels.html", codes=[(code, _caption(code)) for code in codes],
                           title="Labels")  # fmt: skip


@blueprint.get("/labels/locations")
def locations():
    limit, offset = page()
    rows = store.location_list(db(), limit, offset)
    codes = [(own_label("LOC", row[0]), row[0]) for row in rows]
    return render_template("labels.html", codes=codes, title="Location labels", rows=rows,
                           limit=limit, offset=offset)  # fmt: skip


@blueprint.get("/barcode.svg")
def barcode():
    return svg_response(request.args.get("code", ""))


def svg_response(code: str) -> Response:
    """The Code 128 SVG of one of our labels, or 400 with the reason."""
    try:
        svg = labels.code128_svg(code)
    except labels.NotALabel as exc:
        abort(400, str(exc))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=86400"  # a code's bars never change
    return response


def _caption(code: str) -> str:
    prefix, _, value = code.partition(":")
    kind = PREFIXES.get(prefix)
    return f"{kind.capitalize()} {value}" if kind else code
