"""A keyboard-wedge scanner read through its event source survives unplug and re-plug."""

from station.drivers.keymaps import DE
from station.drivers.sim.wedge import SimWedgeScanner
from station.drivers.wedge_scanner import WedgeScanner
from station.inputs import Scanned
from tests.drivers_support import Inbox


def test_unplug_reports_missing_and_reading_resumes_after_replug():
    inbox = Inbox()
    sim = SimWedgeScanner(DE)
    scanner = WedgeScanner("wedge", inbox, sim.open_source, keymap=DE)
    scanner.start()
    try:
        inbox.wait_state("wedge", "ready")
        sim.scan("0107032069804988\x1d10LOT1", symbology="]C1")
        inbox.wait_for(lambda _: inbox.of(Scanned))

        sim.unplug()
        inbox.wait_state("wedge", "missing")
        sim.replug()
        inbox.wait_state("wedge", "ready", count=2)
        sim.scan("4006381333931", symbology="]E0")
        inbox.wait_for(lambda _: len(inbox.of(Scanned)) == 2)
    finally:
        scanner.stop()

    assert inbox.of(Scanned) == [
        Scanned("0107032069804988\x1d10LOT1", "]C1", "wedge"),
        Scanned("4006381333931", "]E0", "wedge"),
    ]
    assert inbox.states("wedge") == ["ready", "missing", "ready", "stopped"]


def test_a_code_without_suffix_is_ended_by_the_idle_gap():
    inbox = Inbox()
    sim = SimWedgeScanner()
    scanner = WedgeScanner("wedge", inbox, sim.open_source, idle_gap=0.05)
    scanner.start()
    try:
        inbox.wait_state("wedge", "ready")
        from station.drivers.sim.wedge import keystrokes

        sim.send(keystrokes("ABC123", suffix=None))
        inbox.wait_for(lambda _: inbox.of(Scanned))
    finally:
        scanner.stop()
    assert inbox.of(Scanned) == [Scanned("ABC123", None, "wedge")]
