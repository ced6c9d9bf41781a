"""Customer returns at the dock: the returned order (or RMA label), then each item, its
condition (resellable, damaged, scrap) and a reason code; Done books the `return` event.

What may come back is what the hub says was shipped (`Returnable`, cached from
returnable/{id}): an item not on it, more than was shipped, a lot or serial never shipped
on it, is caught as in receiving: an item not on the order or beyond what was shipped is
held until a supervisor overrides (the customer did send it) or the receiver drops it; a
lot or serial never shipped on the order is refused. Each item is told where it goes:
resellable back to where it was picked (or the returns bin), damaged to quarantine, scrap
written off.
"""

from collections import Counter
from dataclasses import dataclass, replace

import msgspec

from protocol.labels import CONDITIONS
from protocol.returns import Return, Returnable, ReturnableLine, ReturnLine
from station.barcodes import Command, Item, Meaning, OrderRef, ReturnRef
from station.workflows.base import Context, Outcome, plural, verdict


@dataclass(frozen=True)
class Received:
    """One scanned item, judged: its condition, reason and where it went."""

    sku: str
    units: int
    lot: str | None
    serial: str | None
    condition: str
    reason: str
    location: str


@dataclass(frozen=True)
class ReturnsState:
    returnable: Returnable | None = None
    items: tuple[Received, ...] = ()
    pending: Item | None = None  # scanned, waiting for its condition and reason
    condition: str | None = None  # the pending item's condition, waiting for a reason
    held: Item | None = None  # not on the order or too many: waits for a supervisor


def scan(state: ReturnsState, meaning: Meaning, ctx: Context) -> Outcome:
    if isinstance(meaning, ReturnRef):
        return _start(state, meaning.rma, ctx)
    if isinstance(meaning, OrderRef):
        return _start(state, meaning.order, ctx)
    if isinstance(meaning, Item):
        return _item(state, meaning, ctx)
    if isinstance(meaning, Command):
        return command(state, meaning.name, meaning.arg, ctx)
    return _say(state, "wrong_barcode", "Not a returns barcode",
                then="Scan the returned order or its return label")  # fmt: skip


def command(state: ReturnsState, name: str, arg: str | None, ctx: Context) -> Outcome:
    if name == "condition":
        return _condition(state, arg)
    if name == "return":
        return _reason(state, arg, ctx)
    handlers = {"done": _done, "undo": _undo, "cancel": _cancel, "override": _override}
    if name in handlers:
        return handlers[name](state, ctx)
    return _say(state, "wrong_command", f"{name} means nothing when taking returns")


# --- the return --------------------------------------------------------------------------


def _start(state: ReturnsState, ref: str, ctx: Context) -> Outcome:
    if ctx.operator is None:
        return _say(state, "no_operator", "No badge scanned")
    if state.returnable is not None and (state.items or state.pending):
        return _say(state, "return_in_progress", f"The return of {_name(state)} is still open")
    found = ctx.lookups.returnable(ref)
    if found is None:
        return _say(state, "unknown_return", f"Nothing may come back against {ref}")
    units = sum(line.qty for line in found.lines)
    new = ReturnsState(returnable=found)
    return _say(new, "ok", f"Return of {_name(new)}: up to {plural(units, 'item')}",
                then="Scan each item")  # fmt: skip


def _item(state: ReturnsState, item: Item, ctx: Context) -> Outcome:
    if state.returnable is None:
        return _say(state, "no_return", "No return is open")
    if state.pending is not None:
        return _condition_needed(state)
    line = next((x for x in state.returnable.lines if x.sku == item.sku), None)
    if line is None:
        return _hold(state, item, "not_in_order", f"{item.sku} was not shipped on {_name(state)}")
    problem = _check(state, line, item, ctx)
    if problem is not None:
        return problem
    new = replace(state, pending=item, condition=None, held=None)
    return _say(new, "ok", _ask(new), "attention")


def _hold(state: ReturnsState, item: Item, name: str, message: str) -> Outcome:
    held = replace(state, held=item)
    return _say(held, name, message,
                then="A supervisor overrides to take it back, or Undo sets it aside")  # fmt: skip


