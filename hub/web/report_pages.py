"""Reports (reorder, ABC with its Pareto chart, dead stock, surplus, KPIs...), each as a
table and a CSV download; reorder lines to a purchase order; and the CSV import."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from hub.web import csvout, db, domain
from hub.web.auth import page_role
from hub.web.pages import login_gate

blueprint = Blueprint("report_pages", __name__)
blueprint.before_request(login_gate)

MAX_IMPORT_BYTES = 4 * 1024 * 1024


def _report(name: str) -> dict:
    if name not in domain.REPORTS:
        abort(404, f"No report {name!r}.")
    params = {k: v for k, v in request.args.items() if len(k) <= 40 and len(v) <= 100}
    return domain.report(db(), name, params)


def pareto_items(report: dict) -> list[dict]:
    """ABC rows as chart items (label, value), largest first."""
    items = [
        {"label": str(row.get("sku", "")), "value": float(row.get("value") or 0)}
        for row in report.get("rows", [])
    ]
    return sorted(items, key=lambda i: i["value"], reverse=True)[:200]


@blueprint.get("/reports")
def reports():
    return render_template("reports.html", reports=domain.REPORTS)


@blueprint.get("/reports/<name>")
def report(name: str):
    data = _report(name)
    chart = pareto_items(data) if name == "abc" else None
    return render_template("report.html", name=name, report=data, chart=chart)


@blueprint.get("/reports/<name>.csv")
def report_csv(name: str):
    data = _report(name)
    return csvout.download(name, data["columns"], data["rows"])


@blueprint.post("/reports/reorder/purchase-order")
@page_role("supervisor")
def reorder_to_po():
    skus = request.form.getlist("sku")
    if not skus:
        flash("Select at least one line.", "error")
        return redirect(url_for("report_pages.report", name="reorder"))
    try:
        po = domain.po_from_reorder(db(), current_app.config["TOPICS"], skus, g.account.name)
    except domain.DomainRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("report_pages.report", name="reorder"))
    current_app.config["OUTBOX_WAKE"]()
    flash(f"Purchase order {po} created.", "ok")
    return redirect(url_for("order_pages.purchase_orders"))


@blueprint.get("/import")
@page_role("admin")
def import_page():
    return render_template("import.html", kinds=domain.IMPORT_KINDS, result=None, text="",
                           kind="")  # fmt: skip


@blueprint.post("/import")
@page_role("admin")
def import_post():
    kind = request.form.get("kind", "")
    if kind not in domain.IMPORT_KINDS:
        abort(400, f"Choose what to import: {', '.join(domain.IMPORT_KINDS)}.")
    text = _uploaded_text()
    if request.form.get("confirm") != "1":
        result = domain.csv_preview(db(), kind, text)
        return render_template("import.html", kinds=domain.IMPORT_KINDS, result=result,
                               text=text, kind=kind)  # fmt: skip
    try:
        result = domain.csv_import(db(), current_app.config["TOPICS"], kind, text)
    except domain.DomainRefused as exc:
        abort(400, str(exc))
    if result.get("errors"):
        return render_template("import.html", kinds=domain.IMPORT_KINDS, result=result,
                               text=text, kind=kind), 422  # fmt: skip
    current_app.config["OUTBOX_WAKE"]()
    flash(f"Imported {result.get('saved', 0)} {kind}.", "ok")
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
