"""CSV downloads: rows to text, with cells that a spreadsheet would run as formulas
defused, and a download name that cannot leave the page's own namespace."""

import csv
import io
import re
from collections.abc import Iterable, Sequence

from flask import Response, abort

from hub.csvio import spreadsheet_safe

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def cell(value: object) -> object:
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return "" if value is None else value


def to_text(columns: Sequence[str], rows: Iterable[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
    return out.getvalue()


def download(name: str, columns: Sequence[str], rows: Iterable[dict]) -> Response:
    if not _NAME.match(name):
        abort(404, "no such download")
    return Response(
        to_text(columns, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
