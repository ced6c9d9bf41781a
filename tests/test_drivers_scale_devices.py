"""Each scale protocol end to end: a simulated scale on a pty, the supervised scale device."""

from decimal import Decimal

import pytest

from station.drivers.scales.codecs import PROTOCOLS
from station.drivers.scales.device import ScaleDevice
from station.drivers.sim.scales import make_sim_scale
from station.inputs import Weighed
from tests.drivers_support import Inbox


def captures(inbox: Inbox) -> list[Decimal]:
    return [w.grams for w in inbox.of(Weighed) if w.stable]


def live_zero_after(inbox: Inbox, count: int):
    """True once a live zero reading follows the `count`-th capture."""
    seen = 0
    for item in inbox.items:
        if isinstance(item, Weighed) and item.stable:
            seen += 1
        elif isinstance(item, Weighed) and seen >= count and item.grams == 0:
            return True
    return False


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_one_capture_per_placement(protocol, tmp_path):
    inbox = Inbox()
    with make_sim_scale(protocol, str(tmp_path / "scale")) as sim:
        scale = ScaleDevice(
            "scale", inbox, protocol, str(sim.path), unit="kg", poll_interval=0.05
        )
        scale.start()
        try:
            inbox.wait_state("scale", "ready")
            sim.place(Decimal(1250))
            inbox.wait_for(lambda _: captures(inbox))
            sim.remove()
            inbox.wait_for(lambda _: live_zero_after(inbox, 1))
            sim.place(Decimal(800))
            inbox.wait_for(lambda _: len(captures(inbox)) == 2)
        finally:
            scale.stop()
    assert captures(inbox) == [Decimal(1250), Decimal(800)]
    assert all(w.device == "scale" for w in inbox.of(Weighed))


def test_scale_unplug_reports_missing_and_reading_resumes(tmp_path):
    inbox = Inbox()
    with make_sim_scale("mt-sics", str(tmp_path / "scale")) as sim:
        scale = ScaleDevice("scale", inbox, "mt-sics", str(sim.path), poll_interval=0.05)
        scale.start()
        try:
            inbox.wait_state("scale", "ready")
            sim.unplug()
            inbox.wait_state("scale", "missing")
            sim.replug()
            inbox.wait_state("scale", "ready", count=2)
            sim.place(Decimal("1234.5"))
            inbox.wait_for(lambda _: captures(inbox))
        finally:
            scale.stop()
    assert captures(inbox) == [Decimal("1234.50")]
    assert inbox.states("scale")[:3] == ["ready", "missing", "ready"]


def test_silent_scale_is_reported_offline_then_ready(tmp_path):
    inbox = Inbox()
    with make_sim_scale("nci", str(tmp_path / "scale")) as sim:
        scale = ScaleDevice(
            "scale", inbox, "nci", str(sim.path), poll_interval=0.05, offline_after=0.3
        )
        scale.start()
        try:
            inbox.wait_state("scale", "ready")
            sim.power_off()
            inbox.wait_state("scale", "offline")
            sim.power_on()
            inbox.wait_state("scale", "ready", count=2)
        finally:
            scale.stop()
    assert inbox.states("scale") == ["ready", "offline", "ready", "stopped"]


def test_zero_command_reaches_the_scale(tmp_path):
    inbox = Inbox()
    with make_sim_scale("mt-sics", str(tmp_path / "scale")) as sim:
        sim.place(Decimal(300))  # an empty box left on the platter
        scale = ScaleDevice("scale", inbox, "mt-sics", str(sim.path), poll_interval=0.05)
        scale.start()
        try:
            inbox.wait_for(lambda _: captures(inbox))
            scale.zero()
            inbox.wait_for(lambda _: [w for w in inbox.of(Weighed) if w.grams == 0])
        finally:
            scale.stop()
    assert captures(inbox) == [Decimal(300)]


def test_protocol_without_zero_command_says_so():
    scale = ScaleDevice("scale", print, "hid-pos", "/dev/hidraw-none")
    with pytest.raises(ValueError, match="hid-pos protocol has no zero"):
        scale.zero()


def test_scale_reported_overload_is_a_fault_until_the_next_good_frame(tmp_path):
    inbox = Inbox()
    with make_sim_scale("ascii", str(tmp_path / "scale")) as sim:
        scale = ScaleDevice("scale", inbox, "ascii", str(sim.path))
        scale.start()
        try:
            inbox.wait_state("scale", "ready")
            sim.power_off()  # only our overload line on the wire
            sim.write(b"OL,GS,+99999.99kg\r\n")
            inbox.wait_state("scale", "fault: overload")
            sim.power_on()
            inbox.wait_state("scale", "ready", count=2)
        finally:
            scale.stop()
    assert inbox.states("scale")[:3] == ["ready", "fault: overload", "ready"]
