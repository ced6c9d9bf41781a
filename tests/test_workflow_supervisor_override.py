"""What a workflow holds for a supervisor (a weight mismatch, an item not on the PO, an
over-receipt) is overridden by a supervisor's badge only: the packer's button, touch or
CMD:OVERRIDE alone asks for one and changes nothing."""

import pytest

from protocol.events import Receipt, Scan, Shipment
from tests.workflow_catalog import BOLT, WIDGET, events_of, run, scan, touch, weigh

SUPERVISORS = frozenset({"sue"})
HELD_PARCEL = [scan("OP:alice"), scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), weigh(400)]
HELD_RECEIPT = [scan("OP:rita"), scan("CMD:MODE:RECEIVE"), scan("PO:PO-7"), scan(BOLT)]
ASKS = [touch("override"), scan("CMD:OVERRIDE"), touch("confirm")]


@pytest.mark.parametrize("ask", ASKS, ids=["touch", "label", "button"])
def test_a_packer_alone_cannot_override_a_held_parcel(ask):
    state, outcomes = run([*HELD_PARCEL, ask, ask, scan("OP:alice")], supervisors=SUPERVISORS)
    assert [o.verdict.name for o in outcomes[-3:]] == [
        "supervisor_needed", "supervisor_needed", "not_a_supervisor"]  # fmt: skip
    assert not events_of(outcomes, Shipment)
    assert state.pack.phase == "held" and state.operator == "alice"


@pytest.mark.parametrize("ask", ASKS, ids=["touch", "label", "button"])
def test_a_supervisors_badge_carries_out_the_override(ask):
    state, outcomes = run([*HELD_PARCEL, ask, scan("OP:sue")], supervisors=SUPERVISORS)
    (shipment,) = events_of(outcomes, Shipment)
    assert shipment.weight_override and shipment.operator == "alice"
    assert state.operator == "alice"  # the supervisor approved; the packer goes on
    badge = events_of(outcomes, Scan)[-1]
    assert (badge.code, badge.verdict) == ("OP:sue", "ok")  # who approved, in the journal


def test_a_supervisor_at_the_bench_overrides_at_once():
    inputs = [scan("OP:sue"), *HELD_PARCEL[1:], touch("override")]
    _, outcomes = run(inputs, supervisors=SUPERVISORS)
    assert events_of(outcomes, Shipment)[0].weight_override


def test_without_supervisors_configured_nobody_overrides():
    _, outcomes = run([*HELD_PARCEL, touch("override"), scan("OP:sue")])
    assert outcomes[-1].verdict.name == "not_a_supervisor"
    assert not events_of(outcomes, Shipment)


def test_a_held_receipt_needs_a_supervisor_too():
    _, alone = run([*HELD_RECEIPT, scan("CMD:OVERRIDE")], supervisors=SUPERVISORS)
    assert alone[-1].verdict.name == "supervisor_needed" and not events_of(alone, Receipt)
    _, approved = run([*HELD_RECEIPT, scan("CMD:OVERRIDE"), scan("OP:sue")],
                      supervisors=SUPERVISORS)  # fmt: skip
    assert len(events_of(approved, Receipt)) == 1


def test_once_nothing_is_held_a_supervisors_badge_only_logs_in():
    inputs = [*HELD_PARCEL, touch("override"), scan("CMD:CANCEL"), scan("OP:sue")]
    state, outcomes = run(inputs, supervisors=SUPERVISORS)
    assert not events_of(outcomes, Shipment)
    assert state.operator == "sue" and not state.awaiting_supervisor