def _override(state: ReturnsState, ctx: Context) -> Outcome:
    if state.held is None:
        return _say(state, "nothing_to_override", "Nothing is waiting for a supervisor")
    new = replace(state, pending=state.held, condition=None, held=None)
    return _say(new, "ok", f"Taken back (supervisor). {_ask(new)}", "attention")


def _check(state: ReturnsState, line: ReturnableLine, item: Item, ctx: Context) -> Outcome | None:
    """Why this item cannot be taken back against the order, or None."""
    product = ctx.lookups.product(item.sku)
    if line.lots and item.lot is None and product is not None and product.lot_tracked:
        return _say(state, "lot_required", f"{item.sku} needs its lot")
    if item.lot is not None and line.lots and item.lot not in line.lots:
        return _say(state, "wrong_lot", f"Lot {item.lot} was never shipped on {_name(state)}",
                    then="Set it aside for a supervisor")  # fmt: skip
    if product is not None and product.serial_tracked and item.serial is None:
        return _say(state, "serial_required", f"{item.sku} needs its serial number")
    serials_shipped = bool(line.serials) or (product is not None and product.serial_tracked)
    if item.serial is not None and serials_shipped:
        if item.serial not in line.serials:
            return _say(state, "serial_not_shipped",
                        f"Serial {item.serial} was never shipped on {_name(state)}")  # fmt: skip
        if any(r.serial == item.serial for r in state.items):
            return _say(state, "duplicate_serial", f"Serial {item.serial} is already back",
                        then="Set it aside for a supervisor")  # fmt: skip
    back = _returned(state)
    if back[item.sku, None] + item.units > line.qty:
        return _hold(state, item, "too_many", f"More {item.sku} than may come back: {line.qty}")
    if item.lot is not None and back[item.sku, item.lot] + item.units > line.lots.get(item.lot, 0):
        return _hold(state, item, "too_many", f"More of lot {item.lot} than were shipped")
    return None


def _returned(state: ReturnsState) -> Counter:
    """Units taken back so far, per (sku, None) and per (sku, lot)."""
    back: Counter = Counter()
    for r in state.items:
        back[r.sku, None] += r.units
        if r.lot is not None:
            back[r.sku, r.lot] += r.units
    return back


def _condition(state: ReturnsState, condition: str | None) -> Outcome:
    if state.pending is None:
        return _say(state, "nothing_pending", "Scan a returned item first")
    if condition not in CONDITIONS:
        return _say(state, "unknown_condition", f"No condition {condition}")
    new = replace(state, condition=condition)
    return _say(new, "ok", _ask(new), "attention")


def _reason(state: ReturnsState, reason: str | None, ctx: Context) -> Outcome:
    if state.pending is None or state.condition is None:
        return _condition_needed(state)
    reasons = ctx.settings.return_reasons
    if reason not in reasons:
        return _say(state, "unknown_reason", f"No reason {reason}")
    item = state.pending
    where = _destination(state, item.sku, state.condition, ctx)
    received = Received(item.sku, item.units, item.lot, item.serial, state.condition, reason,
                        where)  # fmt: skip
    new = replace(state, items=(*state.items, received), pending=None, condition=None)
    return _say(new, "ok", _told(received, ctx))


def _destination(state: ReturnsState, sku: str, condition: str, ctx: Context) -> str:
    settings = ctx.settings
    if condition == "damaged":
        return settings.quarantine_location
    if condition == "scrap":
        return settings.dock_location
    line = next((x for x in state.returnable.lines if x.sku == sku), None)
    picked = line.location if line is not None else None  # not shipped on it: no bin known
    return settings.returns_location or picked or settings.dock_location


def _told(received: Received, ctx: Context) -> str:
    what = f"{received.units} × {received.sku}"
    if received.condition == "scrap":
        return f"{what}: scrap, written off: into the scrap bin"
    if received.condition == "damaged":
        return f"{what}: damaged: to quarantine {received.location}"
    return f"{what}: resellable: put it back in {received.location}"


