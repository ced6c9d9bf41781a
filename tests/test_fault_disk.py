"""The station's disk full: the packer gets the error pattern and "Not recorded", never a
green verdict for a scan that is not in the journal, and once space is back the station
records again and nothing is lost."""

import contextlib
import threading
from datetime import UTC, datetime

import msgspec
import pytest

from protocol.messages import StationStatus
from protocol.topics import Topics
from tests.faults.disk import SmallDisk
from tests.faults.rig import Packer, Rig, password
from tests.harness import wait_until
from tests.mqtt_client import TestClient

pytestmark = [
    pytest.mark.sqlite_only,
    pytest.mark.slow,
    pytest.mark.skipif(not SmallDisk.available(), reason="needs root to mount a small tmpfs"),
]


class Verdicts:
    """The packer's view from outside: every retained status the station publishes."""

    def __init__(self, port: int) -> None:
        self.client = TestClient(port, "observer_test", password("obs"))
        self.client.subscribe(Topics("test").station_status("pack-1"))
        self.seen: list[tuple[str | None, str | None]] = []
        self.online: list[datetime] = []  # when each online status was sent
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._stop.is_set():
            try:
                message = self.client.messages.get(timeout=0.2)
            except Exception:  # noqa: BLE001 - queue.Empty
                continue
            if message.payload:
                status = msgspec.json.decode(message.payload, type=StationStatus)
                self.seen.append((status.last_scan, status.last_verdict))
                if status.state == "online" and status.ts:
                    self.online.append(status.ts)

    def of(self, code: str) -> str | None:
        verdicts = [verdict for scan, verdict in self.seen if scan == code]
        return verdicts[-1] if verdicts else None

    def restart(self, station) -> None:
        """Restart the station and wait until it is back (its scanner is read from then)."""
        station.stop()
        started = datetime.now(UTC)
        station.start()
        wait_until(lambda: any(ts >= started for ts in self.online), 20, "station back online")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.client.close()


@contextlib.contextmanager
def packing_on_a_small_disk(tmp_path, count: int):
    """A rig whose pack-1 journals on a small tmpfs, with `count` orders published and the
    first five packed and applied: (rig, station, disk, verdicts, orders)."""
    with Rig(tmp_path) as rig:
        station = rig.stations["pack-1"]
        station.stop()
        disk = SmallDisk(station.dir / "data").mount()
        verdicts = Verdicts(rig.broker.port)
        try:
            station.start()
            rig.publish_orders(count)
            orders = rig.orders_for("pack-1", count)
            Packer(station, orders[:5], rig.random).start().join()
            rig.wait_all_applied()
            yield rig, station, disk, verdicts, orders
        finally:
            verdicts.close()
            station.stop()
            disk.unmount()


def test_disk_full_gives_not_recorded_and_loses_nothing_once_freed(tmp_path):
    with packing_on_a_small_disk(tmp_path, 30) as (rig, station, disk, verdicts, orders):
        disk.fill()
        full = orders[5:25]
        for code in full:  # order scans: green when journaled
            station.scanner.scan(code)
            wait_until(lambda c=code: verdicts.of(c), 20, f"verdict for {code}")
        journaled = {e["data"].get("code") for e in map(msgspec.json.decode, _payloads(station))}
        judged = {code: verdicts.of(code) for code in full}
        assert "not_recorded" in judged.values(), judged
        for code, verdict in judged.items():
            assert verdict in ("ok", "not_recorded"), judged
            assert (verdict == "ok") == (code in journaled), (code, verdict)
        disk.free()
        Packer(station, orders[25:], rig.random).start().join()
        wait_until(lambda: verdicts.of(orders[-1]) == "ok", 20, "recording again")
        rig.wait_all_applied()
        rig.assert_exactly_once()


def test_read_only_card_gives_not_recorded_and_loses_nothing_once_writable(tmp_path):
    with packing_on_a_small_disk(tmp_path, 20) as (rig, station, disk, verdicts, orders):
        # The kernel remounted the card read-only after an error; the station restarts.
        station.stop()
        head = len(station.journal())  # once stopped: a running station may still append
        disk.remount("ro")
        verdicts.restart(station)
        for code in orders[5:10]:
            station.scanner.scan(code)
            wait_until(lambda c=code: verdicts.of(c), 20, f"verdict for {code}")
            assert verdicts.of(code) == "not_recorded"
        station.stop()
        disk.remount("rw")
        assert len(station.journal()) == head
        verdicts.restart(station)
        Packer(station, orders[10:], rig.random).start().join()
        wait_until(lambda: verdicts.of(orders[-1]) == "ok", 20, "recording again")
        rig.wait_all_applied()
        rig.assert_exactly_once()


def _payloads(station) -> list[bytes]:
    import sqlite3

    conn = sqlite3.connect(station.journal_path, timeout=10)
    try:
        return [bytes(p) for (p,) in conn.execute("SELECT payload FROM journal")]
    finally:
        conn.close()
