"""The protocol: strict decoding, and a generated AsyncAPI document that matches the code."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import jsonschema
import msgspec
import pytest
import yaml

from protocol import asyncapi
from protocol.envelope import InvalidMessage, decode_event, encode_event
from protocol.events import Adjustment, Count, Move, Receipt, Scan, Shipment, ShipmentLine
from protocol.topics import Topics

ROOT = Path(__file__).resolve().parents[1]
TS = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)

SAMPLES = [
    Receipt(sku="MUG-1", qty=12, location="DOCK", lot="L42", expiry=date(2027, 5, 31),
            po="PO-7", unit_cost=Decimal("1.25")),
    Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG-1", qty=2, location="PACK", serials=["S1"])],
             weight_g=Decimal("712.5")),
    Move(sku="MUG-1", qty=3, from_="DOCK", to="A-03-2"),
    Count(location="A-03-2", sku="MUG-1", counted=0, task="CT-9"),
    Adjustment(sku="MUG-1", qty=-1, location="A-03-2", reason="damaged"),
    Scan(code="]C1010400638133393117270531", verdict="expired_lot", mode="pack", order="SO-1"),
]  # fmt: skip


def test_the_committed_asyncapi_document_is_up_to_date():
    committed = (ROOT / "docs" / "asyncapi.yaml").read_text()
    assert committed == asyncapi.render(), "run: python -m protocol asyncapi > docs/asyncapi.yaml"


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).TYPE)
def test_every_event_round_trips_and_matches_its_json_schema(event):
    wire = encode_event("pack-1", "e1", 7, event, TS)
    decoded = decode_event(wire)
    assert (decoded.type, decoded.seq, decoded.data) == (type(event).TYPE, 7, event)
    document = yaml.safe_load(asyncapi.render())
    schema = {**document["components"]["messages"][type(event).TYPE]["payload"],
              "components": document["components"]}  # fmt: skip
    jsonschema.validate(msgspec.json.decode(wire), schema)


@pytest.mark.parametrize(
    "payload, fragment",
    [
        (b"", "not JSON"),
        (b"[]", "envelope"),
        (
            b'{"v":1,"station":"A","epoch":"e","seq":1,"ts":"2026-01-01T00:00:00Z","type":"scan","data":{}}',
            "$.station",
        ),
        (
            b'{"v":1,"station":"a","epoch":"e","seq":0,"ts":"2026-01-01T00:00:00Z","type":"scan","data":{}}',
            "$.seq",
        ),
        (
            b'{"v":1,"station":"a","epoch":"e","seq":1,"ts":"2026-01-01T00:00:00","type":"scan","data":{}}',
            "timezone",
        ),
        (
            b'{"v":1,"station":"a","epoch":"e","seq":1,"ts":"2026-01-01T00:00:00Z","type":"scan","data":{"code":"x"}}',
            "verdict",
        ),
        (
            b'{"v":1,"station":"a","epoch":"e","seq":1,"ts":"2026-01-01T00:00:00Z","type":"scan","data":{"code":"x","verdict":"ok","mode":"pack","extra":1}}',
            "extra",
        ),
        (
            b'{"v":1,"station":"a","epoch":"e","seq":1,"ts":"2026-01-01T00:00:00Z","type":"move","data":{"sku":"a b","qty":1,"from":"x","to":"y"}}',
            "$.sku",
        ),
    ],
)
def test_invalid_events_are_refused_with_the_reason(payload, fragment):
    with pytest.raises(InvalidMessage) as caught:
        decode_event(payload)
    assert fragment in str(caught.value)


def test_topics_name_the_station_they_belong_to():
    topics = Topics("s1")
    assert topics.events("pack-1") == "wh/v1/s1/station/pack-1/events"
    assert topics.station_of("wh/v1/s1/station/pack-1/status") == "pack-1"
    assert topics.station_of("wh/v1/s1/orders/SO-1") is None
    assert topics.station_of("wh/v1/s2/station/pack-1/status") is None
