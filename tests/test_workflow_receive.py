"""Receiving through `bench.handle`: quantities, lots, put-away, supervisor holds, closing."""

from datetime import date
from decimal import Decimal

import pytest

from protocol.events import PoClose, Receipt, Scan
from protocol.messages import PurchaseOrder, PurchaseOrderLine
from station.workflows import bench
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

START = [scan("OP:rita"), scan("CMD:MODE:RECEIVE"), scan("PO:PO-7")]

VERDICTS = [
    ("ok", [*START, scan(WIDGET)], "ok"),
    ("no_operator", [scan("CMD:MODE:RECEIVE"), scan("PO:PO-7")], "no_operator"),
    ("no_po", [scan("OP:rita"), scan("CMD:MODE:RECEIVE"), scan(WIDGET)], "no_po"),
    ("unknown_po", [*START[:2], scan("PO:PO-404")], "unknown_po"),
    ("po_closed", [*START[:2], scan("PO:PO-DONE")], "po_closed"),
    ("not_on_po", [*START, scan(BOLT)], "not_on_po"),
    ("over_receipt", [*START, scan("QTY:13"), scan(WIDGET)], "over_receipt"),
    ("expired_lot", [*START, gs1("01" + GADGET, "17260101", "10L1")], "expired_lot"),
    ("lot_required", [*START, scan(GADGET)], "lot_required"),
    ("po_incomplete", [*START, scan(WIDGET), scan("CMD:DONE")], "po_incomplete"),
    ("nothing_to_override", [*START, touch("override")], "nothing_to_override"),
    ("nothing_to_undo", [*START, scan(WIDGET), scan("CMD:UNDO")], "nothing_to_undo"),
    ("wrong_barcode", [*START, scan("ORD:SO-1")], "wrong_barcode"),
    ("unknown_barcode", [*START, scan("LOC:bad code")], "unknown_barcode"),
]


@pytest.mark.parametrize(
    ("inputs", "expected"), [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS]
)
def test_workflow_receive_verdicts(inputs, expected):
    _, outcomes = run(inputs)
    assert outcomes[-1].verdict.name == expected


def test_workflow_receive_item_goes_to_dock_with_putaway_label():
    _, outcomes = run([*START, scan(WIDGET)])
    (receipt,) = events_of(outcomes, Receipt)
    assert (receipt.sku, receipt.qty, receipt.location, receipt.po) == ("WIDGET", 1, "DOCK", "PO-7")
    assert receipt.unit_cost == Decimal("1.50") and receipt.operator == "rita"
    (label,) = outcomes[-1].labels
    assert label.kind == "putaway"
    assert (label.fields["sku"], label.fields["qty"], label.fields["location"]) == (
        "WIDGET",
        "1",
        "DOCK",
    )
    scans = events_of(outcomes, Scan)
    assert scans[-1].po == "PO-7" and scans[-1].mode == "receive"


def test_workflow_receive_scanned_location_is_the_putaway_target():
    _, outcomes = run([*START, scan("LOC:A-03-2"), scan(WIDGET), scan(WIDGET)])
    assert [r.location for r in events_of(outcomes, Receipt)] == ["A-03-2", "A-03-2"]


@pytest.mark.parametrize(
    ("inputs", "units"),
    [
        ([scan(WIDGET_CASE)], 6),
        ([scan("QTY:5"), scan(WIDGET)], 5),
        ([gs1("02" + WIDGET, "3710")], 10),
        ([weigh(200), scan("CMD:TARE"), weigh(900), scan("CMD:WEIGH"), scan(WIDGET)], 7),
    ],
    ids=["case_gtin", "quantity_label", "gs1_count", "count_by_weight"],
)
def test_workflow_receive_quantity_sources(inputs, units):
    _, outcomes = run([*START, *inputs])
    (receipt,) = events_of(outcomes, Receipt)
    assert receipt.qty == units


@pytest.mark.parametrize(
    "inputs",
    [
        [gs1("01" + GADGET, "17270131", "10L9")],
        [gs1("17270131", "10L9"), scan(GADGET)],
        [scan(GADGET), gs1("17270131", "10L9")],
    ],
    ids=["in_the_gs1_code", "scanned_before", "scanned_after"],
)
def test_workflow_receive_lot_and_expiry(inputs):
    _, outcomes = run([*START, *inputs])
    (receipt,) = events_of(outcomes, Receipt)
    assert (receipt.lot, receipt.expiry) == ("L9", date(2027, 1, 31))


