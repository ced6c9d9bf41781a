"""A station status with invalid UTF-8 in a key is dead-lettered by the ingest with the
reason in the hub's own words (not the JSON library's, which changes between releases);
the hub stays up and goes on applying what follows."""

import pytest

from hub import store
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode_event
from protocol.events import Adjustment
from protocol.topics import Topics
from tests.conftest import PASSWORDS
from tests.harness import wait_until
from tests.mqtt_client import TestClient
from tests.postgres import ledger_target

POISON = b'{"\x80state":"online"}'
TOPICS = Topics("test")

pytestmark = [pytest.mark.slow, pytest.mark.hub]


def test_a_poison_message_is_dead_lettered_and_the_hub_goes_on(hub):
    station = TestClient(hub.broker.port, "dock-1", PASSWORDS["dock-1"])
    try:
        station.publish(TOPICS.station_status("dock-1"), POISON)
        event = Adjustment(sku="MUG-1", qty=1, location="A-01", reason="found")
        station.publish(TOPICS.events("dock-1"), encode_event("dock-1", "e1", 1, event))
        wait_until(lambda: hub.query("SELECT count(*) FROM events") == [(1,)], 20, "applied")
        # Status and events are separate topics: their order at the hub is not promised.
        dead = wait_until(lambda: hub.query("SELECT topic, reason FROM dead_letters"), 20,
                          "dead letter")  # fmt: skip
        [(topic, reason)] = dead
        assert topic == TOPICS.station_status("dock-1")
        assert reason == "status: not valid UTF-8 (byte 2)"
        assert hub.proc.running
    finally:
        station.close()


@pytest.mark.parametrize("topic", [TOPICS.station_status("dock-1"), TOPICS.order_intake])
def test_ingest_dead_letters_invalid_utf8_itself(tmp_path, topic):
    conn = store.connect(ledger_target(tmp_path / "ledger.db"))
    store.create_schema(conn)
    result = Ingest(conn, TOPICS).process([Incoming(topic, POISON)])
    assert result.dead == 1
    [(reason,)] = conn.execute("SELECT reason FROM dead_letters").fetchall()
    assert reason.endswith(": not valid UTF-8 (byte 2)")


def test_an_event_nested_too_deeply_is_dead_lettered_and_the_batch_applied(tmp_path):
    # msgspec raised RecursionError for it: the batch failed, then the last-resort
    # handler too (it decodes the event again), and no message of the batch was applied.
    conn = store.connect(tmp_path / "ledger.db")
    store.create_schema(conn)
    deep = (b'{"v":1,"station":"dock-1","epoch":"e1","seq":1,"ts":"2026-01-02T03:04:05Z",'
            b'"type":"scan","data":' + b"[" * 5000 + b"]" * 5000 + b"}")  # fmt: skip
    event = Adjustment(sku="MUG-1", qty=1, location="A-01", reason="found")
    batch = [Incoming(TOPICS.events("dock-1"), deep),
             Incoming(TOPICS.events("dock-1"), encode_event("dock-1", "e1", 1, event))]  # fmt: skip
    result = Ingest(conn, TOPICS).process(batch)
    assert (result.dead, result.applied) == (1, 1)
    [(reason,)] = conn.execute("SELECT reason FROM dead_letters").fetchall()
    assert reason == "envelope: JSON nested too deeply to decode"
