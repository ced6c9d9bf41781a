"""cmd/resync names the journal (epoch) it is about: the real station resends only for its
own, an epoch-less resync (an older hub's) still means its current one, and events held
in an epoch the station no longer journals are reported, not asked for again and again."""

import sqlite3
import subprocess
import sys

import msgspec

from protocol.envelope import encode, encode_event
from protocol.events import Adjustment
from protocol.messages import Resync
from protocol.topics import Topics
from tests.harness import ROOT, wait_until
from tests.mqtt_client import TestClient

TOPICS = Topics("test")


def _scan_until_applied(hub, pack_station, scanner, n: int) -> None:
    for i in range(n):
        scanner.scan(f"NOT-A-CODE-{i}")
    wait_until(lambda: hub.query("SELECT count(*) FROM events WHERE station = 'pack-1'")
               == [(n,)], 30, f"{n} scans applied")  # fmt: skip


def _next_seq(observer: TestClient) -> int:
    message = observer.next(TOPICS.events("pack-1"), timeout=20)
    return msgspec.json.decode(message.payload)["seq"]


def test_the_station_resends_only_for_its_own_epoch(hub, pack_station, scanner):
    _scan_until_applied(hub, pack_station, scanner, 3)
    hub.broker.add_user("ops_resync", "ops-secret", "hub")
    hub.broker.reload()
    observer = TestClient(hub.broker.port, "ops_resync", "ops-secret")
    observer.subscribe(TOPICS.events("pack-1"))
    try:
        resync = TOPICS.command("pack-1", "resync")
        # Another journal's resync first, then this one's: the first resend is from 3.
        observer.publish(resync, encode(Resync(from_=1, epoch="0123456789abcdef")))
        observer.publish(resync, encode(Resync(from_=3, epoch=pack_station.epoch())))
        assert _next_seq(observer) == 3
        # An older hub's resync, without epoch, means the station's current journal.
        observer.publish(resync, b'{"from": 2}')
        seqs = [_next_seq(observer) for _ in range(2)]
        assert seqs == [2, 3]
    finally:
        observer.close()
    assert "ignoring a resync for epoch 0123456789abcdef" in pack_station.proc.log()


def test_events_held_in_an_epoch_the_station_no_longer_has_are_reported(hub, pack_station,
                                                                         scanner):  # fmt: skip
    _scan_until_applied(hub, pack_station, scanner, 2)
    hub.stop()
    # A stray event of the station's previous journal, held after a gap that its lost
    # journal can never fill (as the ledger keeps it).
    stray = encode_event(
        "pack-1",
        "00000000000000ff",
        5,
        Adjustment(sku="MUG-1", qty=1, location="A-01", reason="found"),
    )
    conn = sqlite3.connect(hub.db_path)
    with conn:
        conn.execute("INSERT INTO pending VALUES ('pack-1', '00000000000000ff', 5, ?, "
                          "'2026-01-01T00:00:00+00:00')", (stray,))  # fmt: skip
    conn.close()
    hub.start()

    def reported() -> list[dict]:
        return [a for a in hub.api("GET", "/api/alerts")["alerts"]
                if a["kind"] == "held_old_epoch"]  # fmt: skip

    [alert] = wait_until(reported, 20, "the held events reported")
    assert "00000000000000ff" in alert["message"] and alert["station"] == "pack-1"
    log = hub.proc.log_since_start()
    assert "resend epoch 00000000000000ff" not in log and "resend from" not in log
    check = subprocess.run([sys.executable, "-m", "hub", "check", "--config",
                            str(hub.config_path)], cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert check.returncode == 1, check.stdout
    held = msgspec.json.decode(check.stdout)["held"]
    assert [(h["station"], h["epoch"], h["held"]) for h in held] == [
        ("pack-1", "00000000000000ff", 1)
    ]
    # Still held, never applied: it is reported, not skipped.
    assert hub.query("SELECT count(*) FROM events WHERE epoch = '00000000000000ff'") == [(0,)]
