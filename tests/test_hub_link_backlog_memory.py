"""What the hub holds of a station's backlog: after an outage the broker sends a hub its
whole queued backlog at once (docs/performance.md, "What bounds each figure", 6: Mosquitto
2.0.11 does not keep to the hub's receive window once PUBACKs flow), so every message
waits in `HubLink.incoming` until the ingest takes it. Each is kept small: the messages of
one topic share one topic string (paho decodes a new one for each), and a message is a
slotted object without a dict of its own.

The real `HubLink` in the test process, a real Mosquitto, a station's account publishing."""

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

MESSAGES = 50


def test_a_backlog_waiting_for_the_ingest_shares_its_topics(tmp_path, broker):
    target = ledger_target(tmp_path / "ledger.db")
    conn = store.connect(target)
    store.create_schema(conn)
    conn.close()
    topics = Topics("test")
    link = HubLink(MqttSection(port=broker.port, password=PASSWORDS["hub"]), topics, target)
    station = TestClient(broker.port, "pack-1", PASSWORDS["pack-1"])
    try:
        link.start()
        wait_until(lambda: link.connected, 20, "the hub's link connected")
        for seq in range(1, MESSAGES + 1):  # not events the hub could apply: nothing takes them
            station.publish(topics.events("pack-1"), b'{"seq": %d}' % seq)
        waiting = []
        while len(waiting) < MESSAGES:
            message = link.incoming.get(timeout=10)
            if message.topic == topics.events("pack-1"):
                waiting.append(message)
        assert len({id(message.topic) for message in waiting}) == 1, \
            "each waiting message kept a topic string of its own"  # fmt: skip
        assert not hasattr(waiting[0], "__dict__"), "each waiting message kept a dict"
    finally:
        station.close()
        link.stop(say_offline=False)
