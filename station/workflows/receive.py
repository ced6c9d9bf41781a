"""Receiving: operator, purchase order, then what arrives; each accepted scan is a receipt.

Items not on the PO, over-receipts beyond the tolerance and expired lots are held until a
supervisor overrides (or the receiver cancels): the goods are there, but someone decides.
"""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from protocol.events import PoClose, Receipt
from protocol.messages import PurchaseOrder
from station.barcodes import Command, Item, LotExpiry, Meaning, PurchaseOrderRef
from station.barcodes import Location as LocationCode
from station.workflows.base import Context, Label, Outcome, plural, verdict

CLOSED = ("received", "closed", "cancelled")


@dataclass(frozen=True)
class Held:
    """An item waiting for a supervisor (`reason`) or for its lot to be scanned."""

    item: Item
    reason: str  # not_on_po, over_receipt, expired_lot, lot_required


@dataclass(frozen=True)
class SetAside:
    """A held item the receiver dropped (Cancel): it stays on the dock, not in stock."""

    sku: str
    units: int
    reason: str  # not_on_po, over_receipt, expired_lot, lot_required


@dataclass(frozen=True)
class PoSummary:
    """What the receiver sees once a PO closes: received against ordered per SKU, and what
    was set aside."""

    po: str
    short: bool
    reason: str | None
    lines: tuple[tuple[str, int, int], ...]  # (sku, ordered, received)
    set_aside: tuple[SetAside, ...]


@dataclass(frozen=True)
class ReceiveState:
    po: str | None = None
    supplier: str | None = None
    ordered: tuple[tuple[str, int], ...] = ()  # (sku, qty) per PO line
    received: tuple[tuple[str, int], ...] = ()  # (sku, qty) received before and here
    costs: tuple[tuple[str, Decimal], ...] = ()  # unit cost per sku, when the PO names one
    location: str | None = None  # put-away location for the next receipts; None: the dock
    lot: LotExpiry | None = None  # scanned before its item
    held: Held | None = None
    set_aside: tuple[SetAside, ...] = ()
    closed: PoSummary | None = None  # the PO closed last, until the next one is scanned


def scan(state: ReceiveState, meaning: Meaning, ctx: Context) -> Outcome:
    if isinstance(meaning, PurchaseOrderRef):
        return _start_po(state, meaning.po, ctx)
    if isinstance(meaning, Command):
        return command(state, meaning.name, meaning.arg, ctx)
    if state.po is None:
        return _say(state, "no_po", "No purchase order is open")
    if isinstance(meaning, LocationCode):
        return _say(
            replace(state, location=meaning.location),
            "ok",
            f"Put away to {meaning.location}: scan the items",
        )
    if isinstance(meaning, LotExpiry):
        return _lot(state, meaning, ctx)
    if isinstance(meaning, Item):
        return _item(state, meaning, ctx)
    return _say(state, "wrong_barcode", "Not a receiving barcode",
                then="Scan a PO, an item or a location")  # fmt: skip


def command(state: ReceiveState, name: str, arg: str | None, ctx: Context) -> Outcome:
    if name == "override":
        return _override(state, ctx)
    if name in ("cancel", "undo"):
        return _cancel(state, name)
    if name == "done":
        return _done(state, ctx)
    if name == "short":
        return _close(state, ctx, short=True, reason=arg)
    return _say(state, "wrong_command", f"{name} means nothing when receiving")


# --- purchase orders ---------------------------------------------------------------------


def _start_po(state: ReceiveState, po_id: str, ctx: Context) -> Outcome:
    if ctx.operator is None:
        return _say(state, "no_operator", "No badge scanned")
    po = ctx.lookups.purchase_order(po_id)
    if po is None:
        return _say(state, "unknown_po", f"Purchase order {po_id} is not known here (yet)")
    if po.status in CLOSED:
        return _say(state, "po_closed", f"Purchase order {po_id} is {po.status}")
    new = ReceiveState(
        po=po.po,
        supplier=po.supplier,
        ordered=_per_sku((line.sku, line.qty) for line in po.lines),
        received=_per_sku((line.sku, line.received) for line in po.lines),
        costs=tuple((x.sku, x.unit_cost) for x in po.lines if x.unit_cost is not None),
    )
    return _say(new, "ok", f"PO {po.po}: {plural(len(po.lines), 'line')}")


