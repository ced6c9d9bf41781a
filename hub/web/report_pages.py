"""Reports (reorder, ABC with its Pareto chart, dead stock, surplus, KPIs...), each as a
table and a CSV download; reorder lines to purchase orders; and the CSV import."""

from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from hub import csvguide, csvio, purchasing, reports, store
from hub.reports import Report
from hub.web import csvout, db, site_today
from hub.web.auth import page_role
from hub.web.pages import login_gate
from hub.web.params import report_query
from protocol.envelope import utc_now

blueprint = Blueprint("report_pages", __name__)
blueprint.before_request(login_gate)

TITLES = {"abc": "ABC analysis", "kpis": "KPIs", "stock": "Stock on hand",
          "reorder": "Reorder suggestions"}  # fmt: skip


@blueprint.app_template_filter("report_title")
def report_title(name: str) -> str:
    return TITLES.get(name, name.replace("-", " ").capitalize())


MAX_IMPORT_BYTES = 4 * 1024 * 1024

# How each report column reads: a link to its page, money, a share, a date, a time, a mark.
KINDS = {
    "sku": "sku", "location": "location", "station": "station",
    "value": "money", "unit_cost": "money", "annual_value": "money", "revenue": "money",
    "cogs": "money", "dropship_cost": "money", "gross_margin": "money",
    "cumulative_share": "percent", "expiry": "day", "order_by": "day",
    "last_outbound": "day", "ts": "time", "cleared": "time", "due": "mark",
    "kind": "words", "severity": "words", "kpi": "words", "lead_time_source": "words",
}  # fmt: skip
# The KPI rows whose value is money or a share (the rest are plain numbers).
KPI_KINDS = {
    "cogs": "money", "average_inventory_value": "money", "consignment_owed": "money",
    "fill_rate": "percent", "count_accuracy": "percent", "receiving_accuracy": "percent",
}  # fmt: skip
# The columns shown until "All columns" is asked for; a report not listed shows them all.
DEFAULT_COLUMNS = {
    "reorder": ["sku", "supplier", "on_hand", "quarantined", "on_order", "reorder_point",
                "par_level", "due", "order_qty", "order_by"],
    "alerts": ["ts", "kind", "severity", "message", "sku", "station"],
}  # fmt: skip
SUMMARY_KINDS = {"total_value": "money", "computed": "time", "since": "day", "until": "day",
                 "days": "days", "window_days": "days"}  # fmt: skip


def _report(name: str) -> Report:
    build = reports.REPORTS.get(name)
    if build is None:
        abort(404, f"No report {name!r}.")
    return build(db(), report_query())


def pareto_items(report: Report) -> list[dict]:
    """ABC rows as chart items (label, value), largest first."""
    items = [
        {"label": str(row["sku"]), "value": float(Decimal(row["annual_value"] or 0))}
        for row in report.rows
    ]
    return sorted(items, key=lambda i: i["value"], reverse=True)[:200]


@blueprint.get("/reports", endpoint="reports")
def reports_page():
    return render_template("reports.html", reports=list(reports.REPORTS))


def shown_columns(name: str, columns: list[str], everything: bool) -> list[str]:
    default = DEFAULT_COLUMNS.get(name)
    if everything or default is None:
        return columns
    return [c for c in columns if c in default]


def cell_kind(name: str, column: str, row: dict) -> str:
    if name == "kpis" and column == "value":
        return KPI_KINDS.get(row["kpi"], "number")
    return KINDS.get(column, "number")


@blueprint.get("/reports/<name>")
def report(name: str):
    data = _report(name)
    chart = pareto_items(data) if name == "abc" else None
    everything = request.args.get("columns") == "all"
    columns = shown_columns(name, data.columns, everything)
    return render_template("report.html", name=name, report=data, chart=chart,
                           columns=columns, hidden=len(data.columns) - len(columns),
                           cell_kind=cell_kind, summary_kinds=SUMMARY_KINDS,
                           everything=everything)  # fmt: skip


@blueprint.get("/reports/<name>.csv")
def report_csv(name: str):
    data = _report(name)
    return csvout.download(name, data.columns, data.rows)


@blueprint.post("/reports/reorder/purchase-order")
@page_role("supervisor")
def reorder_to_po():
    skus = [s for s in request.form.getlist("sku") if s]
    if not skus:
        flash("Select at least one line.", "error")
        return redirect(url_for("report_pages.report", name="reorder"))
    conn, now = db(), utc_now()
    try:
        with store.transaction(conn):
            made = purchasing.from_reorder(conn, current_app.config["TOPICS"], skus,
                                           site_today(), now.isoformat())  # fmt: skip
    except purchasing.PurchaseError as exc:
        flash(str(exc), "error")
        return redirect(url_for("report_pages.report", name="reorder"))
    if not made:
        flash("None of the selected lines is due for reordering today.", "error")
        return redirect(url_for("report_pages.report", name="reorder"))
    current_app.config["OUTBOX_WAKE"]()
    current_app.config["CHANGES"].bump()
    flash(f"Created {', '.join(made)}.", "ok")
    return redirect(url_for("order_pages.purchase_orders"))


@blueprint.get("/import")
@page_role("admin")
def import_page():
    return render_template("import.html", kinds=csvio.IMPORT_KINDS, result=None, text="",
                           kind="")  # fmt: skip


@blueprint.app_template_global()
def import_guide() -> list[tuple[str, list[csvguide.Column]]]:
    """Each kind's columns with their meaning, in the order a new site imports them."""
    return [(kind, csvguide.columns(kind)) for kind in csvio.IMPORT_ORDER]


@blueprint.get("/import/<kind>-template.csv")
@page_role("admin")
def import_template(kind: str):
    """A CSV of `kind` to fill in: its header and one example row (hub.csvguide)."""
    if kind not in csvio.IMPORTS:
        abort(404, f"No import of {kind!r}: one of {', '.join(csvio.IMPORT_KINDS)}.")
    return csvout.download(f"{kind}-template", csvio.IMPORTS[kind][0], [csvguide.example(kind)])


@blueprint.post("/import")
@page_role("admin")
def import_post():
    """Step one checks the uploaded file (a dry run); step two saves the checked text."""
    kind = request.form.get("kind", "")
    if kind not in csvio.IMPORT_KINDS:
        abort(400, f"Choose what to import: {', '.join(csvio.IMPORT_KINDS)}.")
    text = _uploaded_text()
    saving = request.form.get("confirm") == "1"
    try:
        done = csvio.import_file(db(), current_app.config["TOPICS"], kind, text, not saving)
    except csvio.CsvImportError as exc:
        return render_template("import.html", kinds=csvio.IMPORT_KINDS, text=text, kind=kind,
                               result={"records": 0, "errors": exc.errors}), 422  # fmt: skip
    records = len(done) if isinstance(done, list) else done
    if not saving:
        return render_template("import.html", kinds=csvio.IMPORT_KINDS, text=text, kind=kind,
                               result={"records": records, "errors": []})  # fmt: skip
    current_app.config["OUTBOX_WAKE"]()
    current_app.config["CHANGES"].bump()
    flash(f"Imported {records} {kind}.", "ok")
    return redirect(url_for("report_pages.import_page"))


def _uploaded_text() -> str:
    """The file on the first step, the checked text sent back on the confirm step."""
    upload = request.files.get("file")
    raw = upload.read(MAX_IMPORT_BYTES + 1) if upload else request.form.get("text", "").encode()
    if len(raw) > MAX_IMPORT_BYTES:
        abort(413, "The file is larger than 4 MiB: split it.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        abort(400, "The file must be UTF-8 text (save the CSV as UTF-8).")
