"""Moves and adjustments: a location, one product (and quantity), then where it went or why.

Move: from-location, item(s), to-location -> `Move`.
Adjust: location, item(s), reason (damaged, lost, found, expired) -> `Adjustment`; found
adds stock, the other reasons take it away.
"""

from dataclasses import dataclass, replace

from protocol.events import Adjustment, Move
from protocol.labels import ADJUST_REASONS
from station.barcodes import Command, Item, Meaning
from station.barcodes import Location as LocationCode
from station.workflows.base import Context, Outcome, verdict

ADDS_STOCK = ("found",)


@dataclass(frozen=True)
class MoveState:
    kind: str  # "move" or "adjust"
    location: str | None = None  # from (move) or where (adjust)
    sku: str | None = None
    lot: str | None = None
    qty: int = 0


def scan(state: MoveState, meaning: Meaning, ctx: Context) -> Outcome:
    if isinstance(meaning, LocationCode):
        return _location(state, meaning.location, ctx)
    if isinstance(meaning, Item):
        return _item(state, meaning)
    if isinstance(meaning, Command):
        return command(state, meaning.name, meaning.arg, ctx)
    return _say(state, "wrong_barcode", f"Not a {state.kind} barcode",
                then="Scan a location or an item")  # fmt: skip


def command(state: MoveState, name: str, arg: str | None, ctx: Context) -> Outcome:
    if name == "reason" and state.kind == "adjust":
        return _adjust(state, arg, ctx)
    if name == "cancel":
        return _say(MoveState(state.kind), "ok", f"{state.kind.capitalize()} dropped")
    if name == "undo":
        if state.sku is None:
            return _say(state, "nothing_to_undo", "Nothing to undo")
        return _say(replace(state, sku=None, lot=None, qty=0), "ok", f"Undone: {state.sku}")
    if name == "done":
        return _not_complete(state)
    return _say(state, "wrong_command", f"{name} means nothing in {state.kind} mode")


def _location(state: MoveState, location: str, ctx: Context) -> Outcome:
    if ctx.operator is None:
        return _say(state, "no_operator", "No badge scanned")
    if state.sku is None:
        new = replace(state, location=location)
        return _say(
            new, "ok", f"{'From' if state.kind == 'move' else 'At'} {location}: scan the item"
        )
    if state.kind == "adjust":
        return _not_complete(state)
    if location == state.location:
        return _say(state, "same_location", f"That is {location} again",
                    then=f"Scan the location the {state.sku} goes to")  # fmt: skip
    move = Move(
        sku=state.sku,
        qty=state.qty,
        from_=state.location,
        to=location,
        lot=state.lot,
        operator=ctx.operator,
    )
    message = f"Moved {state.qty} × {state.sku} {state.location} → {location}"
    return Outcome(MoveState("move"), (move,), verdict("ok", message, "complete"))


def _item(state: MoveState, item: Item) -> Outcome:
    if state.location is None:
        return _say(state, "no_location", "No location scanned")
    if state.sku is not None and item.sku != state.sku:
        return _say(state, "one_product", "One product at a time",
                    then=f"Finish the {state.sku} first: {_next_step(state)}")  # fmt: skip
    if state.sku is not None and item.lot != state.lot:
        return _say(state, "mixed_lots", "One lot at a time",
                    then=f"Finish lot {state.lot} first: {_next_step(state)}")  # fmt: skip
    new = replace(state, sku=item.sku, lot=item.lot, qty=state.qty + item.units)
    return _say(new, "ok", f"{new.qty} × {item.sku}: {_next_step(new)}")


def _adjust(state: MoveState, reason: str | None, ctx: Context) -> Outcome:
    if state.sku is None or state.location is None:
        return _not_complete(state)
    if reason not in ADJUST_REASONS:
        return _say(state, "unknown_reason", f"No reason {reason}",
                    then=f"Press one of {', '.join(ADJUST_REASONS)}")  # fmt: skip
    sign = 1 if reason in ADDS_STOCK else -1
    event = Adjustment(
        sku=state.sku,
        qty=sign * state.qty,
        location=state.location,
        reason=reason,
        lot=state.lot,
        operator=ctx.operator,
    )
    message = f"{state.sku} {sign * state.qty:+d} at {state.location} ({reason})"
    return Outcome(MoveState("adjust"), (event,), verdict("ok", message, "complete"))


def _not_complete(state: MoveState) -> Outcome:
    step = _next_step(state)
    return _say(state, "not_complete", f"The {state.kind} is not finished",
                then=step[0].upper() + step[1:])  # fmt: skip


def _next_step(state: MoveState) -> str:
    if state.location is None:
        return "scan the location"
    if state.sku is None:
        return "scan the item"
    if state.kind == "move":
        return "scan more, or the location it goes to"
    return "scan more, or the reason"


def view(state: MoveState) -> dict:
    return {
        "location": state.location,
        "lines": []
        if state.sku is None
        else [{"sku": state.sku, "lot": state.lot, "scanned": state.qty}],
        "next": _next_step(state),
    }


def _say(
    state: MoveState,
    name: str,
    message: str,
    pattern: str | None = None,
    then: str | None = None,
) -> Outcome:
    return Outcome(state, (), verdict(name, message, pattern, then))
