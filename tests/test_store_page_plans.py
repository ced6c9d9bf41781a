"""The reads behind the pages and the list endpoints never scan a whole table: each
seeks an index or walks one in order and stops at the page size (SQLite's own query
plans, so no timing is asserted). A big site has 100,000 products and millions of rows."""

import re
from datetime import date

import pytest

from hub import counts, fifo, planning, purchasing, settings, store
from tests.domain_helpers import open_ledger

pytestmark = pytest.mark.sqlite_only

READS = {
    "stock search": lambda c: store.stock_search(c, "Mug", 50, 0),
    "stock by sku, a deep page": lambda c: store.stock_list(c, None, 100, "SKU-5"),
    "catalog, a deep page": lambda c: store.catalog_stock_page(c, "SKU-5", 50),
    "below zero": lambda c: store.catalog_stock_page(c, "SKU-5", 50, negative_only=True),
    "low stock": lambda c: planning.low_stock(c, date(2026, 1, 2), "SKU-5", 50),
    "a bin's contents": lambda c: store.location_stock(c, "A-01", 50, 0),
    "a product's movements": lambda c: store.movements_of_sku(c, "MUG", 50, 1000),
    "a product's layers": lambda c: fifo.layers(c, "MUG"),
    "orders": lambda c: store.order_list(c, None, 50, 0),
    "an order's scan log": lambda c: store.order_log(c, "SO-1", 100),
    "purchase orders": lambda c: purchasing.po_page(c, None, 50, 0),
    "overview: orders waiting": lambda c: store.orders_in_status(c, ("open", "packing")),
    "overview: packs today": lambda c: store.packs_since(c, "2026-01-02", "2026-01-02T09"),
    "overview: receipts due": lambda c: store.pos_expected_by(c, "2026-01-02", 10),
    "counts waiting": lambda c: counts.variances_pending(c, 50, 0),
    "due for a count": lambda c: counts.due_now(c, settings.load(c), date(2026, 1, 2), 50),
    "open count tasks": lambda c: counts.open_tasks(c, 50),
    "stored dead stock": lambda c: (
        store.report_run(c, "dead-stock"),
        store.dead_stock_stored(c, 100, 0),
    ),
    "stored surplus": lambda c: store.surplus_stored(c, 100, 0),
    "stored reorder, due": lambda c: planning.stored_reorder_page(
        c, date(2026, 1, 2), "SKU-5", 100, True
    ),
    "stored reorder, all": lambda c: planning.stored_reorder_page(
        c, date(2026, 1, 2), "SKU-5", 100, False
    ),
}
# "SCAN x" with no index is a whole table, unless x is the query's own small result set.
WHOLE_TABLE = re.compile(r"^SCAN (?!(h|n)$)\w+$")


def plans(conn, read) -> list[str]:
    """The plan of every SELECT the read runs (as traced, values bound)."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        read(conn)
    finally:
        conn.set_trace_callback(None)
    return [row[-1] for sql in statements if sql.lstrip().upper().startswith(("SELECT", "WITH"))
            for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]  # fmt: skip


@pytest.mark.parametrize("name", READS)
def test_a_page_read_scans_no_whole_table(tmp_path, name):
    conn = open_ledger(tmp_path / "ledger.db")
    found = plans(conn, READS[name])
    assert found, "the read ran no query"
    assert [step for step in found if WHOLE_TABLE.match(step)] == [], found
