"""A central hub's reports of its sites as JSON or CSV: `GET /api/sites/reports/{name}`
(hub/company_reports.py), each for one site (`site=`) or for the company."""

from typing import Annotated

import msgspec
from flask import Blueprint, abort, jsonify
from msgspec import Meta

from hub import company_reports, csvio
from hub.company_reports import CompanyQuery
from hub.web import db, site_today
from hub.web.api_calls import answer_http_errors_as_json, csv_response
from hub.web.api_params import Day, Offset, _Query, check_days
from hub.web.api_sites import known_site, sites
from hub.web.auth import require_token
from hub.web.contract import CSV, JSON, contract
from protocol.messages import AlertKind
from protocol.types import SiteId

blueprint = Blueprint("api_site_reports", __name__)
answer_http_errors_as_json(blueprint)

_NAMES = [*company_reports.REPORTS, *(f"{n}.csv" for n in company_reports.REPORTS)]


class SiteReportPath(msgspec.Struct):
    # Not a Literal: a report that does not exist is a 404 naming the reports.
    name: Annotated[str, Meta(extra_json_schema={"enum": _NAMES})]


class SiteReportQuery(_Query):
    site: SiteId | None = None
    limit: Annotated[int, Meta(ge=1, le=10_000)] = 100
    offset: Offset = 0
    today: Day | None = None
    kind: AlertKind | None = None

    def __post_init__(self) -> None:
        check_days(today=self.today)

    def company_query(self) -> CompanyQuery:
        return CompanyQuery(self.today or site_today(), self.site, self.limit, self.offset,
                            self.kind)  # fmt: skip


@blueprint.get("/api/sites/reports/<name>")
@require_token
@contract(path=SiteReportPath, query=SiteReportQuery, media=(JSON, CSV), errors=(404,))
def site_report(name: str, query: SiteReportQuery):
    """A central hub's report of its sites, for one `site` or (none) for the company:
    `valuation` (per SKU own and consigned units, the part in transit to another site, the
    FIFO value; the company's with each site's `value_{site}`), `abc` (classes by the
    last year's cost of shipments, the company's with each site's `class_{site}`),
    `dead-stock` and `surplus` (the site hub's definitions and the centre's Settings; the
    company's with each site's `on_hand_{site}`), `alerts` (those each site has open;
    `kind` for one kind). As JSON (`columns`, `rows`, `next`: the arguments of the next
    page, `summary`), or CSV with the `.csv` suffix. `today` sets the day the windows end
    on. The company counts a transfer's units once (docs/multi-site.md)."""
    as_csv = name.endswith(".csv")
    name = name.removesuffix(".csv")
    build = company_reports.REPORTS.get(name)
    if build is None:
        abort(404, f"no report {name!r} of the sites; reports: "
                   f"{', '.join(company_reports.REPORTS)}")  # fmt: skip
    known_site(query.site)
    result = build(db(), sites(), query.company_query())
    if as_csv:
        return csv_response(csvio.write(result.columns, result.rows), f"sites-{name}")
    return jsonify({"report": result.name, "site": query.site, "columns": result.columns,
                    "rows": result.rows, "next": result.next,
                    "summary": result.summary})  # fmt: skip