def _condition_needed(state: ReturnsState) -> Outcome:
    if state.pending is None:
        return _say(state, "condition_needed", _ask(state), "attention", "Scan a returned item")
    then = None if state.condition is None else "Press the reason it came back"
    return _say(state, "condition_needed", _ask(state), "attention", then)


def _ask(state: ReturnsState) -> str:
    item = state.pending
    if item is None:
        return "Scan a returned item"
    if state.condition is None:
        return f"{item.sku}: resellable, damaged or scrap?"
    return f"{item.sku} {state.condition}: why was it returned?"


# --- commands ----------------------------------------------------------------------------


def _done(state: ReturnsState, ctx: Context) -> Outcome:
    if state.returnable is None:
        return _say(state, "no_return", "No return is open")
    if state.pending is not None:
        return _condition_needed(state)
    if not state.items:
        return _say(state, "nothing_returned", "Nothing scanned yet")
    event = Return(order=state.returnable.order, rma=state.returnable.rma,
                   lines=return_lines(state.items), operator=ctx.operator)  # fmt: skip
    units = sum(r.units for r in state.items)
    message = f"Return of {_name(state)} booked: {plural(units, 'item')}"
    return Outcome(ReturnsState(), (event,), verdict("ok", message, "complete"))


def return_lines(items: tuple[Received, ...]) -> list[ReturnLine]:
    """One line per product, lot, condition, reason and place, with its serials."""
    groups: dict[tuple, ReturnLine] = {}
    for r in items:
        key = (r.sku, r.lot, r.condition, r.reason, r.location)
        line = groups.get(key) or ReturnLine(
            sku=r.sku,
            qty=r.units,
            condition=r.condition,
            reason=r.reason,
            location=r.location,
            lot=r.lot,
        )
        if key in groups:
            line = msgspec.structs.replace(line, qty=line.qty + r.units)
        if r.serial:
            line = msgspec.structs.replace(line, serials=[*line.serials, r.serial])
        groups[key] = line
    return list(groups.values())


def _undo(state: ReturnsState, ctx: Context) -> Outcome:
    if state.held is not None:
        return _say(replace(state, held=None), "ok", f"Dropped: set the {state.held.sku} aside")
    if state.pending is not None:
        return _say(replace(state, pending=None, condition=None), "ok",
                    f"Undone: {state.pending.sku}")  # fmt: skip
    if not state.items:
        return _say(state, "nothing_to_undo", "Nothing to undo")
    last = state.items[-1]
    return _say(replace(state, items=state.items[:-1]), "ok", f"Undone: {last.sku}")


def _cancel(state: ReturnsState, ctx: Context) -> Outcome:
    if state.returnable is None:
        return _say(state, "no_return", "No return is open")
    return _say(ReturnsState(), "ok", f"Return of {_name(state)} put aside")


# --- view --------------------------------------------------------------------------------


def view(state: ReturnsState) -> dict:
    found = state.returnable
    back = _returned(state)
    return {
        "order": found.order if found else None,
        "customer": found.customer if found else None,
        "rma": found.rma if found else None,
        "prompt": _ask(state) if found else "Scan the returned order or its return label",
        "pending": state.pending.sku if state.pending else None,
        "held": {"sku": state.held.sku, "reason": "not on the order or too many"}
        if state.held
        else None,
        "condition": state.condition,
        "lines": [
            {"sku": line.sku, "ordered": line.qty, "scanned": back[line.sku, None],
             "location": line.location, "done": back[line.sku, None] >= line.qty}
            for line in (found.lines if found else [])
        ],
        "returned": [
            {"sku": r.sku, "units": r.units, "condition": r.condition, "reason": r.reason,
             "location": r.location}
            for r in state.items
        ],
    }  # fmt: skip


def _name(state: ReturnsState) -> str:
    found = state.returnable
    if found is None:
        return "the return"
    return f"RMA {found.rma} (order {found.order})" if found.rma else f"order {found.order}"


def _say(
    state: ReturnsState,
    name: str,
    message: str,
    pattern: str | None = None,
    then: str | None = None,
) -> Outcome:
    return Outcome(state, (), verdict(name, message, pattern, then))
