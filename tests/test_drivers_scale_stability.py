"""The stability filter: device motion flag + N steady readings, one capture per placement."""

import os
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from station.drivers.scales.device import ScaleDevice
from station.drivers.scales.reading import Reading
from station.drivers.scales.stability import StabilityFilter
from station.drivers.sim.scales import make_sim_scale
from station.inputs import Weighed
from tests.drivers_support import Inbox


def run(filter_: StabilityFilter, readings: list[tuple[str, bool]], step: float = 0.1):
    out = []
    for i, (grams, stable) in enumerate(readings):
        out += filter_.feed(Reading(Decimal(grams), stable, b""), i * step)
    return [(str(w.grams), w.stable) for w in out]


def test_capture_needs_n_steady_readings_with_motion_flag_clear():
    readings = [("900", False), ("1000", True), ("1000", True), ("1000", True), ("1000", True)]
    assert run(StabilityFilter(stable_readings=3, live_interval=0), readings) == [
        ("900", False),
        ("1000", False),
        ("1000", True),  # the third steady reading
    ]


def test_motion_between_stable_readings_starts_the_count_over():
    readings = [("1000", True), ("1000", True), ("1003", False), ("1000", True), ("1000", True)]
    out = run(StabilityFilter(stable_readings=3, live_interval=0), readings)
    assert [w for w in out if w[1]] == []


def test_readings_outside_the_tolerance_are_not_steady():
    readings = [("1000", True), ("1005", True), ("1010", True), ("1010", True)]
    out = run(StabilityFilter(stable_readings=3, tolerance_grams=Decimal(1)), readings)
    assert [w for w in out if w[1]] == []


def test_a_parcel_left_on_the_scale_is_captured_once_and_rearmed_near_zero():
    on = [("500", True)] * 6
    readings = on + [("2", True)] + on
    out = run(StabilityFilter(stable_readings=2, min_grams=Decimal(5)), readings)
    assert [w for w in out if w[1]] == [("500", True), ("500", True)]


def test_a_load_added_on_top_is_a_new_capture_without_lifting_anything():
    tote, full = [("400", True)] * 3, [("1300", False)] + [("1400", True)] * 3
    out = run(StabilityFilter(stable_readings=2, min_grams=Decimal(5), live_interval=0),
              tote + full)  # fmt: skip
    assert [w for w in out if w[1]] == [("400", True), ("1400", True)]


def test_a_still_wobble_within_the_tolerance_is_the_captured_weight():
    readings = [("500", True)] * 3 + [("500.5", True), ("500", True), ("499.5", True)] * 2
    out = run(StabilityFilter(stable_readings=2, tolerance_grams=Decimal(1), live_interval=0),
              readings)  # fmt: skip
    assert out == [("500", False), ("500", True)]


def test_a_load_that_moved_and_settled_back_is_captured_again():
    readings = [("500", True)] * 3 + [("520", False)] + [("500", True)] * 3
    out = run(StabilityFilter(stable_readings=2, live_interval=0), readings)
    assert out == [("500", False), ("500", True), ("520", False), ("500", False), ("500", True)]


def test_weights_below_the_minimum_are_never_captured():
    out = run(StabilityFilter(stable_readings=2, min_grams=Decimal(5)), [("3", True)] * 5)
    assert [w for w in out if w[1]] == []


def test_live_readings_are_rate_limited():
    readings = [(str(g), False) for g in range(100, 110)]  # ten readings in 0.09 s
    out = run(StabilityFilter(live_interval=0.05), readings, step=0.01)
    assert out == [("100", False), ("105", False)]


def test_interrupt_restarts_the_count():
    filter_ = StabilityFilter(stable_readings=2)
    filter_.feed(Reading(Decimal(700), True, b""), 0)
    filter_.interrupt()
    assert [w for w in filter_.feed(Reading(Decimal(700), True, b""), 1) if w.stable] == []
    assert [w for w in filter_.feed(Reading(Decimal(700), True, b""), 2) if w.stable] == [
        Weighed(Decimal(700), True, "scale")
    ]


@settings(max_examples=20, deadline=None)
@given(garbage=st.binary(min_size=1, max_size=200))
def test_garbage_on_the_line_never_stops_the_reader(garbage, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("scale") / "tty")
    inbox = Inbox()
    with make_sim_scale("ascii", path) as sim:
        scale = ScaleDevice("scale", inbox, "ascii", path)
        scale.start()
        try:
            inbox.wait_state("scale", "ready")
            sim.write(garbage + b"\r\n" + os.urandom(16) + b"\n")
            sim.place(Decimal(640))
            inbox.wait_for(lambda _: [w for w in inbox.of(Weighed) if w.stable])
        finally:
            scale.stop()
    assert "missing" not in inbox.states("scale")
