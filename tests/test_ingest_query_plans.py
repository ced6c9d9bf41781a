"""Every statement the ingest runs for a batch finds its rows through an index: a full
table scan costs nothing on a test ledger and grows with every movement on a real one
(`last_layer_cost` scanned all cost layers back to a SKU's last receipt, per receipt).
The statements are the ones SQLite really ran (its trace, values included)."""

from datetime import UTC, datetime

import pytest

from hub import store
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode_event
from protocol.events import Adjustment, Count, Move, Receipt, Scan, Shipment, ShipmentLine
from protocol.topics import Topics

pytestmark = pytest.mark.sqlite_only

TOPICS = Topics("s1")
EVENTS = [
    Receipt(sku="A", qty=5, location="L1"),
    Receipt(sku="B", qty=5, location="L1", lot="X"),
    Scan(code="4006381333931", verdict="ok", mode="pack", order="SO-1", sku="A"),
    Shipment(order="SO-1", lines=[ShipmentLine(sku="A", qty=1, location="L1")]),
    Move(sku="A", qty=1, from_="L1", to="L2"),
    Adjustment(sku="A", qty=-1, location="L2", reason="lost"),
    Count(sku="B", counted=3, location="L1"),
]
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def batch(first_seq: int) -> list[Incoming]:
    now = datetime.now(UTC)
    return [Incoming(TOPICS.events("st-1"), encode_event("st-1", "e1", first_seq + i, e, now))
            for i, e in enumerate(EVENTS)]  # fmt: skip


def test_no_statement_of_a_batch_scans_a_table():
    conn = store.connect(":memory:")
    store.create_schema(conn)
    ingest = Ingest(conn, TOPICS)
    ingest.process(batch(1))  # the rows a second batch finds (layers, balances, cursors)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    ingest.process(batch(len(EVENTS) + 1))
    conn.set_trace_callback(None)
    scans = {}
    for sql in statements:
        if sql.split()[0].upper() in CONTROL:
            continue
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        # A list given as JSON (json_each) is the statement's own parameter, not a table.
        full = [step for step in plan if step.startswith("SCAN ") and "CONSTANT" not in step
                and not step.startswith("SCAN json_each VIRTUAL TABLE")]  # fmt: skip
        if full:
            scans[sql] = full
    assert len(statements) > 20  # the trace saw the batch
    assert scans == {}


def test_a_receipt_reads_its_lines_deficits_not_every_open_layer():
    """A line that is only received into (stocking up) keeps every layer open: reading them
    all made each receipt slower than the one before."""
    conn = store.connect(":memory:")
    store.create_schema(conn)
    ingest = Ingest(conn, TOPICS)
    now = datetime.now(UTC)
    stocking = [Incoming(TOPICS.events("st-1"),
                         encode_event("st-1", "e1", seq, Receipt(sku="A", qty=1, location="L1"), now))
                for seq in range(1, 31)]  # fmt: skip
    ingest.process(stocking)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    receipt = Receipt(sku="A", qty=1, location="L1")
    ingest.process([Incoming(TOPICS.events("st-1"), encode_event("st-1", "e1", 31, receipt, now))])
    conn.set_trace_callback(None)
    layer_reads = [sql for sql in statements
                   if sql.lstrip().upper().startswith("SELECT") and "FROM cost_layers" in sql
                   and "qty_left" in sql.split("WHERE", 1)[-1]]  # fmt: skip
    assert layer_reads  # the receipt looked for deficits to settle
    for sql in layer_reads:
        plan = " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "cost_layers_deficit" in plan, (sql, plan)
    open_layers = conn.execute("SELECT count(*) FROM cost_layers WHERE qty_left > 0").fetchone()
    assert open_layers == (31,)