@pytest.mark.parametrize(
    ("held", "override"),
    [
        ([scan(BOLT)], scan("CMD:OVERRIDE")),
        ([scan("QTY:13"), scan(WIDGET)], touch("override")),
    ],
    ids=["not_on_po", "over_receipt"],
)
def test_workflow_receive_supervisor_accepts_held_item(held, override):
    _, before = run([*START, *held])
    assert not events_of(before, Receipt)
    _, outcomes = run([*START, *held, override, scan("OP:sue")], supervisors=frozenset({"sue"}))
    assert len(events_of(outcomes, Receipt)) == 1
    assert "supervisor" in outcomes[-1].verdict.message


def test_workflow_receive_cancel_drops_held_item():
    state, outcomes = run([*START, scan(BOLT), scan("CMD:CANCEL"), touch("override")])
    assert outcomes[-1].verdict.name == "nothing_to_override"
    assert not events_of(outcomes, Receipt)


def test_workflow_receive_over_receipt_within_tolerance_passes():
    _, outcomes = run([*START, scan("QTY:13"), scan(WIDGET)], over_receipt_tolerance_pct=10.0)
    assert outcomes[-1].verdict.name == "ok"


def test_workflow_receive_close_short_with_reason():
    _, outcomes = run([*START, scan(WIDGET), scan("CMD:SHORT:supplier_short")])
    (close,) = events_of(outcomes, PoClose)
    assert (close.po, close.short, close.reason, close.operator) == (
        "PO-7",
        True,
        "supplier_short",
        "rita",
    )


def test_workflow_receive_done_when_all_arrived_closes_po():
    inputs = [*START, scan("QTY:12"), scan(WIDGET), scan("QTY:5"), gs1("01" + GADGET, "10L1")]
    _, outcomes = run([*inputs, scan("CMD:DONE")])
    (close,) = events_of(outcomes, PoClose)
    assert not close.short
    assert outcomes[-1].verdict.pattern == "complete"


def test_workflow_receive_closing_a_po_shows_received_against_ordered_short_over_and_set_aside():
    inputs = [
        *START,
        scan("QTY:12"), scan(WIDGET),  # all 12 ordered
        scan(BOLT), touch("cancel"),  # not on the PO: set aside
        gs1("01" + GADGET, "17270131", "10L9"), gs1("01" + GADGET, "17270131", "10L9"),
        scan(BOLT), touch("override"), scan("OP:sue"),  # a supervisor takes one BOLT in
        scan("CMD:SHORT:damaged"),
    ]  # fmt: skip
    state, outcomes = run(inputs, supervisors=frozenset({"sue"}))
    said = outcomes[-1].verdict
    assert said.pattern == "complete"
    assert said.message == "PO PO-7 closed short (damaged): 15 of 17 units received"
    shown = bench.view(state)
    assert shown["po"] is None
    assert shown["po_closed"] == {
        "po": "PO-7", "short": True, "reason": "damaged", "ordered": 17, "received": 15,
        "lines_short": [{"sku": "GADGET", "ordered": 5, "received": 2}],
        "lines_over": [{"sku": "BOLT", "ordered": 0, "received": 1}],
        "set_aside": [{"sku": "BOLT", "units": 1, "reason": "not_on_po"}],
    }  # fmt: skip
    state, _ = run([*inputs, scan("PO:PO-7")], supervisors=frozenset({"sue"}))
    assert bench.view(state)["po_closed"] is None  # the next PO starts afresh


def test_workflow_receive_one_line_reads_as_one():
    _, outcomes = run([*START[:2], scan("PO:PO-ONE")], catalog=_one_line())
    assert outcomes[-1].verdict.message == "PO PO-ONE: 1 line"


def _one_line() -> Catalog:
    catalog = Catalog()
    catalog.pos["PO-ONE"] = PurchaseOrder(po="PO-ONE", lines=[PurchaseOrderLine(sku="BOLT", qty=1)])
    return catalog
