"""Serial scanners on a pseudo-terminal: AIM ids kept, framing, unplug and re-plug."""

import os
import signal
import subprocess
import sys
import time
import tty
from pathlib import Path

import pytest

from station.drivers.serial_scanner import SerialScanner, decode_frame
from station.drivers.sim.serial_scanner import SimSerialScanner
from station.inputs import Scanned
from tests.drivers_support import Inbox
from tests.harness import ROOT, wait_until


@pytest.mark.parametrize(
    ("frame", "code", "symbology"),
    [
        (b"]C10107032069804988\x1d10LOT\r\n", "0107032069804988\x1d10LOT", "]C1"),
        (b"]E04006381333931\r", "4006381333931", "]E0"),
        (b"]E496385074\n", "96385074", "]E4"),
        (b"]d2010703206980498817260531", "010703206980498817260531", "]d2"),
        (b"]Q3010703206980498810A1", "010703206980498810A1", "]Q3"),
        (b"]C0BIN-A-01", "BIN-A-01", "]C0"),
        (b"ORD-1234", "ORD-1234", None),
        (b"\xe9t\xe9", "été", None),  # latin-1: any byte decodes
    ],
)
def test_frame_keeps_the_aim_identifier(frame, code, symbology):
    assert decode_frame(frame) == Scanned(code, symbology)


def test_empty_frame_is_no_code():
    assert decode_frame(b"\r\n") is None


def test_scans_arrive_and_survive_unplug_and_replug(tmp_path):
    inbox = Inbox()
    with SimSerialScanner(str(tmp_path / "usb-Scanner_SN1-if00")) as sim:
        scanner = SerialScanner("front", inbox, str(sim.path), idle_gap=0.05)
        scanner.start()
        try:
            inbox.wait_state("front", "ready")
            sim.scan("4006381333931", symbology="]E0")
            sim.scan("0107032069804988\x1d10LOT42", symbology="]C1")
            inbox.wait_for(lambda _: len(inbox.of(Scanned)) == 2)

            sim.unplug()
            inbox.wait_state("front", "missing")
            sim.replug()
            inbox.wait_state("front", "ready", count=2)
            sim.scan("ORD-77")
            inbox.wait_for(lambda _: len(inbox.of(Scanned)) == 3)
        finally:
            scanner.stop()
    assert inbox.of(Scanned) == [
        Scanned("4006381333931", "]E0", "front"),
        Scanned("0107032069804988\x1d10LOT42", "]C1", "front"),
        Scanned("ORD-77", None, "front"),
    ]
    assert inbox.states("front") == ["ready", "missing", "ready", "stopped"]


def test_scanner_without_suffix_is_framed_by_the_idle_gap(tmp_path):
    inbox = Inbox()
    with SimSerialScanner(str(tmp_path / "tty"), suffix=b"") as sim:
        scanner = SerialScanner("front", inbox, str(sim.path), idle_gap=0.05)
        scanner.start()
        try:
            inbox.wait_state("front", "ready")
            sim.scan("96385074", symbology="]E4")
            inbox.wait_for(lambda _: inbox.of(Scanned))
        finally:
            scanner.stop()
    assert inbox.of(Scanned) == [Scanned("96385074", "]E4", "front")]


# A station's scanner reader in its own process, so the test can stop it the way a busy
# machine does (SIGSTOP: the thread is not scheduled), which no in-process trick can.
READER = """
import sys
from station.drivers.serial_scanner import SerialScanner
from station.inputs import DeviceState, Scanned

def emit(item):
    if isinstance(item, Scanned):
        print("code", item.code, flush=True)
    elif isinstance(item, DeviceState):
        print("state", item.state, flush=True)

scanner = SerialScanner("front", emit, sys.argv[1], idle_gap=float(sys.argv[2]))
scanner.start()
sys.stdin.read()
scanner.stop()
"""


def _bytes_read(pid: int) -> int:
    """All bytes the process has read so far (the kernel's count)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar")


def test_a_reader_that_was_not_scheduled_does_not_split_a_code(tmp_path):
    """The idle gap is silence the reader saw, not time it was away: bytes that came while
    it was not running belong to the code it was reading. Splitting turned one scan into two
    wrong ones (the first lost) on a loaded machine."""
    idle_gap = 0.5
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, os.ttyname(slave), str(idle_gap)], cwd=ROOT,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout.readline().split() == ["state", "ready"]
        before = _bytes_read(reader.pid)
        os.write(master, b"4006381")  # the first part of a code, read at once
        wait_until(lambda: _bytes_read(reader.pid) >= before + 7, 10, "the first part read")
        reader.send_signal(signal.SIGSTOP)  # the reader is not scheduled ...
        os.write(master, b"333931\r")  # ... while the rest arrives
        time.sleep(2 * idle_gap)  # longer than the idle gap, as the wall clock sees it
        reader.send_signal(signal.SIGCONT)
        os.write(master, b"AFTER\r")
        codes = []
        while (line := reader.stdout.readline().split()) != ["code", "AFTER"]:
            assert line, "the reader ended"
            codes.append(line)
        assert codes == [["code", "4006381333931"]]
    finally:
        reader.stdin.close()
        reader.wait(10)
        os.close(master)
        os.close(slave)
