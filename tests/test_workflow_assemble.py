"""Kit assembly through `bench.handle`: the kit, its parts checked against its bill of
materials, where the kits go, and taking kits apart."""

import pytest

from protocol.returns import Assembly, AssemblyPart
from station.workflows import bench
from tests.workflow_catalog import BOLT, GADGET, KIT, WIDGET, events_of, run, scan, touch

OP = scan("OP:ben")
MODE = scan("CMD:MODE:ASSEMBLE")
TWO_KITS = [OP, MODE, scan("QTY:2"), scan(KIT)]

VERDICTS = [
    ("no_operator", [MODE, scan(KIT)], "no_operator"),
    ("not_a_kit", [OP, MODE, scan(WIDGET)], "not_a_kit"),
    ("not_in_kit", [*TWO_KITS, scan(GADGET)], "not_in_kit"),
    ("too_many", [*TWO_KITS, scan(BOLT), scan(BOLT), scan(BOLT)], "too_many"),
    ("not_complete", [*TWO_KITS, scan("QTY:4"), scan(WIDGET), scan("CMD:DONE")], "not_complete"),
    ("no_kit", [OP, MODE, scan("CMD:DONE")], "no_kit"),
    ("assembly_in_progress", [*TWO_KITS, scan("CMD:APART")], "assembly_in_progress"),
]


@pytest.mark.parametrize(("name", "inputs", "expected"), VERDICTS, ids=[v[0] for v in VERDICTS])
def test_workflow_assemble_verdicts(name, inputs, expected):
    _, outcomes = run(inputs)
    assert outcomes[-1].verdict.name == expected
    assert not events_of(outcomes, Assembly)


def test_parts_from_their_pick_locations_or_a_scanned_one_build_kits_where_they_are_put():
    state, outcomes = run([
        *TWO_KITS, scan("QTY:3"), scan(WIDGET), scan(BOLT), scan("LOC:W-9"), scan(WIDGET),
        scan(BOLT), scan("LOC:K-1"), scan("CMD:DONE"),
    ])  # fmt: skip
    assert [o.verdict.name for o in outcomes] == ["ok"] * len(outcomes)
    assert outcomes[-3].verdict.message.startswith("All parts of 2 × KIT-1")
    assert outcomes[-1].verdict.pattern == "complete"
    (event,) = events_of(outcomes, Assembly)
    assert (event.kit, event.qty, event.location, event.disassembly, event.operator) == (
        "KIT-1", 2, "K-1", False, "ben")  # fmt: skip
    # Parts with no LOC: scanned before them: the hub books them at their pick locations.
    assert event.parts == [
        AssemblyPart(sku="WIDGET", qty=3), AssemblyPart(sku="BOLT", qty=1),
        AssemblyPart(sku="WIDGET", qty=1, location="W-9"),
        AssemblyPart(sku="BOLT", qty=1, location="W-9"),
    ]  # fmt: skip
    assert state.assemble.kit is None


def test_kits_go_to_the_bench_unless_a_location_is_scanned():
    _, outcomes = run([OP, MODE, scan(KIT), scan("QTY:2"), scan(WIDGET), scan(BOLT),
                       touch("done")], bench_location="BENCH-2")  # fmt: skip
    (event,) = events_of(outcomes, Assembly)
    assert event.location == "BENCH-2"


def test_taking_kits_apart_returns_the_bill_of_materials():
    _, outcomes = run([OP, MODE, touch("apart"), scan("LOC:K-1"), scan("QTY:3"), scan(KIT)])
    (event,) = events_of(outcomes, Assembly)
    assert (event.kit, event.qty, event.location, event.disassembly) == ("KIT-1", 3, "K-1", True)
    assert event.parts == [AssemblyPart(sku="WIDGET", qty=6), AssemblyPart(sku="BOLT", qty=3)]


def test_undo_takes_back_the_last_part():
    state, _ = run([*TWO_KITS, scan(WIDGET), scan(BOLT), scan("CMD:UNDO")])
    assert [(x["sku"], x["scanned"], x["ordered"]) for x in bench.view(state)["lines"]] == [
        ("WIDGET", 1, 4), ("BOLT", 0, 2)]  # fmt: skip
