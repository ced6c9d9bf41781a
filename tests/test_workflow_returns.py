"""Customer returns through `bench.handle`: the order or RMA, each item's checks against
what was shipped, its condition and reason, where it goes, and the `return` event."""

import pytest

from protocol.events import Scan
from protocol.returns import Return
from tests.workflow_catalog import BOLT, GADGET, PHONE, WIDGET, events_of, gs1, run, scan, touch

OP = scan("OP:rita")
MODE = scan("CMD:MODE:RETURNS")
SO9 = [OP, MODE, scan("ORD:SO-9")]


def phone(serial: str):
    return gs1("01" + PHONE, "21" + serial)


def gadget(lot: str):
    return gs1("01" + GADGET, "10" + lot)


VERDICTS = [
    ("no_operator", [MODE, scan("ORD:SO-9")], "no_operator"),
    ("no_return", [OP, MODE, scan(WIDGET)], "no_return"),
    ("unknown_return", [OP, MODE, scan("ORD:SO-1")], "unknown_return"),
    ("not_in_order", [*SO9, scan(BOLT)], "not_in_order"),
    ("too_many", [*SO9, scan("QTY:4"), scan(WIDGET)], "too_many"),
    ("lot_required", [*SO9, scan(GADGET)], "lot_required"),
    ("wrong_lot", [*SO9, gadget("L2")], "wrong_lot"),
    ("serial_required", [*SO9, scan(PHONE)], "serial_required"),
    ("serial_not_shipped", [*SO9, phone("SN-9")], "serial_not_shipped"),
    ("duplicate_serial",
     [*SO9, phone("SN-1"), scan("CMD:CONDITION:RESELLABLE"), scan("CMD:RETURN:NOT_WANTED"),
      phone("SN-1")], "duplicate_serial"),
    ("condition_needed", [*SO9, scan(WIDGET), scan(WIDGET)], "condition_needed"),
    ("reason_before_condition", [*SO9, scan(WIDGET), scan("CMD:RETURN:DEFECTIVE")],
     "condition_needed"),
    ("nothing_pending", [*SO9, scan("CMD:CONDITION:SCRAP")], "nothing_pending"),
    ("unknown_reason", [*SO9, scan(WIDGET), touch("condition", "damaged"),
                        touch("return", "too_big")], "unknown_reason"),
    ("nothing_returned", [*SO9, scan("CMD:DONE")], "nothing_returned"),
    ("open_condition_blocks_done", [*SO9, scan(WIDGET), scan("CMD:DONE")], "condition_needed"),
    ("return_in_progress", [*SO9, scan(WIDGET), scan("RMA:R-100")], "return_in_progress"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "inputs", "expected"), VERDICTS, ids=[v[0] for v in VERDICTS])
def test_workflow_returns_verdicts(name, inputs, expected):
    _, outcomes = run(inputs)
    assert outcomes[-1].verdict.name == expected
    assert not events_of(outcomes, Return)


