"""The accountant's export and the movements as CSV (docs/inventory.md, "Accounting").

Every view's docstring is its description in the OpenAPI document.
"""

from collections.abc import Iterator

from flask import Blueprint, Response, abort, current_app, jsonify

from hub import accounting, store
from hub.web import db, site_today, site_zone
from hub.web.api_params import BackQuery, PeriodQuery
from hub.web.auth import require_token
from hub.web.contract import CSV, contract
from hub.web.csvout import to_text

blueprint = Blueprint("accounting_api", __name__)

MOVEMENT_COLUMNS = ["id", "type", "sku", "location", "lot", "owner", "delta", "ts", "hub_ts",
                    "station", "epoch", "seq"]  # fmt: skip


def _period(query: PeriodQuery) -> accounting.Period:
    """`from` and `to` (days, inclusive); default: the month so far. A `from` after `to`
    is well formed but no period: 422."""
    until = query.until or site_today()
    since = query.since or until.replace(day=1)
    try:
        return accounting.Period(since, until, site_zone())
    except ValueError as exc:
        abort(422, str(exc))


@blueprint.get("/api/reports/accounting.csv")
@require_token
@contract(query=PeriodQuery, media=(CSV,), errors=(422,))
def accounting_csv(query: PeriodQuery):
    """The accountant's export of the days `from` to `to` (YYYY-MM-DD, inclusive; default
    this month): one row per ledger posting (date, movement, type, category, sku, location,
    lot, owner, qty, unit_cost, value at FIFO cost; `true_up` rows for settled deficits),
    then the dropship sales (`dropship_sale`: order, po, revenue and cost; no stock moved,
    no value), then the opening value, a total per category, the closing value, what is
    owed to each consignment owner and the dropship total (revenue, cost). Opening value +
    the totals = closing value."""
    period, path = _period(query), current_app.config["DB_PATH"]

    def lines() -> Iterator[str]:
        # Its own connection, as the rows stream after the request's has closed; one read
        # transaction, so the postings and the values they tie together are one snapshot
        # while the ingest goes on writing.
        conn = store.connect(path)
        try:
            with store.snapshot(conn):
                totals = accounting.Totals()
                yield from _csv_lines(accounting.COLUMNS,
                                      accounting.rows(conn, period, totals))  # fmt: skip
                result = accounting.summary(conn, period, totals)
                yield from _csv_lines(accounting.COLUMNS, accounting.summary_rows(result),
                                      header=False)  # fmt: skip
        finally:
            conn.close()

    name = f"accounting-{period.since}-{period.until}"
    return Response(lines(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@blueprint.get("/api/reports/accounting")
@require_token
@contract(query=PeriodQuery, errors=(422,))
def accounting_summary(query: PeriodQuery):
    """The accountant's export's totals for the days `from` to `to`: opening value, the
    total of each category, closing value, `balanced` (opening + totals = closing), how
    many postings, what is owed to consignment owners, and `dropship` (sales, revenue,
    cost, and sales whose purchase order line had no cost)."""
    period, conn = _period(query), db()
    totals = accounting.Totals()
    with store.snapshot(conn):  # one snapshot, as the CSV
        for _row in accounting.rows(conn, period, totals):
            pass
        return jsonify(accounting.summary(conn, period, totals))


@blueprint.get("/api/movements.csv")
@require_token
@contract(query=BackQuery, media=(CSV,))
def movements_csv(query: BackQuery):
    """The latest ledger movements as CSV, newest first, paged as `/api/movements`:
    `before` (a movement id) pages back, `limit` up to 1000."""
    rows = store.movements_latest(db(), query.limit, query.before)
    return Response(
        to_text(MOVEMENT_COLUMNS, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="movements.csv"'},
    )


def _csv_lines(columns: list[str], rows, header: bool = True) -> Iterator[str]:
    """CSV text a batch of rows at a time, so a long period streams."""
    batch: list[dict] = []
    first = header
    for row in rows:
        batch.append(row)
        if len(batch) == 1000:
            yield _text(columns, batch, first)
            batch, first = [], False
    if batch or first:
        yield _text(columns, batch, first)


def _text(columns: list[str], rows: list[dict], header: bool) -> str:
    text = to_text(columns, rows)
    return text if header else text.split("\r\n", 1)[1]
