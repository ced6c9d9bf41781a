"""The bench's push button (`Touch("confirm")`): the override while something waits for a
supervisor, otherwise Done."""

from protocol.events import Count, Receipt, Shipment
from tests.workflow_catalog import WIDGET, events_of, run, scan, touch, weigh


def test_confirm_overrides_a_held_parcel_weight():
    inputs = [scan("OP:alice"), scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), weigh(400)]
    _, outcomes = run([*inputs, touch("confirm"), scan("OP:sue")], supervisors=frozenset({"sue"}))
    assert outcomes[-3].verdict.name == "weight_mismatch"
    (shipment,) = events_of(outcomes, Shipment)
    assert shipment.weight_override is True


def test_confirm_accepts_a_held_over_receipt():
    start = [scan("OP:rita"), scan("CMD:MODE:RECEIVE"), scan("PO:PO-7")]
    held = [*start, scan("QTY:13"), scan(WIDGET)]
    _, outcomes = run([*held, touch("confirm"), scan("OP:sue")], supervisors=frozenset({"sue"}))
    assert outcomes[-3].verdict.name == "over_receipt"
    assert [r.qty for r in events_of(outcomes, Receipt)] == [13]


def test_confirm_is_done_when_nothing_is_held():
    inputs = [scan("OP:carl"), scan("CMD:MODE:COUNT"), scan("LOC:A-1"), scan(WIDGET)]
    _, outcomes = run([*inputs, touch("confirm")])
    assert [(c.location, c.sku, c.counted) for c in events_of(outcomes, Count)] == [
        ("A-1", "WIDGET", 1)
    ]
