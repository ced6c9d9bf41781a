"""The MQTT decoder holds station events to protocol/limits.py: an event out of range is
dead-lettered by the decoder with the field and the limit (not later by a last-resort
handler), and events at the limits are applied without the ledger's 64-bit integers
overflowing."""

from datetime import date

import msgspec
import pytest

from hub import reports, store
from hub.ingest import Incoming
from hub.money import text, to_micros
from hub.reports import Query
from protocol.envelope import InvalidMessage, decode_event
from protocol.events import Receipt, Shipment, ShipmentLine
from protocol.limits import MONEY, QTY_MAX
from tests.webapp import TOPICS, Ledger


def _event(data: dict, kind: str = "receipt", seq: int = 1) -> bytes:
    return msgspec.json.encode({"v": 1, "station": "dock-1", "epoch": "e1", "seq": seq,
                                "ts": "2026-01-02T03:04:05Z", "type": kind, "data": data})  # fmt: skip


RECEIPT = {"sku": "MUG-1", "location": "A-01"}


@pytest.mark.parametrize(("data", "reason"), [
    ({**RECEIPT, "qty": 1_000_000_000, "unit_cost": "10000"},
     "receipt: Expected `int` <= 1000000 - at `$.qty`"),
    ({**RECEIPT, "qty": 1, "unit_cost": "1e999999"}, "`unit_cost` must be a money amount"),
    ({**RECEIPT, "qty": 1, "unit_cost": "1e30"}, "from 0 to 99999.999999"),
    ({**RECEIPT, "qty": 1, "unit_cost": "NaN"}, "`unit_cost`"),
])  # fmt: skip
def test_the_decoder_names_the_field_and_the_limit(data, reason):
    with pytest.raises(InvalidMessage) as refused:
        decode_event(_event(data))
    assert reason in str(refused.value)


def test_a_weight_beyond_any_parcel_is_refused():
    line = {"sku": "MUG-1", "qty": 1, "location": "A-01"}
    with pytest.raises(InvalidMessage, match="`weight_g` must be a parcel weight"):
        decode_event(_event({"order": "SO-1", "lines": [line], "weight_g": "1e999999"},
                            "shipment"))  # fmt: skip


@pytest.fixture
def ledger(tmp_path):
    ledger = Ledger(tmp_path / "ledger.db")
    yield ledger
    ledger.conn.close()


def test_an_event_out_of_range_is_dead_lettered_by_the_decoder(ledger):
    payload = _event({**RECEIPT, "qty": 1_000_000_000, "unit_cost": "10000"})
    ledger.ingest.process([Incoming(TOPICS.events("dock-1"), payload)])
    [dead] = store.dead_letters(ledger.conn)
    assert dead["reason"].endswith("receipt: Expected `int` <= 1000000 - at `$.qty`")
    assert store.on_hand(ledger.conn, "MUG-1") == 0


def test_events_at_the_limits_are_applied_and_valued_without_overflow(ledger):
    most = MONEY.most  # 99999.999999 a unit: one line is 10**17 micros
    receipts = [Receipt(sku="MUG-1", qty=QTY_MAX, location=f"A-{n:02}", unit_cost=most)
                for n in range(3)]  # fmt: skip
    ledger.apply(*receipts, station="dock-1")
    ledger.apply(Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG-1", qty=QTY_MAX,
                                                             location="A-00")]))  # fmt: skip
    assert store.dead_letters(ledger.conn) == []
    assert store.on_hand(ledger.conn, "MUG-1") == 2 * QTY_MAX
    value = text(2 * QTY_MAX * to_micros(most))  # 2 x 10**17 micros
    valued = reports.valuation(ledger.conn, Query(today=date(2026, 1, 2)))
    assert [(r["own_qty"], r["value"]) for r in valued.rows] == [(2 * QTY_MAX, value)]
    assert valued.summary["total_value"] == value
