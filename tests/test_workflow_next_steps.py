"""Every verdict but OK says what to do next, in a few words, on the kiosk: each kind in
`station.workflows.verdicts.NEXT_STEPS` is brought about here by real inputs through the
bench (or the core) and its next step checked. A kind added to the table without a case
here fails `test_every_kind_of_verdict_has_a_case_here`; a kind a workflow gives without
an entry in the table fails its workflow's own tests (`verdict()` refuses it)."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from protocol.envelope import encode
from protocol.messages import Applied, CountTask, Order, OrderLine, Product
from protocol.topics import Topics
from station.cache import Cache
from station.core import Core
from station.inputs import HubMessage, Scanned
from station.ledger.journal import Journal
from station.snapshot import SnapshotBoard
from station.workflows import bench
from station.workflows.base import verdict
from station.workflows.verdicts import NEXT_STEPS
from tests.workflow_catalog import (
    BOLT,
    FEATHER,
    GADGET,
    KIT,
    PHONE,
    WIDGET,
    WIDGET_CASE,
    Catalog,
    gs1,
    run,
    scan,
    touch,
    weigh,
)

OP = scan("OP:alice")
RECEIVE = [OP, scan("CMD:MODE:RECEIVE")]
PO = [*RECEIVE, scan("PO:PO-7")]
COUNT = [OP, scan("CMD:MODE:COUNT")]
MOVE = [OP, scan("CMD:MODE:MOVE")]
ADJUST = [OP, scan("CMD:MODE:ADJUST")]
RETURNS = [OP, scan("CMD:MODE:RETURNS")]
RETURN = [*RETURNS, scan("ORD:SO-9")]
ASSEMBLE = [OP, scan("CMD:MODE:ASSEMBLE")]
SUPERVISED = {"supervisors": frozenset({"sue"})}


def catalog() -> Catalog:
    """The test catalog, with an order whose line names its bin and a count task."""
    found = Catalog(tasks=[CountTask(task="T-1", location="B-01", sku="WIDGET")])
    found.orders["SO-BIN"] = Order(order="SO-BIN", lines=[
        OrderLine(sku="WIDGET", qty=1, location="A-01-1"),
        OrderLine(sku="GADGET", qty=1, lot="L1", location="G-02-3")])  # fmt: skip
    found.products["MUG"] = Product(sku="MUG", name="Mug", unit_weight_g=Decimal(400))
    found.orders["SO-HEAVY"] = Order(order="SO-HEAVY", lines=[OrderLine(sku="MUG", qty=3)])
    return found


# kind -> (inputs, bench settings, the next step the kiosk shows)
CASES: dict[str, tuple[list, dict, str]] = {
    "unknown_barcode": ([OP, scan("0000000000017")], {},
                        "Scan another barcode on it, or set it aside for a supervisor"),
    "unreadable_barcode": ([OP, scan("SO\x00-1")], {},
                           "Scan it again; if it fails again, set it aside for a supervisor"),
    "wrong_barcode": ([OP, scan("PO:PO-7")], {}, "Scan an order or an item"),
    "wrong_command": ([OP, scan("CMD:REASON:LOST")], {},
                      "Use Done, Undo or Cancel, or switch mode first"),
    "unknown_command": ([OP, touch("frobnicate")], {}, "Scan a command from the command sheet"),
    "unknown_mode": ([OP, touch("mode", "juggle")], {},
                     "Scan one of pack, receive, count, move, adjust, returns, assemble"),
    "no_operator": ([scan("ORD:SO-1")], {}, "Scan your badge"),
    "nothing_to_undo": ([OP, scan("ORD:SO-1"), scan("CMD:UNDO")], {}, "Carry on scanning"),
    "nothing_to_override": ([OP, scan("ORD:SO-1"), scan("CMD:OVERRIDE")], SUPERVISED,
                            "Carry on scanning"),
    "supervisor_needed": ([OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), weigh(900),
                           scan("CMD:OVERRIDE")], SUPERVISED,
                          "Ask a supervisor to scan their badge"),
    "not_a_supervisor": ([OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), weigh(900),
                          scan("CMD:OVERRIDE"), scan("OP:bob")], SUPERVISED,
                         "A supervisor scans their badge, or press Cancel"),
    "no_weight": ([*PO, weigh(300, stable=False), scan("CMD:TARE")], {},
                  "Wait for a steady weight, then tare again"),
    "nothing_on_scale": ([*PO, weigh(0), scan("CMD:WEIGH"), scan(WIDGET)], {},
                         "Put the items on the scale, then scan one again"),
    "no_unit_weight": ([*PO, weigh(300), scan("CMD:WEIGH"), scan(FEATHER)], {},
                       "Scan a QTY label for the FEATHER instead"),
    "count_unclear": ([*PO, weigh(350), scan("CMD:WEIGH"), scan(WIDGET)], {},
                      "Count the WIDGET by hand, then scan a QTY label"),
    "not_complete": ([OP, scan("ORD:SO-1"), scan(WIDGET), scan("CMD:DONE")], {},
                     "Scan them, or press Short on a missing line"),
    "too_many": ([OP, scan("ORD:SO-BIN"), scan(WIDGET), scan(WIDGET)], {},
                 "Put the WIDGET back in A-01-1"),
    "lot_required": ([OP, scan("ORD:SO-2"), scan(GADGET)], {},
                     "Scan the GS1 case label for the lot"),
    "serial_required": ([OP, scan("ORD:SO-PHONE"), scan(PHONE)], {},
                        "Scan the barcode with the serial number"),
    "duplicate_serial": ([OP, scan("ORD:SO-PHONE"), gs1("01" + PHONE, "21S1"),
                          gs1("01" + PHONE, "21S1")], {}, "Scan the next PHONE's own serial"),
    "unknown_reason": ([*ADJUST, scan("LOC:A-1"), scan(WIDGET), touch("reason", "stolen")], {},
                       "Press one of damaged, lost, found, expired"),
    # pack
    "no_order": ([OP, scan(WIDGET)], {}, "Scan the order's pick ticket"),
    "unknown_order": ([OP, scan("ORD:SO-404")], {},
                      "Check the order number, or wait for the hub to send it"),
    "order_closed": ([OP, scan("ORD:SO-OLD")], {},
                     "Set the pick ticket aside and scan the next order"),
    "order_in_progress": ([OP, scan("ORD:SO-1"), scan(WIDGET), scan("ORD:SO-2")], {},
                          "Finish order SO-1, or press Cancel"),
    "not_in_order": ([OP, scan("ORD:SO-1"), scan(BOLT)], {},
                     "Take the BOLT out and put it back on its shelf"),
    "expired_lot": ([OP, scan("ORD:SO-2"), gs1("01" + GADGET, "17260101", "10L1")], {},
                    "Set this GADGET aside as expired and take another"),
    "wrong_lot": ([OP, scan("ORD:SO-BIN"), gs1("01" + GADGET, "10L2")], {},
                  "Put it back in G-02-3 and take lot L1"),
    "weight_needed": ([OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), scan("CMD:DONE")], {},
                      "Put the parcel on the scale"),
    "weight_mismatch": ([OP, scan("ORD:SO-HEAVY"), scan("QTY:3"), scan("MUG"), weigh(1100)],
                        {}, "Weigh again: expected 1.2 kg ± 60 g"),
    "nothing_to_short": ([OP, scan("ORD:SO-1"), touch("short", "BOLT:damaged")], {},
                         "Press Short on a line still open"),
    # receive
    "no_po": ([*RECEIVE, scan(WIDGET)], {}, "Scan the purchase order"),
    "unknown_po": ([*RECEIVE, scan("PO:PO-404")], {},
                   "Check the PO number, or wait for the hub to send it"),
    "po_closed": ([*RECEIVE, scan("PO:PO-DONE")], {},
                  "Set this delivery aside and call a supervisor"),
    "not_on_po": ([*PO, scan(BOLT)], {},
                  "Set the BOLT aside: a supervisor overrides, or press Cancel"),
    "over_receipt": ([*PO, scan("QTY:14"), scan(WIDGET)], {},
                     "Set the 2 extra aside: a supervisor overrides, or press Cancel"),
    "po_incomplete": ([*PO, scan(WIDGET), scan("CMD:DONE")], {},
                      "Receive the rest, or close the PO short"),
    # count, move, adjust
    "no_location": ([*COUNT, scan(WIDGET)], {}, "Scan the location's label"),
    "not_in_task": ([*COUNT, scan("LOC:B-01"), scan(BOLT)], {},
                    "Leave the BOLT: scan only WIDGET"),
    "no_task": ([*COUNT, scan("CMD:TASK:T-9")], {}, "Scan a location to count it"),
    "count_in_progress": ([*COUNT, scan("LOC:B-01"), scan(WIDGET), scan("LOC:C-01")], {},
                          "Press Done to submit the open count, or Cancel"),
    "nothing_counted": ([*COUNT, scan("LOC:C-01"), scan("CMD:DONE")], {},
                        "Scan what is there, then press Done"),
    "same_location": ([*MOVE, scan("LOC:A-1"), scan(WIDGET), scan("LOC:A-1")], {},
                      "Scan the location the WIDGET goes to"),
    "one_product": ([*MOVE, scan("LOC:A-1"), scan(WIDGET), scan(BOLT)], {},
                    "Finish the WIDGET first: scan more, or the location it goes to"),
    "mixed_lots": ([*MOVE, scan("LOC:A-1"), gs1("01" + GADGET, "10L1"),
                    gs1("01" + GADGET, "10L2")], {},
                   "Finish lot L1 first: scan more, or the location it goes to"),
    # returns
    "no_return": ([*RETURNS, scan(WIDGET)], {}, "Scan the returned order or its return label"),
    "unknown_return": ([*RETURNS, scan("ORD:SO-404")], {},
                       "Set the parcel aside for a supervisor"),
    "return_in_progress": ([*RETURN, scan(WIDGET), scan("ORD:SO-9")], {},
                           "Press Done or Cancel on the open return first"),
    "serial_not_shipped": ([*RETURN, gs1("01" + PHONE, "21SN-9")], {},
                           "Set it aside for a supervisor"),
    "condition_needed": ([*RETURN, scan(WIDGET), scan(WIDGET)], {},
                         "Press Resellable, Damaged or Scrap"),
    "nothing_pending": ([*RETURN, touch("condition", "damaged")], {},
                        "Scan a returned item first"),
    "unknown_condition": ([*RETURN, scan(WIDGET), touch("condition", "soggy")], {},
                          "Press Resellable, Damaged or Scrap"),
    "nothing_returned": ([*RETURN, scan("CMD:DONE")], {},
                         "Scan the returned items, or press Cancel"),
    # assemble
    "not_a_kit": ([*ASSEMBLE, scan(WIDGET)], {}, "Scan the kit's own barcode first"),
    "not_in_kit": ([*ASSEMBLE, scan(KIT), scan(PHONE)], {},
                   "Put the PHONE back: scan 2 × WIDGET, 1 × BOLT"),
    "no_kit": ([*ASSEMBLE, scan("CMD:DONE")], {}, "Scan the kit to build"),
    "assembly_in_progress": ([*ASSEMBLE, scan(KIT), scan("CMD:APART")], {},
                             "Press Done or Cancel on the open kit first"),
}  # fmt: skip

# Kinds the core gives, not the bench: each has its own test below.
FROM_THE_CORE = {"not_recorded", "journal_behind_hub", "identify"}


def test_every_kind_of_verdict_has_a_case_here():
    assert set(NEXT_STEPS) == set(CASES) | FROM_THE_CORE


def test_every_kind_of_verdict_is_in_the_docs_list():
    """docs/workflows.md names every verdict a scan can carry."""
    docs = (Path(__file__).parents[1] / "docs" / "workflows.md").read_text()
    listed = docs[docs.index("`scan.verdict` names:") :]
    listed = set(re.findall(r"`([a-z_]+)`", listed[: listed.index("\n- ")]))
    assert set(NEXT_STEPS) - FROM_THE_CORE <= listed


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_verdict_says_what_to_do_next(kind):
    inputs, settings, step = CASES[kind]
    state, outcomes = run(inputs, catalog(), **settings)
    said = outcomes[-1].verdict
    assert (said.name, said.next_step) == (kind, step)
    shown = bench.view(state)["verdict"]
    assert shown["next_step"] == step


def test_ok_needs_no_next_step_and_a_kind_without_one_is_refused():
    _, outcomes = run([OP, scan("ORD:SO-1"), scan(WIDGET)])
    assert outcomes[-1].verdict.next_step is None
    with pytest.raises(ValueError, match="no next step"):
        verdict("brand_new_kind", "Something went wrong")


def test_a_case_barcode_too_many_says_how_many_to_take_out():
    _, outcomes = run([OP, scan("ORD:SO-1"), scan(WIDGET_CASE)])
    assert outcomes[-1].verdict.next_step == "Take the 6 × WIDGET out of the parcel"


# --- the core's own verdicts ------------------------------------------------------------

TOPICS = Topics("s1")


@pytest.fixture
def core(tmp_path):
    journal = Journal(tmp_path / "journal.db", "pack-1")
    cache = Cache(tmp_path / "cache.db", TOPICS, "pack-1")
    yield Core(bench.BenchSettings(station="pack-1"), journal, cache, TOPICS, SnapshotBoard())
    journal.close()


def shown(core) -> dict:
    return core.board.latest()[1]["verdict"]


def test_a_scan_not_recorded_says_to_stop_and_call_a_supervisor(core):
    core.journal.db.execute("PRAGMA query_only = ON")
    core.handle(Scanned("OP:alice"))
    assert (shown(core)["name"], shown(core)["next_step"]) == (
        "not_recorded", "Stop scanning and call a supervisor: the station cannot record")


def test_a_journal_behind_the_hub_says_a_supervisor_restarts_the_station(core):
    applied = Applied(epoch=core.journal.epoch, seq=5)
    core.handle(HubMessage(TOPICS.applied("pack-1"), encode(applied), True))
    assert (shown(core)["name"], shown(core)["next_step"]) == (
        "journal_behind_hub",
        "Stop scanning: a supervisor restarts the station with a new journal")


def test_identify_says_there_is_nothing_to_do(core):
    core.handle(HubMessage(TOPICS.command("pack-1", "identify"), b"", False))
    assert (shown(core)["name"], shown(core)["next_step"]) == (
        "identify", "Nothing to do: the hub is finding this bench")
