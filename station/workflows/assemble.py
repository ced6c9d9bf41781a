"""Kit assembly at the bench: scan the kit (`QTY:n` first for n kits), then each of its
parts; the station checks them against the kit's bill of materials. Done books the
`assembly` event: the parts out of where they were taken, the kits in where they are put.
`CMD:APART` before the kit takes kits apart instead: the parts go back into stock.

Parts come from their pick locations (the hub knows them) unless a `LOC:` is scanned
before them; the kits go to the bench location unless a `LOC:` is scanned once the parts
are all there.
"""

from collections import Counter
from dataclasses import dataclass, replace

from protocol.returns import Assembly, AssemblyPart
from station.barcodes import Command, Item, Location, Meaning
from station.workflows.base import Context, Outcome, verdict


@dataclass(frozen=True)
class Taken:
    sku: str
    units: int
    location: str | None
    lot: str | None


@dataclass(frozen=True)
class AssembleState:
    kit: str | None = None
    qty: int = 0
    bill: tuple[tuple[str, int], ...] = ()  # (part sku, units per kit)
    apart: bool = False  # taking kits apart
    taken: tuple[Taken, ...] = ()
    source: str | None = None  # a LOC: scanned before the parts
    target: str | None = None  # a LOC: scanned once complete: where the kits go


def scan(state: AssembleState, meaning: Meaning, ctx: Context) -> Outcome:
    if isinstance(meaning, Location):
        return _location(state, meaning.location)
    if isinstance(meaning, Item):
        if state.kit is None:
            return _start(state, meaning, ctx)
        return _part(state, meaning, ctx)
    if isinstance(meaning, Command):
        return command(state, meaning.name, meaning.arg, ctx)
    return _say(state, "wrong_barcode", "Not an assembly barcode",
                then="Scan a kit or its parts")  # fmt: skip


def command(state: AssembleState, name: str, arg: str | None, ctx: Context) -> Outcome:
    if name == "apart":
        if state.kit is not None:
            return _say(state, "assembly_in_progress", f"The {state.kit} is still open")
        return _say(replace(state, apart=True), "ok", "Taking apart: scan the kit", "attention")
    handlers = {"done": _done, "undo": _undo, "cancel": _cancel}
    if name in handlers:
        return handlers[name](state, ctx)
    return _say(state, "wrong_command", f"{name} means nothing when assembling")


# --- steps -------------------------------------------------------------------------------


def _start(state: AssembleState, item: Item, ctx: Context) -> Outcome:
    if ctx.operator is None:
        return _say(state, "no_operator", "No badge scanned")
    product = ctx.lookups.product(item.sku)
    if product is None or not product.kit:
        return _say(state, "not_a_kit", f"{item.sku} is not a kit")
    bill = tuple((c.sku, c.qty) for c in product.kit)
    new = replace(state, kit=item.sku, qty=item.units, bill=bill, taken=())
    if state.apart:
        return _apart(new, ctx)
    return _say(new, "ok", f"Build {item.units} × {item.sku}: {_missing(new)}", "attention")


def _part(state: AssembleState, item: Item, ctx: Context) -> Outcome:
    per_kit = dict(state.bill)
    if item.sku not in per_kit:
        return _say(state, "not_in_kit", f"{item.sku} is not a part of {state.kit}",
                    then=f"Put the {item.sku} back: {_missing(state)}")  # fmt: skip
    product = ctx.lookups.product(item.sku)
    if product is not None and product.lot_tracked and item.lot is None:
        return _say(state, "lot_required", f"{item.sku} needs its lot")
    if _have(state)[item.sku] + item.units > per_kit[item.sku] * state.qty:
        needed = per_kit[item.sku] * state.qty
        return _say(state, "too_many", f"Too many {item.sku}: {state.kit} needs {needed}",
                    then=f"Put the extra {item.sku} back")  # fmt: skip
    taken = Taken(item.sku, item.units, state.source, item.lot)
    new = replace(state, taken=(*state.taken, taken))
    if _complete(new):
        return _say(new, "ok", f"All parts of {new.qty} × {new.kit}: scan where they go, or "
                    "Done", "attention")  # fmt: skip
    return _say(new, "ok", f"{item.sku} ok: {_missing(new)}")


