"""An ingest worker whose lease ran out while it was stopped (SIGSTOP: a starved or
stalled process), and that takes its station back because nobody else did, asks the
station to resend, as a worker that takes a station over does: what reached it meanwhile
was left unapplied by the fence. The real worker process, broker and ledger file."""

import os
import signal
import time

import pytest

from protocol.envelope import encode, encode_event
from protocol.events import Adjustment
from protocol.messages import StationStatus
from protocol.topics import Topics
from tests.conftest import PASSWORDS
from tests.harness import Hub, wait_until
from tests.mqtt_client import TestClient

pytestmark = [pytest.mark.hub, pytest.mark.slow]

TOPICS = Topics("test")
LEASE_S = 2.0


def test_a_worker_that_takes_back_its_expired_lease_asks_the_station_to_resend(tmp_path,
                                                                              broker):  # fmt: skip
    worker = Hub(tmp_path / "worker", broker, PASSWORDS["hub"], role="ingest",
                 ingest_config=f"lease_s = {LEASE_S}\n").start()  # fmt: skip
    station = TestClient(broker.port, "pack-1", PASSWORDS["pack-1"])
    observer = TestClient(broker.port, "observer_test", PASSWORDS["observer_test"])
    resync = TOPICS.command("pack-1", "resync")
    try:
        observer.subscribe(resync)
        status = StationStatus(state="online", conn=1, epoch="e1")
        station.publish(TOPICS.station_status("pack-1"), encode(status), retain=True)
        wait_until(lambda: "subscribed to the events of pack-1" in worker.proc.log_since_start(),
                   30, "the worker subscribed to the station's events")  # fmt: skip
        adjustment = Adjustment(sku="MUG-1", qty=1, location="A-01", reason="found")
        station.publish(TOPICS.events("pack-1"), encode_event("pack-1", "e1", 1, adjustment))
        wait_until(lambda: worker.query("SELECT count(*) FROM events") == [(1,)], 20,
                   "the event applied")  # fmt: skip

        os.kill(worker.proc.process.pid, signal.SIGSTOP)
        time.sleep(LEASE_S * 2)  # the lease runs out meanwhile; no other worker takes it
        os.kill(worker.proc.process.pid, signal.SIGCONT)

        # Asked from after the applied event (one asked from 1 when the worker first
        # subscribed may still be in the queue).
        wait_until(lambda: observer.next(resync, timeout=30).payload
                   == b'{"from":2,"epoch":"e1"}', 30, "a resync from seq 2")  # fmt: skip
        log = worker.proc.log_since_start()
        assert "worker takes back pack-1" in log
        # One connection: its own subscription said once, the station's apart.
        assert log.count("hub subscribed") == 1, log
    finally:
        station.close()
        observer.close()
        worker.stop()
