"""On PostgreSQL the server binds the parameters and prepares the statements an ingest
worker repeats (hub/store/postgres.py): a parameter whose type the query leaves open (a
NULL filter, a pattern, a NULL in a select list) is cast in the query, alike on both
backends; each such query runs here with the parameter absent and present."""

from datetime import UTC

import pytest

from hub import store
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode_event, utc_now
from protocol.events import Receipt
from protocol.topics import Topics
from tests import postgres
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub
TOPICS = Topics("site-1")
NOW = "2026-12-05T10:00:00+00:00"


@pytest.fixture
def conn(tmp_path):
    conn = store.connect(ledger_target(tmp_path / "ledger.db"))
    store.create_schema(conn)
    yield conn
    conn.close()


def receipts(count: int) -> list[Incoming]:
    ts = utc_now()
    return [Incoming(TOPICS.events("dock-1"),
                     encode_event("dock-1", "0123456789abcdef", seq, Receipt(sku="SKU-1", qty=2, location="A-1",
                                                               lot="L1" if seq % 2 else None), ts))
            for seq in range(1, count + 1)]  # fmt: skip


def test_optional_filters_take_none_and_a_value(conn):
    Ingest(conn, TOPICS, zone=UTC).process(receipts(4))
    assert store.pick_location(conn, "SKU-1") == "A-1"
    assert store.pick_location(conn, "SKU-1", "L1") == "A-1"
    assert [lot for lot, *_ in store.stock_at(conn, "SKU-1", "A-1")] == ["", "L1"]
    assert [lot for lot, *_ in store.stock_at(conn, "SKU-1", "A-1", "L1")] == ["L1"]
    assert store.order_list(conn, None, 10, 0) == store.order_list(conn, "open", 10, 0) == []
    assert store.po_list(conn, None, 10, 0) == store.po_list(conn, "open", 10, 0) == []
    assert store.count_list(conn, None, 10, 0) == store.count_list(conn, "posted", 10, 0) == []
    assert store.count_tasks(conn, None, None) == store.count_tasks(conn, "r1", "open") == []
    assert store.settlements(conn, None, 10) == store.settlements(conn, "acme", 10) == []
    assert store.uplifts(conn) == store.uplifts(conn, "SKU-1") == []
    kinds = {alert["kind"] for alert in store.alerts_page(conn, True, None, 10, 0)}
    assert kinds == {"unknown_sku"}
    assert [a["kind"] for a in store.alerts_page(conn, False, "unknown_sku", 10, 0)] == [
        "unknown_sku"]  # fmt: skip
    assert store.dead_letters_drop(conn, None, 10) == store.dead_letters_drop(conn, "x", 10) == 0


def test_a_supplier_line_without_lead_time_or_cost_takes_the_suppliers(conn):
    store.supplier_upsert(conn, "acme", "Acme", "a@example.com", 9, NOW)
    store.product_suppliers_replace(conn, "SKU-1", [("acme", None, None), ("acme-2", 3, 1_500_000)])
    assert store.product_suppliers(conn, "SKU-1") == [("acme", 9, None), ("acme-2", 3, 1_500_000)]


def test_a_name_search_matches_part_of_a_name(conn):
    store.product_upsert(conn, "SKU-7", "Blue 100% wool scarf", b"{}", NOW)
    assert [row[0] for row in store.stock_search(conn, "wool", 10, 0)] == ["SKU-7"]
    assert store.stock_search(conn, "linen", 10, 0) == []


@pytest.mark.skipif(not postgres.enabled(), reason="prepared statements are PostgreSQL's")
def test_an_ingest_workers_repeated_statements_are_prepared_on_the_server(conn):
    """Those sent for each batch (an event's rows and a movement's go by COPY, the
    balances' as one upsert of them all)."""
    ingest, events = Ingest(conn, TOPICS, zone=UTC), receipts(6)
    for batch in (events[:2], events[2:4], events[4:]):
        ingest.process(batch)
    prepared = [sql for (sql,) in conn.execute("SELECT statement FROM pg_prepared_statements")]
    assert any(sql.startswith("INSERT INTO balances") for sql in prepared), prepared
    assert any(sql.startswith("INSERT INTO cursors") for sql in prepared), prepared
