"""The broker refuses what is bigger than the protocol allows (`MAX_PAYLOAD_BYTES`, plus
a header allowance), so no client can make it, or the hub behind it, hold a huge message:
such a packet closes its sender's connection and is never forwarded. The real Mosquitto
with the generated config; one station publishing, an observer subscribed to its topic."""

import queue
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub import brokerconf, store
from protocol.envelope import MAX_PAYLOAD_BYTES
from protocol.topics import Topics
from tests.conftest import PASSWORDS
from tests.mqtt_client import TestClient

TOPIC = Topics("test").events("pack-1")


class Publisher:
    """A station's paho client that records its PUBACKs and its disconnection."""

    def __init__(self, port: int) -> None:
        self.acks: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.disconnected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pack-1",
                                  protocol=mqtt.MQTTv5)  # fmt: skip
        self.client.username_pw_set("pack-1", PASSWORDS["pack-1"])
        self.client.on_publish = lambda c, u, mid, rc, p: self.acks.put(mid)
        self.client.on_disconnect = lambda *args: self.disconnected.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def observer(broker):
    client = TestClient(broker.port, "observer_test", PASSWORDS["observer_test"])
    client.subscribe(TOPIC)
    yield client
    client.close()


def publish_marker(port: int) -> None:
    marker = TestClient(port, "pack-1", PASSWORDS["pack-1"])
    try:
        marker.publish(TOPIC, b"after")
    finally:
        marker.close()


def received(observer: TestClient) -> list[int]:
    """Sizes of the payloads that arrived before the marker."""
    sizes = []
    while (payload := observer.next(TOPIC).payload) != b"after":
        sizes.append(len(payload))
    return sizes


def test_the_config_limit_is_the_protocol_s():
    assert brokerconf.MAX_PAYLOAD_BYTES == MAX_PAYLOAD_BYTES
    config = brokerconf.render_config(brokerconf.BrokerLayout(dir=Path("/x")))
    assert f"max_packet_size {MAX_PAYLOAD_BYTES + brokerconf.PACKET_HEADROOM_BYTES}\n" in config


def test_a_payload_at_the_limit_passes(broker, observer):
    publisher = Publisher(broker.port)
    try:
        info = publisher.client.publish(TOPIC, b"a" * MAX_PAYLOAD_BYTES, qos=1)
        assert publisher.acks.get(timeout=10) == info.mid
        assert not publisher.disconnected.is_set()
    finally:
        publisher.close()
    publish_marker(broker.port)
    assert received(observer) == [MAX_PAYLOAD_BYTES]


@pytest.mark.parametrize("size", [MAX_PAYLOAD_BYTES + brokerconf.PACKET_HEADROOM_BYTES,
                                  16 * MAX_PAYLOAD_BYTES])  # fmt: skip
def test_a_packet_over_the_limit_closes_the_connection_and_goes_nowhere(broker, observer, size):
    publisher = Publisher(broker.port)
    try:
        publisher.client.publish(TOPIC, b"b" * size, qos=1)
        assert publisher.disconnected.wait(10), "the broker kept the connection"
    finally:
        publisher.close()
    publish_marker(broker.port)
    assert received(observer) == []


def test_the_hub_keeps_a_message_too_big_to_publish_as_a_dead_letter(tmp_path):
    # Queued, the broker would close the hub's connection on it after every reconnect.
    conn = store.connect(tmp_path / "ledger.db")
    store.create_schema(conn)
    topic = Topics("test").order("SO-1")
    with store.transaction(conn):
        store.outbox_put(conn, topic, b"{}", retain=True)
        store.outbox_put(conn, topic, b"x" * (MAX_PAYLOAD_BYTES + 1), retain=True)
    assert [(t, p) for _id, t, p, _r in store.outbox_read(conn, 0, 10)] == [(topic, b"{}")]
    [(dead_topic, reason)] = conn.execute("SELECT topic, reason FROM dead_letters").fetchall()
    assert dead_topic == topic and "not published" in reason
