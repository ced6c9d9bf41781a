"""Killing the station, the hub or the broker in the middle of a stream loses and
duplicates nothing: every journaled event is in the ledger exactly once."""

import json
import subprocess
import sys
import threading
import time

import pytest

from kit.waiting import wait_steady
from tests.harness import ROOT, wait_until

pytestmark = pytest.mark.slow

ORDERS = 25


def _setup(hub, station):
    hub.api(
        "POST",
        "/api/products",
        [{"sku": "MUG-1", "name": "Mug", "gtins": [{"gtin": "4006381333931"}]}],
    )
    hub.api("POST", "/api/orders", [
        {"order": f"SO-{i}", "lines": [{"sku": "MUG-1", "qty": 1}]} for i in range(ORDERS)
    ])  # fmt: skip
    wait_until(lambda: station.cached("orders") == ORDERS, 30, "orders cached at the station")



def _type_scans(scanner, stop: threading.Event, rounds: int = 1) -> None:
    """A packer working steadily: badge, order, item, wrong item, for every order (the
    badge again each time, because a killed station forgets who was at it). Later rounds
    scan orders already shipped: still scans, judged and journaled."""
    for _ in range(rounds):
        for i in range(ORDERS):
            for code in ("OP:alice", f"SO-{i}", "0000000000000", "4006381333931"):
                if stop.is_set():
                    return
                scanner.scan(code)
                time.sleep(0.03)


def _wait_all_applied(hub, station) -> None:
    """Until the station's journal is applied to its end and stays there: the last codes
    typed may still wait in the scanner's pseudo-terminal, to be journaled late."""

    def applied(journal: list) -> bool:
        rows = hub.query(
            "SELECT applied FROM cursors WHERE station = ? AND epoch = ?",
            (station.station_id, station.epoch()),
        )
        return bool(journal) and bool(rows) and rows[0][0] == journal[-1][0]

    wait_steady(station.journal, applied, 2.0, 60, "every event applied")


def _assert_exactly_once(hub, station):
    journal = station.journal()
    events = hub.query(
        "SELECT seq, type FROM events WHERE station = ? AND epoch = ? ORDER BY seq",
        (station.station_id, station.epoch()),
    )
    assert events == journal  # same seqs, same types, each once
    check = subprocess.run(
        [sys.executable, "-m", "hub", "check", "--config", str(hub.config_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    report = json.loads(check.stdout)
    assert check.returncode == 0, report
    assert report["ok"] and not report["held"]


def test_station_killed_mid_stream_loses_and_doubles_nothing(hub, pack_station, scanner):
    _setup(hub, pack_station)
    stop = threading.Event()
    # What is typed while the station is down is never read (as at a real bench), so the
    # packer goes on until the restarted station has journaled more.
    typing = threading.Thread(target=_type_scans, args=(scanner, stop, 100))
    typing.start()
    try:
        for threshold in (10, 30):
            wait_until(lambda t=threshold: len(pack_station.journal()) >= t, 30, "events journaled")
            pack_station.kill()
            pack_station.start()
        wait_until(lambda: len(pack_station.journal()) >= 40, 30, "journaling after restarts")
    finally:
        stop.set()
        typing.join(10)
    _wait_all_applied(hub, pack_station)
    _assert_exactly_once(hub, pack_station)


def test_hub_killed_mid_stream_loses_and_doubles_nothing(hub, pack_station, scanner):
    _setup(hub, pack_station)
    stop = threading.Event()
    typing = threading.Thread(target=_type_scans, args=(scanner, stop))
    typing.start()
    try:
        for threshold in (10, 30):
            wait_until(lambda t=threshold: len(pack_station.journal()) >= t, 30, "events journaled")
            hub.kill()
            time.sleep(0.3)
            hub.start()
        typing.join(60)
    finally:
        stop.set()
    _wait_all_applied(hub, pack_station)
    _assert_exactly_once(hub, pack_station)


def test_broker_killed_mid_stream_loses_and_doubles_nothing(broker, hub, pack_station, scanner):
    _setup(hub, pack_station)
    stop = threading.Event()
    typing = threading.Thread(target=_type_scans, args=(scanner, stop))
    typing.start()
    try:
        wait_until(lambda: len(pack_station.journal()) >= 15, 30, "events journaled")
        broker.kill()  # no final snapshot: whatever it held since the last autosave is gone
        time.sleep(0.5)
        broker.start()
        typing.join(60)
    finally:
        stop.set()
    _wait_all_applied(hub, pack_station)
    _assert_exactly_once(hub, pack_station)
