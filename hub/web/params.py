"""Query-string parameters checked the same way on every page and API call: a bad one is
answered 400 with the reason, never guessed at."""

from datetime import date

from flask import abort, request

from hub.reports import Query
from hub.web import site_today
from protocol import limits

PAGE_SIZE = 50


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, f"`{name}` must be a whole number")
    if not low <= value <= high:
        abort(400, f"`{name}` must be between {low} and {high}")
    return value


def page() -> tuple[int, int]:
    """(limit, offset) from `limit` and `offset`."""
    return int_arg("limit", PAGE_SIZE, 1, 500), int_arg("offset", 0, 0, 10**9)


def keyset(high: int = 500, default: int = PAGE_SIZE) -> tuple[int, str]:
    """(limit, after) for lists paged by key: `after` is the last key of the page before
    (the `next` a page answers with). `offset` is refused rather than ignored."""
    if request.args.get("offset") not in (None, "", "0"):
        abort(400, "this list pages with `after` (the last key of the previous page, as "
                   "given in `next`), not `offset`")  # fmt: skip
    return int_arg("limit", default, 1, high), text_arg("after")


def text_arg(name: str, max_len: int = 200) -> str:
    value = request.args.get(name, "").strip()
    if len(value) > max_len:
        abort(400, f"`{name}` is longer than {max_len} characters")
    return value


def date_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400, f"`{name}` must be a date (YYYY-MM-DD)")
    if not limits.FIRST_YEAR <= day.year <= limits.LAST_YEAR:
        abort(400, f"`{name}` must be a day from {limits.FIRST_YEAR} to {limits.LAST_YEAR}")
    return day


def report_query() -> Query:
    """A report's query from the arguments the report pages take (the API's are declared
    in hub/web/api_params.py)."""
    args = request.args
    query = Query(
        today=date_arg("today") or site_today(),
        limit=int_arg("limit", 100, 1, 10_000), offset=int_arg("offset", 0, 0, 10**9),
        since=date_arg("since"), until=date_arg("until"), sku=args.get("sku") or None,
        location=args.get("location") or None, owner=args.get("owner"),
        after=text_arg("after"), all=args.get("all", "0") in ("1", "true"),
        kind=args.get("kind") or None,
    )  # fmt: skip
    if query.since and query.since > (query.until or query.today):
        abort(400, "`since` is after `until` (default: today)")
    return query
