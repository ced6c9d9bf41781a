"""A station whose card is full or read-only keeps its uplink alive and says which scan
was not recorded."""

import threading

import msgspec

from protocol.envelope import encode
from protocol.events import Scan
from protocol.messages import Applied, GtinUnits, Order, OrderLine, Product
from protocol.topics import Topics
from station.cache import Cache
from station.config import MqttSection
from station.core import Core
from station.inputs import HubMessage, Scanned
from station.ledger.journal import Journal
from station.ledger.uplink import Uplink
from station.snapshot import SnapshotBoard
from station.workflows.bench import BenchSettings
from tests.conftest import PASSWORDS
from tests.harness import wait_until
from tests.mqtt_client import TestClient

TOPICS = Topics("test")


def scans(n: int) -> list[Scan]:
    return [Scan(code=f"C{i}", verdict="ok", mode="pack") for i in range(n)]


def test_uplink_keeps_sending_when_the_ack_cannot_be_stored(tmp_path, broker):
    journal = Journal(tmp_path / "journal.db", "pack-1")
    journal.append(scans(3))
    reader = journal.reader()
    reader.db.execute("PRAGMA query_only = ON")  # the uplink's writes now fail, as on a full card
    hub = TestClient(broker.port, "hub", PASSWORDS["hub"])
    hub.subscribe(TOPICS.events("pack-1"))
    config = MqttSection(port=broker.port, username="pack-1", password=PASSWORDS["pack-1"])
    uplink = Uplink(config, TOPICS, "pack-1", reader, lambda _item: None, dict)
    uplink.start()
    try:
        seqs = [msgspec.json.decode(hub.next().payload)["seq"] for _ in range(3)]
        assert seqs == [1, 2, 3]
        hub.publish(TOPICS.applied("pack-1"), encode(Applied(epoch=journal.epoch, seq=3)), True)
        wait_until(lambda: uplink.applied == 3, 10, "ack taken in memory")
        journal.append(scans(1))
        uplink.notify()
        assert msgspec.json.decode(hub.next().payload)["seq"] == 4  # still sending
        assert any(t.name == "uplink" and t.is_alive() for t in threading.enumerate())
    finally:
        uplink.stop()
        hub.close()


def test_a_scan_not_recorded_names_its_code_in_the_status(tmp_path):
    journal = Journal(tmp_path / "journal.db", "pack-1")
    cache = Cache(tmp_path / "cache.db", TOPICS, "pack-1")
    core = Core(BenchSettings(station="pack-1"), journal, cache, TOPICS, SnapshotBoard())
    product = Product(sku="MUG-1", name="Mug", gtins=[GtinUnits(gtin="4006381333931")])
    core.handle(HubMessage(TOPICS.product("MUG-1"), encode(product), True))
    core.handle(
        HubMessage(
            TOPICS.order("SO-1"), encode(Order(order="SO-1", lines=[OrderLine(sku="MUG-1", qty=1)]))
        )
    )
    core.handle(Scanned("SO-1"))
    journal.db.execute("PRAGMA query_only = ON")
    core.handle(Scanned("4006381333931"))
    assert core.status_fields["last_verdict"] == "not_recorded"
    assert core.status_fields["last_scan"] == "4006381333931"
