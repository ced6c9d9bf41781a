"""A hub that comes back to a backlog larger than its inbox (`[ingest] inbox_messages`)
applies all of it, each event once and in order, while its outbox falls behind. The link
stops reading the broker's stream at the inbox's bound, so the outbox's PUBACKs, which come
on the same stream, wait unread meanwhile: an ingest that waited for the outbox then would
wait for ever. The real hub process and broker; a station's account publishing its
backlog while the hub is away, as the broker queues it for the hub's session."""

import json
import subprocess
import sys

import pytest

from protocol.envelope import encode, encode_event
from protocol.events import Receipt
from protocol.messages import StationStatus
from protocol.topics import Topics
from tests.conftest import PASSWORDS
from tests.harness import ROOT, Hub, wait_until
from tests.mqtt_client import TestClient

pytestmark = pytest.mark.hub

TOPICS = Topics("test")
EVENTS = 2500  # each a movement message and its SKU's stock: more than the outbox's 1,000


def receipt(seq: int) -> bytes:
    return encode_event("pack-1", "e1", seq, Receipt(sku=f"SKU-{seq % 500}", qty=1,
                                                     location="A-01"))  # fmt: skip


def test_a_backlog_bigger_than_the_inbox_is_applied_whole_while_the_outbox_waits(tmp_path,
                                                                                 broker):  # fmt: skip
    hub = Hub(tmp_path / "hub", broker, PASSWORDS["hub"], ingest_config="inbox_messages = 50\n")
    station = None
    try:
        hub.start()
        hub.stop()  # its session stays at the broker, which queues what comes next for it
        station = TestClient(broker.port, "pack-1", PASSWORDS["pack-1"])
        station.publish(TOPICS.station_status("pack-1"),
                        encode(StationStatus(state="online", conn=1, epoch="e1")), retain=True)  # fmt: skip
        for seq in range(1, EVENTS + 1):
            station.publish(TOPICS.events("pack-1"), receipt(seq))
        hub.start()
        wait_until(lambda: hub.query("SELECT count(*) FROM events")[0][0] == EVENTS, 180,
                   f"the {EVENTS} events applied")  # fmt: skip
        seqs = [seq for (seq,) in hub.query("SELECT seq FROM events ORDER BY id")]
        assert seqs == list(range(1, EVENTS + 1)), "an event lost, doubled or out of order"
        wait_until(lambda: hub.query("SELECT count(*) FROM outbox")[0][0] == 0, 60,
                   "the outbox published")  # fmt: skip
        check = subprocess.run([sys.executable, "-m", "hub", "check", "--config",
                                str(hub.config_path)], cwd=ROOT, capture_output=True, text=True,
                               timeout=60)  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        assert json.loads(check.stdout)["ok"]
    finally:
        if station is not None:
            station.close()
        hub.stop()
