"""Moves and adjustments through `bench.handle`, and switching modes without losing work."""

import pytest

from protocol.events import Adjustment, Move, Scan
from station.workflows import bench
from tests.workflow_catalog import BOLT, WIDGET, WIDGET_CASE, events_of, gs1, run, scan, touch

MOVE = [scan("OP:mo"), scan("CMD:MODE:MOVE")]
ADJUST = [scan("OP:mo"), scan("CMD:MODE:ADJUST")]

VERDICTS = [
    ("ok", [*MOVE, scan("LOC:A-01"), scan(WIDGET)], "ok"),
    ("no_operator", [scan("CMD:MODE:MOVE"), scan("LOC:A-01")], "no_operator"),
    ("no_location", [*MOVE, scan(WIDGET)], "no_location"),
    ("same_location", [*MOVE, scan("LOC:A-01"), scan(WIDGET), scan("LOC:A-01")], "same_location"),
    ("one_product", [*MOVE, scan("LOC:A-01"), scan(WIDGET), scan(BOLT)], "one_product"),
    (
        "mixed_lots",
        [*MOVE, scan("LOC:A-01"), gs1("01" + WIDGET, "10A"), gs1("01" + WIDGET, "10B")],
        "mixed_lots",
    ),
    ("not_complete", [*MOVE, scan("LOC:A-01"), scan(WIDGET), touch("done")], "not_complete"),
    ("adjust_not_complete", [*ADJUST, scan("LOC:A-01"), scan("CMD:REASON:LOST")], "not_complete"),
    ("wrong_command", [*MOVE, scan("LOC:A-01"), scan("CMD:REASON:LOST")], "wrong_command"),
    (
        "unknown_reason",
        [*ADJUST, scan("LOC:A-01"), scan(WIDGET), touch("reason", "x")],
        "unknown_reason",
    ),
]


@pytest.mark.parametrize(
    ("inputs", "expected"), [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS]
)
def test_workflow_move_verdicts(inputs, expected):
    _, outcomes = run(inputs)
    assert outcomes[-1].verdict.name == expected


def test_workflow_move_from_item_quantity_to():
    inputs = [*MOVE, scan("LOC:A-01"), scan(WIDGET_CASE), scan(WIDGET), scan("LOC:B-02")]
    state, outcomes = run(inputs)
    (move,) = events_of(outcomes, Move)
    assert (move.sku, move.qty, move.from_, move.to, move.operator) == (
        "WIDGET",
        7,
        "A-01",
        "B-02",
        "mo",
    )
    assert state.move.location is None


@pytest.mark.parametrize(
    ("reason", "qty"),
    [("damaged", -3), ("lost", -3), ("expired", -3), ("found", 3)],
)
def test_workflow_move_adjustment_reasons(reason, qty):
    inputs = [*ADJUST, scan("LOC:A-01"), scan("QTY:3"), scan(WIDGET), scan(f"CMD:REASON:{reason}")]
    _, outcomes = run(inputs)
    (adjustment,) = events_of(outcomes, Adjustment)
    assert (adjustment.sku, adjustment.qty, adjustment.location, adjustment.reason) == (
        "WIDGET",
        qty,
        "A-01",
        reason,
    )


def test_workflow_move_mode_switch_keeps_each_modes_work():
    inputs = [
        scan("OP:mo"),
        scan("ORD:SO-1"),
        scan(WIDGET),
        touch("mode", "receive"),  # what the core builds from the hub's cmd/mode
        scan("PO:PO-7"),
        scan("CMD:MODE:PACK"),
    ]
    state, outcomes = run(inputs)
    view = bench.view(state)
    assert view["mode"] == "pack" and view["order"] == "SO-1"
    assert view["lines"][0]["scanned"] == 1
    assert state.receive.po == "PO-7"
    assert [s.mode for s in events_of(outcomes, Scan)] == [
        "pack",
        "pack",
        "pack",
        "receive",
        "receive",
    ]


def test_workflow_move_default_mode_comes_from_settings():
    state, _ = run([], mode="count")
    assert bench.view(state)["mode"] == "count"


def test_workflow_move_settings_from_station_config():
    from station.config import StationConfig, parse_config

    config = parse_config(
        '[station]\nid = "dock-1"\nmode = "receive"\ndock_location = "D1"\n'
        "[pack]\nweight_tolerance_g = 20\n"
        '[[scanners]]\nname = "s"\nkind = "evdev"\ngs_substitute = "|"\n',
        StationConfig,
        "station.toml",
    )
    settings = bench.settings_from_config(config)
    assert (settings.station, settings.mode, settings.dock_location) == ("dock-1", "receive", "D1")
    assert settings.weight_tolerance_g == 20 and "|" in settings.gs_separators
