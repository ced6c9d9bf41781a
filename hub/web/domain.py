"""The inventory-domain functions the pages call, named in one place.

The domain (counts, purchasing, planning, reports, FIFO, CSV) is written alongside the
pages. Each function here is a thin call into the domain module that owns the rule; until
that module or function exists, `DomainMissing` names it and the page says so (HTTP 501)
instead of guessing the rule itself. Argument and return shapes are the contract the pages
rely on; they are listed in docs/web.md.
"""

import importlib
import sqlite3
from collections.abc import Callable
from typing import Any

from protocol.topics import Topics

REPORTS = ("stock", "valuation", "reorder", "abc", "dead-stock", "surplus", "kpis", "alerts")
IMPORT_KINDS = ("products", "locations", "orders", "purchase-orders")


class DomainMissing(LookupError):
    """The domain function a page needs is not in this build yet."""


class DomainRefused(ValueError):
    """The domain said no (unknown id, already decided, bad input); the message says why."""


def _fn(module: str, name: str) -> Callable[..., Any]:
    qualified = f"hub.{module}.{name}"
    try:
        found = importlib.import_module(f"hub.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"hub.{module}":
            raise
        raise DomainMissing(qualified) from None
    fn = getattr(found, name, None)
    if fn is None:
        raise DomainMissing(qualified)
    return fn


def _refusals(call: Callable[[], Any]) -> Any:
    """Domain errors about the request (LookupError, ValueError) become DomainRefused."""
    try:
        return call()
    except DomainMissing:
        raise
    except (LookupError, ValueError) as exc:
        raise DomainRefused(str(exc)) from exc


# --- counts -------------------------------------------------------------------------------
def count_variances(conn: sqlite3.Connection, limit: int, offset: int) -> list[dict]:
    """Variances waiting for approval: dicts with id, station, operator, location, sku, lot,
    book, counted, variance, ts."""
    return _fn("counts", "variances_pending")(conn, limit, offset)


def approve_variance(conn: sqlite3.Connection, topics: Topics, variance: int, user: str) -> None:
    fn = _fn("counts", "approve_variance")
    _refusals(lambda: fn(conn, topics, variance, user))


def reject_variance(conn: sqlite3.Connection, topics: Topics, variance: int, user: str) -> None:
    fn = _fn("counts", "reject_variance")
    _refusals(lambda: fn(conn, topics, variance, user))


def count_schedule(conn: sqlite3.Connection, limit: int) -> list[dict]:
    """Next counts due: dicts with location, sku, abc, due."""
    return _fn("counts", "schedule")(conn, limit)


def count_tasks_open(conn: sqlite3.Connection, limit: int) -> list[dict]:
    """Count tasks issued and not done: dicts with task, station, location, sku, issued."""
    return _fn("counts", "open_tasks")(conn, limit)


# --- purchasing and planning ----------------------------------------------------------------
def purchase_orders(
    conn: sqlite3.Connection, status: str | None, limit: int, offset: int
) -> list[dict]:
    """Dicts with po, supplier, status, expected, lines (count), ordered, received (units)."""
    return _fn("purchasing", "list_purchase_orders")(conn, status, limit, offset)


def po_from_reorder(conn: sqlite3.Connection, topics: Topics, skus: list[str], user: str) -> str:
    """Turns the reorder suggestions of `skus` into purchase orders; returns the first PO id."""
    fn = _fn("purchasing", "from_reorder")
    return _refusals(lambda: fn(conn, topics, skus, user))


def low_stock(conn: sqlite3.Connection, limit: int, offset: int) -> list[dict]:
    """Products below their reorder point: dicts with sku, name, on_hand, reorder_point."""
    return _fn("planning", "low_stock")(conn, limit, offset)


def fifo_layers(conn: sqlite3.Connection, sku: str) -> list[dict]:
    """Open FIFO cost layers, oldest first: dicts with received, lot, expiry, qty, unit_cost."""
    return _fn("fifo", "layers")(conn, sku)


# --- reports and CSV ----------------------------------------------------------------------
def report(conn: sqlite3.Connection, name: str, params: dict[str, str]) -> dict:
    """{"columns": [str], "rows": [dict]} of one report in REPORTS."""
    fn = _fn("reports", "report")
    return _refusals(lambda: fn(conn, name, params))


def csv_preview(conn: sqlite3.Connection, kind: str, text: str) -> dict:
    """Validates every row, saves nothing: {"rows": n, "errors": [{"line": n, "reason": s}]}."""
    fn = _fn("csvio", "preview")
    return _refusals(lambda: fn(conn, kind, text))


def csv_import(conn: sqlite3.Connection, topics: Topics, kind: str, text: str) -> dict:
    """All rows in one transaction or none: {"saved": n, "errors": [...]}."""
    fn = _fn("csvio", "import_rows")
    return _refusals(lambda: fn(conn, topics, kind, text))