def _location(state: AssembleState, location: str) -> Outcome:
    if state.kit is not None and _complete(state):
        return _say(replace(state, target=location), "ok", f"Kits go to {location}: Done")
    return _say(replace(state, source=location), "ok", f"Parts from {location}")


def _done(state: AssembleState, ctx: Context) -> Outcome:
    if state.kit is None:
        return _say(state, "no_kit", "No kit scanned")
    if not _complete(state):
        missing = _missing(state)
        return _say(state, "not_complete", f"Parts of {state.kit} still missing",
                    then=missing[0].upper() + missing[1:])  # fmt: skip
    parts = _grouped(state.taken)
    where = state.target or ctx.settings.bench_location
    event = Assembly(kit=state.kit, qty=state.qty, location=where, parts=parts,
                     operator=ctx.operator)  # fmt: skip
    message = f"{state.qty} × {state.kit} built: put them in {where}"
    return Outcome(AssembleState(source=state.source), (event,), verdict("ok", message, "complete"))


def _apart(state: AssembleState, ctx: Context) -> Outcome:
    """Kits taken apart at once: the parts go back where the hub picks them from."""
    where = state.source or ctx.settings.bench_location
    parts = [AssemblyPart(sku=sku, qty=per * state.qty) for sku, per in state.bill]
    event = Assembly(kit=state.kit, qty=state.qty, location=where, parts=parts,
                     disassembly=True, operator=ctx.operator)  # fmt: skip
    message = f"{state.qty} × {state.kit} taken apart: put the parts back in their bins"
    return Outcome(AssembleState(source=state.source), (event,), verdict("ok", message, "complete"))


def _undo(state: AssembleState, ctx: Context) -> Outcome:
    if state.target is not None:
        return _say(replace(state, target=None), "ok", "Undone: where the kits go")
    if not state.taken:
        return _say(state, "nothing_to_undo", "Nothing to undo")
    last = state.taken[-1]
    return _say(replace(state, taken=state.taken[:-1]), "ok", f"Undone: {last.sku}")


def _cancel(state: AssembleState, ctx: Context) -> Outcome:
    if state.kit is None and not state.apart:
        return _say(state, "no_kit", "Nothing to cancel")
    return _say(AssembleState(), "ok", "Assembly put aside: put the parts back")


# --- derived -----------------------------------------------------------------------------


def _have(state: AssembleState) -> Counter:
    have: Counter = Counter()
    for t in state.taken:
        have[t.sku] += t.units
    return have


def _complete(state: AssembleState) -> bool:
    have = _have(state)
    return all(have[sku] >= per * state.qty for sku, per in state.bill)


def _missing(state: AssembleState) -> str:
    have = _have(state)
    left = [f"{per * state.qty - have[sku]} × {sku}" for sku, per in state.bill
            if have[sku] < per * state.qty]  # fmt: skip
    return "scan " + ", ".join(left) if left else "complete"


def _grouped(taken: tuple[Taken, ...]) -> list[AssemblyPart]:
    groups: Counter = Counter()
    for t in taken:
        groups[t.sku, t.location, t.lot] += t.units
    return [AssemblyPart(sku=sku, qty=qty, location=location, lot=lot)
            for (sku, location, lot), qty in groups.items()]  # fmt: skip


def view(state: AssembleState) -> dict:
    have = _have(state)
    return {
        "kit": state.kit,
        "apart": state.apart,
        "location": state.target or state.source,
        "prompt": _missing(state) if state.kit else (
            "Taking apart: scan the kit" if state.apart else "Scan the kit to build"),
        "lines": [{"sku": sku, "ordered": per * state.qty, "scanned": have[sku],
                   "done": have[sku] >= per * state.qty} for sku, per in state.bill],
    }  # fmt: skip


def _say(
    state: AssembleState,
    name: str,
    message: str,
    pattern: str | None = None,
    then: str | None = None,
) -> Outcome:
    return Outcome(state, (), verdict(name, message, pattern, then))