def test_each_item_is_told_where_it_goes_and_done_books_the_return():
    state, outcomes = run([
        *SO9,
        scan("QTY:2"), scan(WIDGET), touch("condition", "resellable"), touch("return", "not_wanted"),
        gadget("L1"), scan("CMD:CONDITION:DAMAGED"), scan("CMD:RETURN:DEFECTIVE"),
        phone("SN-2"), scan("CMD:CONDITION:SCRAP"), scan("CMD:RETURN:DAMAGED_IN_TRANSIT"),
        scan(WIDGET), scan("CMD:CONDITION:RESELLABLE"), scan("CMD:RETURN:NOT_WANTED"),
        scan("CMD:DONE"),
    ], dock_location="DOCK", quarantine_location="Q-1")  # fmt: skip
    said = [o.verdict.message for o in outcomes if o.verdict.name == "ok"]
    assert "2 × WIDGET: resellable: put it back in W-1" in said
    assert "1 × GADGET: damaged: to quarantine Q-1" in said
    assert "1 × PHONE: scrap, written off: into the scrap bin" in said
    assert outcomes[-1].verdict.pattern == "complete"
    (event,) = events_of(outcomes, Return)
    assert (event.order, event.rma, event.operator) == ("SO-9", None, "rita")
    assert [(x.sku, x.qty, x.condition, x.reason, x.location, x.lot, x.serials)
            for x in event.lines] == [
        ("WIDGET", 3, "resellable", "not_wanted", "W-1", None, []),
        ("GADGET", 1, "damaged", "defective", "Q-1", "L1", []),
        ("PHONE", 1, "scrap", "damaged_in_transit", "DOCK", None, ["SN-2"]),
    ]  # fmt: skip
    # Every scan is reported in returns mode against the order.
    scans = events_of(outcomes, Scan)
    assert {s.mode for s in scans[2:]} == {"returns"} and scans[-1].order == "SO-9"
    assert state.returns.returnable is None


def test_a_return_label_limits_the_return_to_its_rma_and_a_returns_bin_takes_resellables():
    _, outcomes = run([
        OP, MODE, scan("RMA:R-100"), scan(WIDGET), touch("condition", "resellable"),
        touch("return", "wrong_item"), scan(GADGET), scan("CMD:DONE"),
    ], returns_location="RET-1")  # fmt: skip
    assert outcomes[-2].verdict.name == "not_in_order"
    (event,) = events_of(outcomes, Return)
    assert (event.order, event.rma) == ("SO-9", "R-100")
    assert [(x.sku, x.location) for x in event.lines] == [("WIDGET", "RET-1")]


def test_undo_takes_back_the_pending_item_then_the_last_one_judged():
    state, outcomes = run([*SO9, scan(WIDGET), touch("condition", "scrap"),
                           touch("return", "other"), scan(WIDGET), scan("CMD:UNDO")])  # fmt: skip
    assert state.returns.pending is None and len(state.returns.items) == 1
    state, _ = run([*SO9, scan(WIDGET), touch("condition", "scrap"), touch("return", "other"),
                    scan("CMD:UNDO")])  # fmt: skip
    assert state.returns.items == ()


def test_reason_codes_come_from_the_config():
    _, outcomes = run([*SO9, scan(WIDGET), touch("condition", "resellable"),
                       touch("return", "too_big")], return_reasons=("too_big",))  # fmt: skip
    assert outcomes[-1].verdict.name == "ok"


def test_an_item_not_shipped_or_one_too_many_waits_for_a_supervisor_as_in_receiving():
    # The packer asks (confirm), a supervisor's badge carries it out.
    state, outcomes = run([*SO9, scan(BOLT), touch("confirm"), scan("OP:sue"),
                           scan("CMD:CONDITION:RESELLABLE"), scan("CMD:RETURN:WRONG_ITEM"),
                           scan("QTY:4"), scan(WIDGET), scan("CMD:UNDO"), scan("CMD:DONE")],
                          returns_location="RET-1", supervisors=frozenset({"sue"}))  # fmt: skip
    names = [o.verdict.name for o in outcomes[3:]]
    assert names == ["not_in_order", "supervisor_needed", "ok", "ok", "ok", "ok", "too_many",
                     "ok", "ok"]  # fmt: skip
    assert "Taken back (supervisor)" in outcomes[5].verdict.message
    (event,) = events_of(outcomes, Return)
    # The bolt was never shipped on SO-9: it has no bin of its own, so the returns bin.
    assert [(x.sku, x.qty, x.condition, x.location) for x in event.lines] == [
        ("BOLT", 1, "resellable", "RET-1")]  # fmt: skip


def test_nothing_held_means_nothing_to_override():
    _, outcomes = run([*SO9, scan("CMD:OVERRIDE")])
    assert outcomes[-1].verdict.name == "nothing_to_override"
