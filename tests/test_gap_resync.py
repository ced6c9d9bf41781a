"""An event that arrives after a gap is held, the station is asked to resend, and the
gap is filled in order: never skipped."""

import msgspec
import pytest

from protocol.envelope import encode_event
from protocol.events import Adjustment
from protocol.messages import Applied, Resync
from protocol.topics import Topics
from tests.conftest import PASSWORDS
from tests.harness import wait_until
from tests.mqtt_client import TestClient

pytestmark = pytest.mark.hub

TOPICS = Topics("test")


def _event(seq: int) -> bytes:
    data = Adjustment(sku="MUG-1", qty=seq, location="A-01", reason="found")
    return encode_event("dock-1", "epoch-a", seq, data)


def test_gap_is_held_resync_asked_and_filled_in_order(hub):
    station = TestClient(hub.broker.port, "dock-1", PASSWORDS["dock-1"])
    station.subscribe("wh/v1/test/station/dock-1/#")
    try:
        station.publish(TOPICS.events("dock-1"), _event(1))
        station.publish(TOPICS.events("dock-1"), _event(3))
        station.publish(TOPICS.events("dock-1"), _event(4))
        resync = station.next(TOPICS.command("dock-1", "resync"), timeout=15)
        assert msgspec.json.decode(resync.payload, type=Resync).from_ == 2
        # Held, not applied: the balance has only event 1.
        assert hub.query("SELECT seq FROM events ORDER BY seq") == [(1,)]
        assert hub.query("SELECT seq FROM pending ORDER BY seq") == [(3,), (4,)]
        station.publish(TOPICS.events("dock-1"), _event(2))
        wait_until(lambda: hub.query("SELECT count(*) FROM events") == [(4,)], what="gap filled")
        assert hub.query("SELECT seq FROM events ORDER BY id") == [(1,), (2,), (3,), (4,)]
        assert hub.query("SELECT qty FROM balances") == [(1 + 2 + 3 + 4,)]
        assert hub.query("SELECT count(*) FROM pending") == [(0,)]

        def applied() -> int:
            message = station.next(TOPICS.applied("dock-1"))
            return msgspec.json.decode(message.payload, type=Applied).seq == 4

        wait_until(applied, what="applied 4")
    finally:
        station.close()
