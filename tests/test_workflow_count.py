"""Blind counting through `bench.handle`: locations, tasks, count by weight, submit."""

import pytest

from protocol.events import Count
from protocol.messages import CountTask
from tests.workflow_catalog import (
    BOLT,
    GADGET,
    WIDGET,
    WIDGET_CASE,
    Catalog,
    events_of,
    gs1,
    run,
    scan,
    touch,
    weigh,
)

START = [scan("OP:carl"), touch("mode", "count")]


def _with_tasks() -> Catalog:
    return Catalog(
        tasks=[
            CountTask(task="T-1", location="B-01", sku="WIDGET"),
            CountTask(task="T-2", location="C-09"),
        ]
    )


VERDICTS = [
    ("ok", [*START, scan("LOC:A-01"), scan(WIDGET)], "ok"),
    ("no_operator", [touch("mode", "count"), scan("LOC:A-01")], "no_operator"),
    ("no_location", [*START, scan(WIDGET)], "no_location"),
    ("nothing_counted", [*START, scan("LOC:A-01"), scan("CMD:DONE")], "nothing_counted"),
    (
        "count_in_progress",
        [*START, scan("LOC:A-01"), scan(WIDGET), scan("LOC:A-02")],
        "count_in_progress",
    ),
    ("not_in_task", [*START, scan("LOC:B-01"), scan(BOLT)], "not_in_task"),
    ("no_task", [*START, touch("task", "T-404")], "no_task"),
    ("no_weight", [*START, scan("LOC:A-01"), scan("CMD:WEIGH"), scan(WIDGET)], "no_weight"),
    (
        "no_unit_weight",
        [*START, scan("LOC:A-01"), weigh(50), scan("CMD:WEIGH"), scan("FEATHER")],
        "no_unit_weight",
    ),
    (
        "count_unclear",
        [*START, scan("LOC:A-01"), weigh(350), scan("CMD:WEIGH"), scan(WIDGET)],
        "count_unclear",
    ),
    ("nothing_to_undo", [*START, scan("LOC:A-01"), scan("CMD:UNDO")], "nothing_to_undo"),
    ("wrong_command", [*START, scan("CMD:OVERRIDE")], "wrong_command"),
]


@pytest.mark.parametrize(
    ("inputs", "expected"), [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS]
)
def test_workflow_count_verdicts(inputs, expected):
    _, outcomes = run(inputs, _with_tasks())
    assert outcomes[-1].verdict.name == expected


def test_workflow_count_submit_gives_one_count_per_product_and_lot():
    inputs = [
        *START,
        scan("LOC:A-01"),
        scan(WIDGET),
        scan(WIDGET_CASE),
        gs1("01" + GADGET, "10L1"),
        gs1("01" + GADGET, "10L2"),
        gs1("01" + GADGET, "10L2"),
        scan("CMD:DONE"),
    ]
    state, outcomes = run(inputs)
    counts = {(c.sku, c.lot): c.counted for c in events_of(outcomes, Count)}
    assert counts == {("WIDGET", None): 7, ("GADGET", "L1"): 1, ("GADGET", "L2"): 2}
    assert all(c.location == "A-01" and c.operator == "carl" for c in events_of(outcomes, Count))
    assert state.count.location is None


def test_workflow_count_task_from_hub_by_location_or_button():
    by_location = [*START, scan("LOC:B-01"), scan(WIDGET), scan("CMD:DONE")]
    by_button = [*START, touch("task", "T-1"), scan(WIDGET), touch("done")]
    for inputs in (by_location, by_button):
        _, outcomes = run(inputs, _with_tasks())
        (count,) = events_of(outcomes, Count)
        assert (count.task, count.location, count.sku, count.counted) == (
            "T-1",
            "B-01",
            "WIDGET",
            1,
        )


def test_workflow_count_task_product_not_found_counts_zero():
    _, outcomes = run([*START, scan("LOC:B-01"), scan("CMD:DONE")], _with_tasks())
    (count,) = events_of(outcomes, Count)
    assert (count.sku, count.counted) == ("WIDGET", 0)


def test_workflow_count_by_weight_after_tare():
    inputs = [
        *START,
        scan("LOC:A-01"),
        weigh(120),
        touch("tare"),
        weigh(1120),
        touch("weigh"),
        scan(WIDGET),
        scan("CMD:DONE"),
    ]
    _, outcomes = run(inputs)
    (count,) = events_of(outcomes, Count)
    assert count.counted == 10


def test_workflow_count_is_blind():
    from station.workflows import bench

    state, _ = run([*START, scan("LOC:B-01"), scan(WIDGET)], _with_tasks())
    shown = bench.view(state)
    assert shown["lines"] == [{"sku": "WIDGET", "lot": None, "scanned": 1}]
    assert not {"expected", "on_hand", "book"} & set(str(shown).split("'"))
