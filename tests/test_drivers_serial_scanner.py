"""Serial scanners on a pseudo-terminal: AIM ids kept, framing, unplug and re-plug."""

import pytest

from station.drivers.serial_scanner import SerialScanner, decode_frame
from station.drivers.sim.serial_scanner import SimSerialScanner
from station.inputs import Scanned
from tests.drivers_support import Inbox


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
