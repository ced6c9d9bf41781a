"""A central hub's reports of its sites as pages and CSV downloads (hub/company_reports.py):
`/sites/reports`, `/sites/reports/{name}` and `/sites/reports/{name}.csv`, each with the
site filter (all sites: the company's total, with each site's part)."""

from typing import get_args

from flask import Blueprint, abort, current_app, render_template, request

from hub import company_reports
from hub.company_reports import CompanyQuery
from hub.reports import Report
from hub.web import csvout, db, site_today
from hub.web.format import words
from hub.web.pages import login_gate
from hub.web.params import date_arg, int_arg, text_arg
from hub.web.report_pages import KINDS, pareto_items
from hub.web.site_pages import site_arg
from protocol.messages import AlertKind

blueprint = Blueprint("site_report_pages", __name__)
blueprint.before_request(login_gate)

TITLES = {"valuation": "Valuation", "abc": "ABC analysis", "dead-stock": "Dead stock",
          "surplus": "Surplus", "alerts": "Open alerts"}  # fmt: skip
# How the columns of the company's reports read, beyond those of the site hub's reports.
SITE_KINDS = {**KINDS, "in_transit_value": "money", "site": "site", "sku": "site_sku",
              "station": "text"}  # fmt: skip
SUMMARY_KINDS = {"total_value": "money", "in_transit_value": "money",
                 "coming_in_value": "money", "computed": "time", "since": "day",
                 "days": "days", "window_days": "days"}  # fmt: skip


# The company's columns of each site's part: `value_s1` reads "Value at s1".
PER_SITE = (("value_", "Value"), ("class_", "Class"), ("on_hand_", "On hand"),
            ("open_at_", "Open at"))  # fmt: skip


def column_title(column: str, followed: list[str]) -> str:
    for prefix, what in PER_SITE:
        site = column.removeprefix(prefix)
        if column.startswith(prefix) and site in followed:
            return f"{what} {site}" if what.endswith(" at") else f"{what} at {site}"
    return words(column)


def cell_kind(column: str) -> str:
    if column.startswith("value_"):
        return "money"  # a site's part of the value
    if column.startswith("class_"):
        return "text"
    return SITE_KINDS.get(column, "number")


def _query() -> CompanyQuery:
    kind = text_arg("kind") or None
    if kind is not None and kind not in get_args(AlertKind):
        abort(400, f"`kind` must be one of {', '.join(get_args(AlertKind))}")
    return CompanyQuery(
        today=date_arg("today") or site_today(), site=site_arg(current_app.config["SITES"]),
        limit=int_arg("limit", 100, 1, 10_000), offset=int_arg("offset", 0, 0, 10**9),
        kind=kind,
    )  # fmt: skip


def _report(name: str) -> tuple[Report, CompanyQuery]:
    build = company_reports.REPORTS.get(name)
    if build is None:
        abort(404, f"No report {name!r} of the sites: one of "
                   f"{', '.join(company_reports.REPORTS)}.")  # fmt: skip
    query = _query()
    return build(db(), current_app.config["SITES"], query), query


@blueprint.get("/sites/reports")
def index():
    followed = current_app.config["SITES"]
    return render_template("site_reports.html", reports=company_reports.REPORTS,
                           titles=TITLES, followed=followed,
                           site=site_arg(followed))  # fmt: skip


@blueprint.get("/sites/reports/<name>")
def report(name: str):
    data, query = _report(name)
    chart = pareto_items(data) if name == "abc" else None
    return render_template(
        "site_report.html", name=name, title=TITLES[name], report=data, query=query,
        followed=current_app.config["SITES"], titles=TITLES, cell_kind=cell_kind,
        summary_kinds=SUMMARY_KINDS, chart=chart, kinds=get_args(AlertKind),
        path=request.path,
        column_title=lambda c: column_title(c, current_app.config["SITES"]),
        summary_title=lambda k: column_title(k, current_app.config["SITES"]),
    )  # fmt: skip


@blueprint.get("/sites/reports/<name>.csv")
def report_csv(name: str):
    data, query = _report(name)
    return csvout.download(f"sites-{name}" + (f"-{query.site}" if query.site else ""),
                           data.columns, data.rows)  # fmt: skip
