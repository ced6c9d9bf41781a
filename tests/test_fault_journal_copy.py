"""The journal's files copied at random moments while a writer runs (a stand-in for a
power cut): every copy opens with gapless seqs and takes new events after them. A station
started on a copy older than what the hub has applied says so loudly and records nothing,
rather than re-number new events over the hub's."""

import random
import threading

import msgspec
import pytest

from protocol.envelope import decode_event
from protocol.events import Scan
from protocol.messages import StationStatus
from protocol.topics import Topics
from station.ledger.journal import Journal
from tests.faults.rig import Packer, Rig, copy_journal, journal_rows, password
from tests.harness import wait_until
from tests.mqtt_client import TestClient


def _writer(journal: Journal, stop: threading.Event, rng: random.Random) -> None:
    while not stop.is_set():
        journal.append([Scan(code="X" * rng.randint(1, 400), verdict="ok", mode="pack")
                        for _ in range(rng.randint(1, 5))])  # fmt: skip


def test_journal_copied_mid_write_opens_gapless_and_resumes(tmp_path):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    journal = Journal(tmp_path / "live" / "journal.db", "pack-1")
    stop = threading.Event()
    writer = threading.Thread(target=_writer, args=(journal, stop, random.Random(seed)))
    writer.start()
    copies = []
    try:
        for i in range(12):
            stop.wait(rng.uniform(0.005, 0.1))
            copies.append(copy_journal(journal.path, tmp_path / f"copy-{i}"))
    finally:
        stop.set()
        writer.join()
    heads = []
    for path in copies:
        copy = Journal(path, "pack-1")
        assert copy.epoch == journal.epoch, f"seed {seed}"
        assert copy.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"seed {seed}"
        epoch, rows = journal_rows(path)
        assert [seq for seq, _ in rows] == list(range(1, copy.head + 1)), f"seed {seed}"
        assert all(decode_event(p).seq == seq for seq, p in rows), f"seed {seed}"
        assert copy.append([Scan(code="after", verdict="ok", mode="pack")]) == [copy.head]
        heads.append(copy.head)
    assert heads[-1] > 1, f"seed {seed}: the writer never got going"


@pytest.mark.slow
def test_station_on_a_copy_behind_the_hub_reports_it_and_records_nothing(tmp_path):
    with Rig(tmp_path) as rig:
        rig.publish_orders(20)
        station = rig.stations["pack-1"]
        orders = rig.orders_for("pack-1", 20)
        packer = Packer(station, orders[:15], rig.random).start()
        wait_until(lambda: len(station.journal()) >= 8, 30, "some events journaled")
        rig.sleep(0.0, 0.3)
        copy = copy_journal(station.journal_path, tmp_path / "power-cut")
        packer.join()
        rig.wait_all_applied()
        station.stop()
        # The full journal is what the hub has; keep it to account for the ledger.
        full = copy_journal(station.journal_path, tmp_path / "full")
        rig.old_journals.append(full)
        for suffix in ("", "-wal", "-shm"):
            (station.dir / "data" / f"journal.db{suffix}").unlink(missing_ok=True)
        copy_journal(copy, station.dir / "data")
        assert len(station.journal()) < len(journal_rows(full)[1])

        observer = TestClient(rig.broker.port, "observer_test", password("obs"))
        observer.subscribe(Topics("test").station_status("pack-1"))
        try:
            station.start()
            status = wait_until(lambda: _fault(observer), 20, "the fault reported")
            assert "journal behind the hub" in status.fault
            head = len(station.journal())
            station.scanner.scan(orders[15])
            wait_until(lambda: _last_scan(observer, orders[15]), 20, "the scan judged")
            assert len(station.journal()) == head  # nothing recorded over the hub's seqs
            report = wait_until(lambda: rig.check()["station_faults"], 20, "the hub knows")
            assert report[0]["station"] == "pack-1"

            # The supervisor's remedy: a new journal (a new epoch) next to the old ones.
            station.stop()
            rig.reimage("pack-1")
            station.start()
            Packer(station, orders[15:], rig.random).start().join()
            rig.wait_all_applied()
            wait_until(lambda: rig.check()["ok"], 20, "the fault cleared")
            rig.assert_exactly_once()
        finally:
            observer.close()


@pytest.mark.slow
def test_station_on_a_copy_the_hub_has_not_passed_resumes_exactly_once(tmp_path):
    with Rig(tmp_path) as rig:
        rig.publish_orders(20)
        station = rig.stations["pack-1"]
        orders = rig.orders_for("pack-1", 20)
        Packer(station, orders[:4], rig.random).start().join()
        rig.wait_all_applied()
        rig.proxies["pack-1"].cut()  # what follows stays on the station: the hub is behind
        packer = Packer(station, orders[4:12], rig.random).start()
        wait_until(lambda: len(station.journal()) >= 20, 30, "events journaled offline")
        rig.sleep(0.0, 0.3)
        copy = copy_journal(station.journal_path, tmp_path / "power-cut")
        packer.join()
        station.kill()
        for suffix in ("", "-wal", "-shm"):
            (station.dir / "data" / f"journal.db{suffix}").unlink(missing_ok=True)
        copy_journal(copy, station.dir / "data")
        rig.proxies["pack-1"].restore()
        station.start()
        Packer(station, orders[12:], rig.random).start().join()
        rig.wait_all_applied()
        rig.assert_exactly_once()  # the copy's events, then the new ones after its head
        assert rig.check()["station_faults"] == []


def _statuses(observer: TestClient):
    while not observer.messages.empty():
        message = observer.messages.get()
        if message.payload:
            yield msgspec.json.decode(message.payload, type=StationStatus)


def _fault(observer: TestClient) -> StationStatus | None:
    return next((s for s in _statuses(observer) if s.fault), None)


def _last_scan(observer: TestClient, code: str) -> bool:
    return any(
        s.last_scan == code and s.last_verdict == "not_recorded" for s in _statuses(observer)
    )
