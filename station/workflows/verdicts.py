"""Every kind of verdict the bench gives besides OK, each with what to do next.

The kiosk shows a verdict's next step under its message, in a few words. A workflow that
knows more (the SKU, the bin it came from, the weight expected) says it more exactly; the
step here is what holds when it does not. A kind missing from this table is a bug:
`base.verdict` refuses it, so a new kind cannot reach the screen without its next step.
"""

NEXT_STEPS: dict[str, str] = {
    # any mode
    "unknown_barcode": "Scan another barcode on it, or set it aside for a supervisor",
    "unreadable_barcode": "Scan it again; if it fails again, set it aside for a supervisor",
    "wrong_barcode": "Scan what the screen asks for",
    "wrong_command": "Use Done, Undo or Cancel, or switch mode first",
    "unknown_command": "Scan a command from the command sheet",
    "unknown_mode": "Scan a mode from the command sheet",
    "no_operator": "Scan your badge",
    "nothing_to_undo": "Carry on scanning",
    "nothing_to_override": "Carry on scanning",
    "supervisor_needed": "Ask a supervisor to scan their badge",
    "not_a_supervisor": "A supervisor scans their badge, or press Cancel",
    "no_weight": "Wait for a steady weight, then scan again",
    "nothing_on_scale": "Put the items on the scale, then scan one again",
    "no_unit_weight": "Scan a QTY label instead of weighing",
    "count_unclear": "Count them by hand, then scan a QTY label",
    "not_complete": "Scan what is still missing",
    "too_many": "Take the extra one out",
    "lot_required": "Scan the GS1 case label for the lot",
    "serial_required": "Scan the barcode with the serial number",
    "duplicate_serial": "Scan the next one's own serial",
    "unknown_reason": "Press one of the reasons on the screen",
    # the station itself
    "not_recorded": "Stop scanning and call a supervisor: the station cannot record",
    "journal_behind_hub": "Stop scanning: a supervisor restarts the station with a new journal",
    "identify": "Nothing to do: the hub is finding this bench",
    # pack
    "no_order": "Scan the order's pick ticket",
    "unknown_order": "Check the order number, or wait for the hub to send it",
    "order_closed": "Set the pick ticket aside and scan the next order",
    "order_in_progress": "Finish the open order, or press Cancel",
    "not_in_order": "Take it out of the parcel and put it back on its shelf",
    "expired_lot": "Set it aside as expired and take another",
    "wrong_lot": "Put it back and take the lot the order asks for",
    "weight_needed": "Put the parcel on the scale",
    "weight_mismatch": "Check the parcel and weigh again, or a supervisor overrides",
    "nothing_to_short": "Press Short on a line still open",
    # receive
    "no_po": "Scan the purchase order",
    "unknown_po": "Check the PO number, or wait for the hub to send it",
    "po_closed": "Set this delivery aside and call a supervisor",
    "not_on_po": "Set it aside: a supervisor overrides, or press Cancel",
    "over_receipt": "Set the extra aside: a supervisor overrides, or press Cancel",
    "po_incomplete": "Receive the rest, or close the PO short",
    # count, move, adjust
    "no_location": "Scan the location's label",
    "not_in_task": "Count only the product the task names",
    "no_task": "Scan a location to count it",
    "count_in_progress": "Press Done to submit the open count, or Cancel",
    "nothing_counted": "Scan what is there, then press Done",
    "same_location": "Scan the location it goes to",
    "one_product": "Finish this product first: scan where it goes",
    "mixed_lots": "Finish this lot first: scan where it goes",
    # returns
    "no_return": "Scan the returned order or its return label",
    "unknown_return": "Set the parcel aside for a supervisor",
    "return_in_progress": "Press Done or Cancel on the open return first",
    "serial_not_shipped": "Set it aside for a supervisor",
    "condition_needed": "Press Resellable, Damaged or Scrap",
    "nothing_pending": "Scan a returned item first",
    "unknown_condition": "Press Resellable, Damaged or Scrap",
    "nothing_returned": "Scan the returned items, or press Cancel",
    # assemble
    "not_a_kit": "Scan the kit's own barcode first",
    "not_in_kit": "Put it back: it is not part of this kit",
    "no_kit": "Scan the kit to build",
    "assembly_in_progress": "Press Done or Cancel on the open kit first",
}


def next_step(name: str, given: str | None = None) -> str | None:
    """What to do after a verdict `name`: `given` (a workflow's more exact words), else the
    table's step; OK needs none."""
    if name == "ok":
        return given
    if name not in NEXT_STEPS:
        raise ValueError(f"verdict {name!r} has no next step in station/workflows/verdicts.py")
    return given or NEXT_STEPS[name]