def _per_sku(pairs) -> tuple[tuple[str, int], ...]:
    totals: dict[str, int] = {}
    for sku, qty in pairs:
        totals[sku] = totals.get(sku, 0) + qty
    return tuple(totals.items())


def _refresh_received(state: ReceiveState, po: PurchaseOrder | None) -> ReceiveState:
    # The hub's count may already include our receipts or not (offline): take the larger.
    if po is None:
        return state
    ours = dict(state.received)
    hub = dict(_per_sku((line.sku, line.received) for line in po.lines))
    return replace(
        state, received=tuple((sku, max(qty, hub.get(sku, 0))) for sku, qty in ours.items())
    )


# --- items -------------------------------------------------------------------------------


def _lot(state: ReceiveState, lot: LotExpiry, ctx: Context) -> Outcome:
    held = state.held
    if held is not None and held.reason == "lot_required":
        item = replace(
            held.item, lot=lot.lot or held.item.lot, expiry=lot.expiry or held.item.expiry
        )
        return _item(replace(state, held=None), item, ctx)
    return _say(replace(state, lot=lot), "ok", f"Lot {lot.lot or '-'}: now scan the item")


def _item(state: ReceiveState, item: Item, ctx: Context) -> Outcome:
    if state.lot is not None:
        item = replace(item, lot=item.lot or state.lot.lot, expiry=item.expiry or state.lot.expiry)
        state = replace(state, lot=None)
    state = _refresh_received(state, ctx.lookups.purchase_order(state.po))
    product = ctx.lookups.product(item.sku)
    if product is not None and product.lot_tracked and item.lot is None:
        return _hold(state, item, "lot_required", f"{item.sku} needs its lot", "attention")
    problem = _problem(state, item, ctx)
    if problem is not None:
        reason, message, then = problem
        return _hold(state, item, reason, message, then=then)
    return _receive(state, item, ctx, "ok")


def _problem(state: ReceiveState, item: Item, ctx: Context) -> tuple[str, str, str] | None:
    """Why the item waits for a supervisor: (verdict, message, next step), or None."""
    ordered = dict(state.ordered)
    decide = "a supervisor overrides, or press Cancel"
    if item.sku not in ordered:
        return ("not_on_po", f"{item.sku} is not on PO {state.po}",
                f"Set the {item.sku} aside: {decide}")  # fmt: skip
    if item.expiry is not None and item.expiry < ctx.lookups.today():
        return ("expired_lot", f"{item.sku} expired on {item.expiry}",
                f"Set the {item.sku} aside: {decide}")  # fmt: skip
    limit = ordered[item.sku] * (1 + ctx.settings.over_receipt_tolerance_pct / 100)
    after = dict(state.received).get(item.sku, 0) + item.units
    if after > limit:
        extra = after - ordered[item.sku]
        return ("over_receipt", f"{item.sku}: {after} of {ordered[item.sku]} ordered",
                f"Set the {extra} extra aside: {decide}")  # fmt: skip
    return None


def _hold(
    state: ReceiveState,
    item: Item,
    reason: str,
    message: str,
    pattern: str | None = None,
    then: str | None = None,
) -> Outcome:
    return _say(replace(state, held=Held(item, reason)), reason, message, pattern, then)


def _receive(state: ReceiveState, item: Item, ctx: Context, name: str, note: str = "") -> Outcome:
    location = state.location or ctx.settings.dock_location
    receipt = Receipt(
        sku=item.sku,
        qty=item.units,
        location=location,
        lot=item.lot,
        expiry=item.expiry,
        po=state.po,
        unit_cost=dict(state.costs).get(item.sku),
        operator=ctx.operator,
    )
    received = dict(state.received)
    received[item.sku] = received.get(item.sku, 0) + item.units
    new = replace(state, received=tuple(received.items()), held=None)
    label = Label("putaway", _label_fields(item, location, state.po, ctx))
    message = f"{item.units} × {item.sku} to {location}{note}"
    return Outcome(new, (receipt,), verdict(name, message), (label,))


def _label_fields(item: Item, location: str, po: str | None, ctx: Context) -> dict[str, str]:
    product = ctx.lookups.product(item.sku)
    return {
        "sku": item.sku,
        "name": product.name if product else "",
        "qty": str(item.units),
        "lot": item.lot or "",
        "expiry": _day(item.expiry),
        "location": location,
        "po": po or "",
    }


def _day(day: date | None) -> str:
    return day.isoformat() if day else ""


# --- commands ----------------------------------------------------------------------------


