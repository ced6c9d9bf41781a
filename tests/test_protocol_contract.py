"""The protocol: strict decoding, and a generated AsyncAPI document that matches the code."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import jsonschema
import msgspec
import pytest
import yaml

from hub import brokerconf
from protocol import asyncapi
from protocol import topics as topic_tree
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


@pytest.mark.parametrize("role", list(asyncapi.DOCUMENTS))
def test_the_committed_asyncapi_documents_are_up_to_date(role):
    committed = (ROOT / asyncapi.DOCUMENTS[role]).read_text()
    assert committed == asyncapi.render(role), "run: python -m protocol asyncapi --write"


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


def _matches(filter_: str, template: str) -> bool:
    """Whether an ACL topic filter and a channel address (with {params}) can share a topic."""
    levels, parts = filter_.split("/"), template.split("/")
    for i, level in enumerate(levels):
        if level == "#":
            return True
        if i >= len(parts):
            return False
        if level != "+" and not parts[i].startswith("{") and level != parts[i]:
            return False
    return len(levels) == len(parts)


def _topic_methods(topics: Topics) -> dict[str, str]:
    """Every topic a Topics names, from each of its methods and properties, with ids filled."""
    made = {}
    for name, member in vars(Topics).items():
        if name.startswith("_") or name in ("base", "address", "station_of", "leaf"):
            continue
        if isinstance(member, property):
            value = getattr(topics, name)
        else:
            args = [f"x-{n}" for n in member.__code__.co_varnames[1 : member.__code__.co_argcount]]
            value = getattr(topics, name)(*args)
        for topic in [value] if isinstance(value, str) else value:
            made[f"{name}: {topic}"] = topic
    return made


def test_every_topic_the_code_names_is_a_documented_channel():
    topics = Topics("s1")
    document = yaml.safe_load(asyncapi.render("hub"))
    addresses = [c["address"].replace("{site}", "s1") for c in document["channels"].values()]
    missing = [
        label
        for label, topic in _topic_methods(topics).items()
        if not any(_matches(topic, address) for address in addresses)
    ]
    assert len(_topic_methods(topics)) >= len(topic_tree.CHANNELS)
    assert missing == []


def test_every_broker_acl_line_has_a_channel():
    roles = {"hub": "hub", "pack-1": "station", "erp_main": "integration", "dash_1": "reader"}
    acl = brokerconf.render_acl(roles, "s1").splitlines()
    addresses = [asyncapi.address(c).replace("{site}", "s1") for c in topic_tree.CHANNELS]
    filters = [line.split()[-1] for line in acl if line.startswith("topic ")]
    assert len(filters) > 10
    assert [f for f in filters if not any(_matches(f, a) for a in addresses)] == []
    assert not [line for line in acl if line.startswith("pattern")]


@pytest.mark.parametrize("role", topic_tree.ROLES)
def test_each_role_document_has_exactly_the_channels_the_role_may_use(role):
    document = yaml.safe_load(asyncapi.render(role))
    used = {c.name for c in topic_tree.CHANNELS
            if topic_tree.may_publish(role, c) or topic_tree.may_read(role, c)}  # fmt: skip
    if role == "hub":  # the hub may write anything of its site; it documents what it does
        used = {c.name for c in topic_tree.CHANNELS}
    assert set(document["channels"]) == used
    for operation in document["operations"].values():
        channel = next(c for c in topic_tree.CHANNELS
                       if f"#/channels/{c.name}" == operation["channel"]["$ref"])  # fmt: skip
        right = topic_tree.may_publish if operation["action"] == "send" else topic_tree.may_read
        assert right(role, channel), (role, operation)


def test_empty_retained_payloads_are_described_on_the_channels_that_send_them():
    document = yaml.safe_load(asyncapi.render())
    cleared = {name for name, c in document["channels"].items() if "Cleared" in c["messages"]}
    assert cleared == {"countTasks", "orders", "purchaseOrders", "catalog", "dropship", "returnable",
                       "transferOrders", "transferReports"}  # fmt: skip
    schema = document["components"]["messages"]["Cleared"]["payload"]
    jsonschema.validate("", schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("{}", schema)


def test_alert_kinds_are_an_enum_listed_in_the_docs():
    document = yaml.safe_load(asyncapi.render("integration"))
    kinds = document["components"]["schemas"]["Alert"]["properties"]["kind"]["enum"]
    protocol_md = (ROOT / "docs" / "protocol.md").read_text()
    inventory_md = (ROOT / "docs" / "inventory.md").read_text()
    assert len(kinds) >= 10
    assert [k for k in kinds if f"`{k}`" not in protocol_md or f"`{k}`" not in inventory_md] == []
    assert set(document["components"]["schemas"]["Alert"]["required"]) >= {"id", "kind", "ts"}
