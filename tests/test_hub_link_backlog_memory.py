"""What the hub holds of a station's backlog: after an outage the broker sends a hub its
whole queued backlog at once (docs/performance.md, "What bounds each figure", 6: Mosquitto
2.0.11 does not keep to the hub's receive window once PUBACKs flow). So the link stops
reading while its inbox is full and reads on once the ingest has made room; and each
message waiting is kept small: the messages of one topic share one topic string (paho
decodes a new one for each), and a message is a slotted object without a dict of its own.

The real `HubLink` in the test process, a real Mosquitto, a station's account publishing."""

from contextlib import contextmanager

import pytest

from hub import store
from hub.config import MqttSection
from hub.inbox import Inbox
from hub.link import HubLink
from kit.waiting import wait_steady
from protocol.topics import Topics
from tests.conftest import PASSWORDS
from tests.harness import wait_until
from tests.mqtt_client import TestClient
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub

MESSAGES = 50
TOPICS = Topics("test")
EVENTS = TOPICS.events("pack-1")


@contextmanager
def running_link(tmp_path, broker, inbox: Inbox | None = None, keepalive: int = 30):
    """(the hub's link, connected, on a new ledger of the run's backend; a station)."""
    target = ledger_target(tmp_path / "ledger.db")
    conn = store.connect(target)
    store.create_schema(conn)
    conn.close()
    mqtt = MqttSection(port=broker.port, password=PASSWORDS["hub"], keepalive=keepalive)
    link = HubLink(mqtt, TOPICS, target, inbox=inbox)
    station = TestClient(broker.port, "pack-1", PASSWORDS["pack-1"])
    try:
        link.start()
        wait_until(lambda: link.connected, 20, "the hub's link connected")
        yield link, station
    finally:
        station.close()
        link.stop(say_offline=False)


def test_a_backlog_waiting_for_the_ingest_shares_its_topics(tmp_path, broker):
    with running_link(tmp_path, broker) as (link, station):
        for seq in range(1, MESSAGES + 1):  # not events the hub could apply: nothing takes them
            station.publish(EVENTS, b'{"seq": %d}' % seq)
        waiting = []
        while len(waiting) < MESSAGES:
            message = link.incoming.get(timeout=10)
            if message.topic == EVENTS:
                waiting.append(message)
    assert len({id(message.topic) for message in waiting}) == 1, \
        "each waiting message kept a topic string of its own"  # fmt: skip
    assert not hasattr(waiting[0], "__dict__"), "each waiting message kept a dict"


def test_the_link_stops_reading_at_its_inbox_bound_and_reads_on_when_there_is_room(tmp_path,
                                                                                   broker):  # fmt: skip
    with running_link(tmp_path, broker, Inbox(max_messages=20)) as (link, station):
        for seq in range(1, 101):
            station.publish(EVENTS, b'{"seq": %d}' % seq)
        wait_until(lambda: link.holding, 20, "the link holding its reading")
        wait_steady(lambda: len(link.incoming), lambda n: n == 20, 1.0, 20, "20 waiting, no more")
        taken = [link.incoming.get_nowait() for _ in range(6)]  # 14 of 20: below 3/4
        wait_until(lambda: len(link.incoming) == 20 and link.holding, 20, "reading on, full again")
        while len(taken) < 100:  # the ingest's part: take, and ack what it applied
            message = link.incoming.get(timeout=10)
            link.ack(message)
            taken.append(message)
    seqs = [int(m.payload.split(b": ")[1].rstrip(b"}")) for m in taken if m.topic == EVENTS]
    assert seqs == list(range(1, 101)), "a message lost, doubled or out of order"


def test_a_link_held_longer_than_its_keepalive_says_it_is_not_connected(tmp_path, broker):
    """Held, paho's thread sends no PINGREQ, and the broker drops the hub after one and a
    half keepalives; paho notices only when the hold ends. Meanwhile `connected` must not
    say yes: an ingest worker's /healthz `broker` and its leases follow it."""
    with running_link(tmp_path, broker, Inbox(max_messages=10), keepalive=5) as (link, station):
        for seq in range(1, 31):
            station.publish(EVENTS, b'{"seq": %d}' % seq)
        wait_until(lambda: link.holding, 20, "the link holding its reading")
        wait_until(lambda: not link.connected, 20, "the held link no longer connected")
        assert link.holding

        def ingest_back() -> bool:
            """The ingest's part: take and ack whatever waits. The link reads on, and
            connects again if the broker dropped it meanwhile (its backoff: no waiting for
            a message within a bound here)."""
            while len(link.incoming):
                link.ack(link.incoming.get_nowait())
            return link.connected and not link.holding

        wait_until(ingest_back, 60, "the link reading and connected again")