def _override(state: ReceiveState, ctx: Context) -> Outcome:
    held = state.held
    if held is None or held.reason == "lot_required":
        return _say(state, "nothing_to_override", "Nothing is waiting for a supervisor")
    return _receive(state, held.item, ctx, "ok", f" (supervisor: {held.reason})")


def _cancel(state: ReceiveState, name: str) -> Outcome:
    held = state.held
    if held is not None:
        aside = (*state.set_aside, SetAside(held.item.sku, held.item.units, held.reason))
        new = replace(state, held=None, lot=None, set_aside=aside)
        return _say(new, "ok", f"Dropped: set the {_what(held.item)} aside")
    if state.lot is not None:
        return _say(replace(state, lot=None), "ok", "Lot dropped")
    if name == "undo":
        return _say(state, "nothing_to_undo", "Receipts are already recorded",
                    then="Correct a receipt in adjust mode")  # fmt: skip
    if state.po is None:
        return _say(state, "no_po", "No purchase order is open")
    return _say(ReceiveState(), "ok", f"PO {state.po} left open")


def _done(state: ReceiveState, ctx: Context) -> Outcome:
    if state.po is None:
        return _say(state, "no_po", "No purchase order is open")
    received = dict(state.received)
    missing = sum(max(0, qty - received.get(sku, 0)) for sku, qty in state.ordered)
    if missing:
        return _say(state, "po_incomplete", f"{plural(missing, 'unit')} still expected")
    return _close(state, ctx, short=False, reason=None)


def _close(state: ReceiveState, ctx: Context, short: bool, reason: str | None) -> Outcome:
    if state.po is None:
        return _say(state, "no_po", "No purchase order is open")
    state = _refresh_received(state, ctx.lookups.purchase_order(state.po))
    event = PoClose(po=state.po, short=short, reason=reason, operator=ctx.operator)
    summary = _summary(state, short, reason)
    ordered = sum(qty for _, qty, _ in summary.lines)
    received = sum(qty for _, _, qty in summary.lines)
    message = f"PO {state.po} closed" + (f" short ({reason})" if short and reason else "")
    message += " short" if short and not reason else ""
    message += f": {received} of {plural(ordered, 'unit')} received"
    return Outcome(ReceiveState(closed=summary), (event,), verdict("ok", message, "complete"))


def _summary(state: ReceiveState, short: bool, reason: str | None) -> PoSummary:
    ordered, received = dict(state.ordered), dict(state.received)
    skus = [*ordered, *(sku for sku in received if sku not in ordered)]
    lines = tuple((sku, ordered.get(sku, 0), received.get(sku, 0)) for sku in skus)
    return PoSummary(state.po, short, reason, lines, state.set_aside)


def _what(item: Item) -> str:
    return item.sku if item.units == 1 else f"{item.units} × {item.sku}"


# --- view --------------------------------------------------------------------------------


def view(state: ReceiveState) -> dict:
    received = dict(state.received)
    return {
        "po_closed": None if state.closed is None else _summary_view(state.closed),
        "po": state.po,
        "supplier": state.supplier,
        "location": state.location,
        "held": None
        if state.held is None
        else {"sku": state.held.item.sku, "reason": state.held.reason},
        "lines": [
            {
                "sku": sku,
                "ordered": qty,
                "scanned": received.get(sku, 0),
                "done": received.get(sku, 0) >= qty,
            }
            for sku, qty in state.ordered
        ],
    }


def _summary_view(summary: PoSummary) -> dict:
    """The closed PO as the kiosk shows it: totals, the lines short or over, what was set
    aside."""
    lines = [{"sku": sku, "ordered": o, "received": r} for sku, o, r in summary.lines]
    return {
        "po": summary.po,
        "short": summary.short,
        "reason": summary.reason,
        "ordered": sum(x["ordered"] for x in lines),
        "received": sum(x["received"] for x in lines),
        "lines_short": [x for x in lines if x["received"] < x["ordered"]],
        "lines_over": [x for x in lines if x["received"] > x["ordered"]],
        "set_aside": [{"sku": x.sku, "units": x.units, "reason": x.reason}
                      for x in summary.set_aside],
    }  # fmt: skip


def _say(
    state: ReceiveState,
    name: str,
    message: str,
    pattern: str | None = None,
    then: str | None = None,
) -> Outcome:
    return Outcome(state, (), verdict(name, message, pattern, then))
