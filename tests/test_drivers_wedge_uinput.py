"""A real kernel input device (uinput) found by name, grabbed and decoded (needs /dev/uinput)."""

import os

import pytest

from station.drivers.input_devices import open_input
from station.drivers.sim.wedge import keystrokes
from station.drivers.wedge_scanner import WedgeScanner
from station.inputs import Scanned
from tests.drivers_support import Inbox

pytestmark = pytest.mark.skipif(
    not os.access("/dev/uinput", os.W_OK), reason="needs a writable /dev/uinput"
)


def test_uinput_scanner_is_matched_grabbed_and_read():
    from evdev import UInput, ecodes

    keys = list(range(1, 120))
    with UInput({ecodes.EV_KEY: keys}, name="Sim Wedge Scanner 4711") as device:
        inbox = Inbox()
        scanner = WedgeScanner("wedge", inbox, lambda: open_input(match="Wedge Scanner 4711"))
        scanner.start()
        try:
            inbox.wait_state("wedge", "ready")
            for type_, code, value in keystrokes("]E04006381333931"):
                device.write(type_, code, value)
            inbox.wait_for(lambda _: inbox.of(Scanned))
        finally:
            scanner.stop()
    assert inbox.of(Scanned) == [Scanned("4006381333931", "]E0", "wedge")]
