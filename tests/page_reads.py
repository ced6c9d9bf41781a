"""The reads behind the pages and the list endpoints, one per page or list, as the web calls
them: the plan tests of each backend (tests/test_store_page_plans.py on SQLite,
tests/test_store_page_plans_postgres.py on PostgreSQL) run every one and look at the plan
of each statement it runs.

The values are of the kind a big site holds (scripts/lib/big_ledger.py's names: SKU-000424,
location A-00-0, order SO-000001, PO-000001): on a filled ledger a custom plan is then made
for values that exist, a page in the middle of the catalog rather than past its end."""

import json
from collections.abc import Iterator
from datetime import date

import psycopg

from hub import counts, fifo, planning, purchasing, sales, settings, store

TODAY = date(2026, 11, 28)  # the filler's last day
MIDDLE = "SKU-005000"  # a keyset page in the middle of the catalog

READS = {
    "stock search": lambda c: store.stock_search(c, "Mug", 50, 0),
    "stock search, a sku prefix": lambda c: store.stock_search(c, "SKU-0004", 50, 0),
    # Text inside names: PostgreSQL seeks it through the names' trigrams; SQLite reads its
    # narrow name index whole (no index it has can seek text inside a value).
    "stock search, inside names": lambda c: store.stock_search(c, "duct 424, bl", 50, 0),
    "stock by sku, a deep page": lambda c: store.stock_list(c, None, 100, MIDDLE),
    "catalog, a deep page": lambda c: store.catalog_stock_page(c, MIDDLE, 50),
    "below zero": lambda c: store.catalog_stock_page(c, MIDDLE, 50, negative_only=True),
    "low stock": lambda c: planning.low_stock(c, TODAY, MIDDLE, 50),
    "a bin's contents": lambda c: store.location_stock(c, "A-00-0", 50, 0),
    "a product's movements": lambda c: store.movements_of_sku(c, "SKU-000424", 50, 1000),
    "a product's layers": lambda c: fifo.layers(c, "SKU-000424"),
    "latest movements": lambda c: store.movements_latest(c, 100),
    "latest movements, a page back": lambda c: store.movements_latest(c, 100, 50_000),
    "orders": lambda c: store.order_list(c, None, 50, 0),
    "orders, open": lambda c: store.order_list(c, "open", 50, 0),
    "an order's scan log": lambda c: store.order_log(c, "SO-000001", 100),
    "purchase orders": lambda c: purchasing.po_page(c, None, 50, 0),
    "purchase orders, open": lambda c: purchasing.po_page(c, "open", 50, 0),
    "overview: orders waiting": lambda c: store.orders_in_status(c, ("open", "packing")),
    "overview: events today": lambda c: store.events_today(c, "2026-11-27"),
    "overview: scan errors today": lambda c: store.scan_errors_since(c, "2026-11-27"),
    "overview: packs today": lambda c: store.packs_since(c, "2026-11-27", "2026-11-27T09"),
    "overview: receipts due": lambda c: store.pos_expected_by(c, TODAY.isoformat(), 10),
    "counts waiting": lambda c: counts.variances_pending(c, 50, 0),
    "counts, pending": lambda c: store.count_list(c, "pending", 50, 0),
    "due for a count": lambda c: counts.due_now(c, settings.load(c), TODAY, 50),
    "open count tasks": lambda c: counts.open_tasks(c, 50),
    "report stock": lambda c: store.stock_page(c, None, None, None, 100, 0),
    "report stock, a deep page": lambda c: store.stock_page(c, None, None, None, 100, 20_000),
    "report stock, a bin": lambda c: store.stock_page(c, None, "A-00-0", None, 100, 0),
    "stored dead stock": lambda c: (
        store.report_run(c, "dead-stock"),
        store.dead_stock_stored(c, 100, 0),
    ),
    "stored surplus": lambda c: store.surplus_stored(c, 100, 0),
    "stored reorder, due": lambda c: planning.stored_reorder_page(c, TODAY, MIDDLE, 100, True),
    "stored reorder, all": lambda c: planning.stored_reorder_page(c, TODAY, MIDDLE, 100, False),
    "margins": lambda c: sales.margin_page(c, "2026-10-30", TODAY.isoformat(), "", 100),
    "margins, a deep page": lambda c: sales.margin_page(c, "2026-10-30", TODAY.isoformat(),
                                                        MIDDLE, 100),
    "alerts, open": lambda c: store.alerts_page(c, True, None, 50, 0),
    "alerts, of a kind": lambda c: store.alerts_page(c, False, "low_stock", 50, 0),
}


def in_a_writing_transaction(read):
    """`read` as an ingest batch runs it: inside a writing transaction (a read ahead asks
    for one)."""
    def run(conn):
        with store.transaction(conn):
            read(conn)
    return run


def sqlite_plans(conn, read) -> list[str]:
    """SQLite's plan of every SELECT `read(conn)` runs (as traced, values bound)."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        read(conn)
    finally:
        conn.set_trace_callback(None)
    return [row[-1] for sql in statements if sql.lstrip().upper().startswith(("SELECT", "WITH"))
            for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]  # fmt: skip


def postgres_plans(url: str, read, mode: str) -> list[dict]:
    """PostgreSQL's plan (EXPLAIN's JSON) of every statement `read` runs on the ledger at
    `url`, on a connection as the hub makes it, planned in `mode` (`plan_cache_mode`:
    `force_custom_plan` for the values given, `force_generic_plan` without them). The
    server's `auto_explain` sends each plan back as a notice."""
    conn = store.connect(url)
    found: list[dict] = []

    def notice(diag: psycopg.errors.Diagnostic) -> None:
        head, _, plan = (diag.message_primary or "").partition("plan:\n")
        if head.startswith("duration:"):
            found.append(json.loads(plan))

    try:
        # auto_explain: every statement's plan as it ran, sent to this client as a notice.
        for setting in ("LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
                        "SET auto_explain.log_level = 'notice'",
                        "SET auto_explain.log_format = 'json'",
                        f"SET plan_cache_mode = '{mode}'"):  # fmt: skip
            conn.execute(setting)
        conn.raw.add_notice_handler(notice)
        read(conn)
    finally:
        conn.close()
    return found


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)
