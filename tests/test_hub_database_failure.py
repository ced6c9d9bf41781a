"""The hub's ledger fails under a batch (its disk full): the hub goes on running, applies
nothing meanwhile, and once the disk has room applies every message it had taken, without
a restart or a reconnect to the broker (it used to stop, its taken messages unacknowledged
until a new connection brought them back). The real hub, broker and a small tmpfs."""

import pytest

from protocol.envelope import encode, encode_event
from protocol.events import Adjustment
from protocol.messages import StationStatus
from protocol.topics import Topics
from tests.conftest import PASSWORDS
from tests.faults.disk import SmallDisk
from tests.harness import Hub, wait_until
from tests.mqtt_client import TestClient

pytestmark = [
    pytest.mark.hub,
    pytest.mark.sqlite_only,
    pytest.mark.skipif(not SmallDisk.available(), reason="needs root to mount a small tmpfs"),
]

TOPICS = Topics("test")


def event(seq: int) -> bytes:
    adjustment = Adjustment(sku="MUG-1", qty=1, location="A-01", reason="found")
    return encode_event("pack-1", "e1", seq, adjustment)


def test_a_full_disk_under_a_batch_holds_it_until_there_is_room(tmp_path, broker):
    disk = SmallDisk(tmp_path / "ledger", size="8m").mount()
    hub = Hub(tmp_path / "hub", broker, PASSWORDS["hub"], data_dir=disk.path)
    station = None
    try:
        hub.start()
        station = TestClient(broker.port, "pack-1", PASSWORDS["pack-1"])
        station.publish(TOPICS.station_status("pack-1"),
                        encode(StationStatus(state="online", conn=1, epoch="e1")), retain=True)  # fmt: skip
        station.publish(TOPICS.events("pack-1"), event(1))
        wait_until(lambda: hub.query("SELECT count(*) FROM events") == [(1,)], 20, "seq 1")

        disk.fill()
        for seq in range(2, 40):
            station.publish(TOPICS.events("pack-1"), event(seq))
        wait_until(lambda: "ingest: the database failed" in hub.proc.log_since_start()
                   or not hub.proc.running, 30, "a batch the full disk refused")  # fmt: skip
        assert hub.proc.running, hub.proc.log_since_start()[-3000:]
        disk.free()

        wait_until(lambda: hub.query("SELECT count(*), max(seq) FROM events") == [(39, 39)], 30,
                   "every event applied once there is room")  # fmt: skip
        log = hub.proc.log_since_start()
        assert log.count("hub connected") == 1, log  # no reconnect brought anything back
        assert hub.query("SELECT count(*) FROM dead_letters") == [(0,)]
    finally:
        if station is not None:
            station.close()
        hub.stop()
        disk.unmount()
