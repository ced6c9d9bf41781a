"""The serial twin (station/drivers/sim/pty.py) survives an unplug that races its loop."""

import os
import select
import threading

from station.drivers.sim import pty


class Echo(pty.PtyDevice):
    def __init__(self) -> None:
        self.received = threading.Event()
        super().__init__()

    def on_receive(self, data: bytes) -> None:
        self.received.set()


def test_an_unplug_between_the_loops_look_and_its_select_leaves_the_twin_running(monkeypatch):
    """The full suite once lost a scale twin's thread this way (EBADF from select) and its
    station never read the replugged scale: here the unplug lands in that gap every time."""
    real_select = select.select
    device: Echo | None = None
    raced = threading.Event()

    def select_after_an_unplug(fds, *args):
        if device is not None and not raced.is_set() and device._master in fds:
            raced.set()
            device.unplug()  # the fd in `fds` is closed now, as from the test's thread
        return real_select(fds, *args)

    monkeypatch.setattr(pty.select, "select", select_after_an_unplug)
    device = Echo()
    try:
        device.replug()  # wakes the loop, which then selects on the new master
        assert raced.wait(5)
        device.replug()
        station_side = os.open(device.path, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(station_side, b"S\r\n")
            assert device.received.wait(5), "the twin's loop died"
        finally:
            os.close(station_side)
    finally:
        device.close()
