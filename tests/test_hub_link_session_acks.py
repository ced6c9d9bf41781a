"""A message taken in one broker session is not acked in the next (hub/link.py): the real
`HubLink` in the test process and a real Mosquitto, restarted with its state wiped (a new
session: the packet ids start again) and then restarted keeping its state.

Acked by its old packet id, a message of the first session released the second session's
message with that id before the hub had it committed: the broker then never delivered it
again."""

import shutil

import pytest

from hub import store
from hub.config import MqttSection
from hub.link import HubLink
from protocol.topics import Topics
from tests.conftest import PASSWORDS
from tests.harness import wait_until
from tests.mqtt_client import TestClient
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub
TOPICS = Topics("test")
EVENTS = TOPICS.events("pack-1")


def subscribed(caplog, times: int) -> bool:
    return sum(r.getMessage().startswith("hub subscribed") for r in caplog.records) >= times


def send(port: int, payload: bytes) -> None:
    station = TestClient(port, "pack-1", PASSWORDS["pack-1"])
    try:
        station.publish(EVENTS, payload)
    finally:
        station.close()


def test_a_message_of_an_earlier_broker_session_is_not_acked_in_the_next(tmp_path, broker,
                                                                          caplog):  # fmt: skip
    caplog.set_level("INFO", logger="hub.link")
    target = ledger_target(tmp_path / "ledger.db")
    conn = store.connect(target)
    store.create_schema(conn)
    conn.close()
    link = HubLink(MqttSection(port=broker.port, password=PASSWORDS["hub"],
                               reconnect_max_s=0.5), TOPICS, target)  # fmt: skip
    link.start()
    try:
        wait_until(lambda: subscribed(caplog, 1), 20, "the hub's subscriptions")
        send(broker.port, b"first")
        first = link.incoming.get(timeout=10)
        assert first.payload == b"first"

        broker.stop()  # a new broker machine: no session, no queued message
        shutil.rmtree(broker.layout.data, ignore_errors=True)
        broker.layout.data.mkdir()
        broker.start()
        wait_until(lambda: subscribed(caplog, 2), 20, "the hub subscribed again")
        send(broker.port, b"second")
        second = link.incoming.get(timeout=10)
        assert second.payload == b"second"
        assert second.mid == first.mid  # the new session's ids start again

        link.ack(first)  # applied late, after the reconnect: must not release `second`
        broker.stop()  # kept: the session, and `second` not yet acked in it
        broker.start()
        again = link.incoming.get(timeout=20)
        assert again.payload == b"second", "the broker took `second` as delivered"
    finally:
        link.stop()
