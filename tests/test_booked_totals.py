"""A change adds up its daily SKU totals and its movements' values in memory and writes them
at its end (hub.booked): one batch leaves what the same events left one batch each, and a
message in the middle of a batch that reads them (a centre's resend, here) reads them
whole."""

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest

from hub import store
from hub.ingest import Incoming
from protocol.envelope import encode, encode_event
from protocol.events import Adjustment, Receipt, Shipment, ShipmentLine
from protocol.messages import AppliedMovement, ResendMovements
from tests.domain_helpers import TOPICS, Feed, open_ledger

pytestmark = pytest.mark.hub

TS = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
EVENTS = [
    Receipt(sku="MUG", qty=5, location="A-1", unit_cost=Decimal("2.00")),
    Receipt(sku="MUG", qty=3, location="A-2", unit_cost=Decimal("3.00")),
    Receipt(sku="TEA", qty=4, location="A-1", unit_cost=Decimal("1.50")),
    Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=6, location="A-1"),
                                  ShipmentLine(sku="TEA", qty=1, location="A-1")]),
    Adjustment(sku="MUG", qty=-1, location="A-2", reason="damaged"),
    Shipment(order="SO-2", lines=[ShipmentLine(sku="MUG", qty=1, location="A-2")]),
]  # fmt: skip


def messages(events: list, first: int = 1) -> list[Incoming]:
    return [Incoming(TOPICS.events("st-1"), encode_event("st-1", "e1", seq, data, TS))
            for seq, data in enumerate(events, first)]  # fmt: skip


def booked(conn) -> tuple[list, list]:
    days = conn.execute("SELECT day, sku, out_qty, in_qty, cogs FROM daily_sku "
                        "ORDER BY day, sku").fetchall()  # fmt: skip
    values = conn.execute("SELECT movement_id, value FROM movement_values "
                          "ORDER BY movement_id").fetchall()  # fmt: skip
    return [tuple(r) for r in days], [tuple(r) for r in values]


def test_one_batch_books_what_one_event_a_batch_books(tmp_path):
    together, apart = open_ledger(tmp_path / "together.db"), open_ledger(tmp_path / "apart.db")
    assert Feed(together).ingest.process(messages(EVENTS)).applied == len(EVENTS)
    for seq, message in enumerate(messages(EVENTS), 1):
        assert Feed(apart).ingest.process([message]).applied == 1, seq
    days, values = booked(together)
    assert (days, values) == booked(apart)
    assert [d[1:4] for d in days] == [("MUG", 7, 8, ), ("TEA", 1, 4)]
    assert len(values) == 7 and sum(v for _, v in values) == 4_500_000  # the value left
    together.close()
    apart.close()


def test_a_resend_in_the_batch_sends_the_batchs_movements_with_their_values(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    ask = Incoming(TOPICS.resend_movements, encode(ResendMovements(from_=1)))
    last = store.outbox_last_id(conn)
    Feed(conn).ingest.process([*messages(EVENTS[:3]), ask])
    sent = [msgspec.json.decode(payload, type=AppliedMovement)
            for _id, topic, payload, _ in store.outbox_read(conn, last, 1000)
            if topic == TOPICS.movements]  # fmt: skip
    resent = sent[:3]  # said again mid-batch; the batch's own three come at its end
    assert [(m.ledger_seq, m.value_micros) for m in resent] == \
        [(1, 10_000_000), (2, 9_000_000), (3, 6_000_000)]  # fmt: skip
    conn.close()
