"""The uplink sends at most `max_ahead` events beyond the hub's ack: after an outage the
backlog waits in the station's journal, not in the broker's memory (which queues for the
hub all that stations send, and keeps its high-water mark), and goes out as the hub's
ack moves. The real broker; a client with the hub's credentials stands in for the hub."""

import msgspec

from protocol.envelope import encode
from protocol.events import Scan
from protocol.messages import Applied
from protocol.topics import Topics
from station.config import MqttSection
from station.ledger.journal import Journal
from station.ledger.uplink import Uplink
from tests.conftest import PASSWORDS
from tests.mqtt_client import TestClient

TOPICS = Topics("test")
AHEAD = 20


class Hub:
    """Records the seqs it receives, in order, and acks when told to."""

    def __init__(self, port: int) -> None:
        self.client = TestClient(port, "hub", PASSWORDS["hub"])
        self.client.subscribe(TOPICS.events("pack-1"))
        self.seqs: list[int] = []

    def until_resent(self, seq: int) -> list[int]:
        """The seqs received until `seq` comes a second time: the uplink's stall rule
        re-sent its window, so it had all that time to send more and did not."""
        while True:
            self.seqs.append(msgspec.json.decode(self.client.next().payload)["seq"])
            if self.seqs.count(seq) == 2:
                return self.seqs

    def ack(self, epoch: str, seq: int) -> None:
        self.client.publish(TOPICS.applied("pack-1"), encode(Applied(epoch=epoch, seq=seq)), True)


def test_the_uplink_sends_no_further_than_max_ahead_beyond_the_hub_s_ack(tmp_path, broker):
    journal = Journal(tmp_path / "journal.db", "pack-1")
    journal.append([Scan(code=f"C{i}", verdict="ok", mode="pack") for i in range(100)])
    hub = Hub(broker.port)
    config = MqttSection(port=broker.port, username="pack-1", password=PASSWORDS["pack-1"],
                         max_ahead=AHEAD, resend_after_s=0.2)  # fmt: skip
    uplink = Uplink(config, TOPICS, "pack-1", journal.reader(), lambda _item: None, dict)
    uplink.start()
    try:
        assert max(hub.until_resent(1)) == AHEAD  # nothing acked: the first 20 only
        hub.ack(journal.epoch, 30)  # the hub has 30: up to 50 may go
        hub.seqs.clear()
        assert max(hub.until_resent(31)) == 30 + AHEAD
        hub.ack(journal.epoch, 100)
    finally:
        uplink.stop()
        hub.client.close()
        journal.close()
