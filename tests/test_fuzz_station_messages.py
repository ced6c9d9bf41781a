"""Random messages from the hub's side (cache topics, acks, resync and other commands)
reach the station's uplink callback and core: logged and ignored, never a crash, and an
invalid one never replaces what the cache holds."""

import msgspec
import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.envelope import encode
from protocol.messages import Order, OrderLine
from protocol.topics import Topics
from station.cache import Cache
from station.config import MqttSection
from station.core import Core
from station.inputs import HubMessage
from station.ledger.journal import Journal
from station.ledger.uplink import Uplink
from station.snapshot import SnapshotBoard
from station.workflows.bench import BenchSettings
from tests.faults.strategies import json_values

TOPICS = Topics("s1")
STATION = "pack-1"

topics = st.one_of(
    st.sampled_from([
        TOPICS.applied(STATION), TOPICS.command(STATION, "resync"),
        TOPICS.command(STATION, "mode"), TOPICS.command(STATION, "identify"),
        TOPICS.command(STATION, "reprint"), TOPICS.order("SO-1"), TOPICS.product("MUG-1"),
        TOPICS.purchase_order("PO-1"), TOPICS.count_task(STATION, "T-1"), TOPICS.hub_status,
    ]),
    st.builds(lambda rest: f"{TOPICS.base}/{rest}", st.text(max_size=30)),
)  # fmt: skip
payloads = st.one_of(
    st.binary(max_size=300),
    json_values.map(msgspec.json.encode),
    st.builds(lambda seq: msgspec.json.encode({"epoch": "e1", "seq": seq}), st.integers()),
    st.builds(lambda seq: msgspec.json.encode({"from": seq}), st.integers()),
    st.just(b'{"\x80v":1}'),
)
ORDER = Order(order="SO-1", lines=[OrderLine(sku="MUG-1", qty=1)])
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@pytest.fixture
def station(tmp_path):
    journal = Journal(tmp_path / "journal.db", STATION)
    cache = Cache(tmp_path / "cache.db", TOPICS, STATION)
    core = Core(BenchSettings(station=STATION), journal, cache, TOPICS, SnapshotBoard())
    core.handle(HubMessage(TOPICS.order("SO-1"), encode(ORDER), True))
    uplink = Uplink(MqttSection(), TOPICS, STATION, journal.reader(), core.emit, dict)
    yield core, uplink
    journal.close()


@SETTINGS
@given(topic=topics, payload=payloads)
def test_random_hub_messages_never_crash_the_core(station, topic, payload):
    core, _uplink = station
    core.handle(HubMessage(topic, payload, True))
    if topic == TOPICS.order("SO-1") and payload:
        assert core.cache.order("SO-1") is not None  # an invalid order never replaces it
    core.handle(HubMessage(TOPICS.order("SO-1"), encode(ORDER), True))


@SETTINGS
@given(topic=topics, payload=payloads)
def test_random_hub_messages_never_crash_the_uplink_callback(station, topic, payload):
    _core, uplink = station
    message = mqtt.MQTTMessage(topic=topic.encode())
    message.payload = payload
    uplink._on_message(uplink.client, None, message)  # paho's thread would die on a raise
