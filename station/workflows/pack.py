"""Packing: operator, order, each item; a complete order is weighed, labelled and shipped.

Progress is never stored, only derived from the list of actions (picks and shorts), so
undo is dropping the last action and the shipment is built from what was really scanned.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

import msgspec

from protocol.events import Shipment, ShipmentLine
from station.barcodes import Command, Item, Meaning, OrderRef
from station.workflows.base import Context, Label, Lookups, Outcome, plural, verdict

CLOSED = ("packed", "shipped", "cancelled")
DEFAULT_SHORT_REASON = "out_of_stock"


@dataclass(frozen=True)
class PackLine:
    sku: str
    ordered: int
    lot: str | None = None  # the order line asks for this lot
    kit: tuple[tuple[str, int], ...] = ()  # components (sku, per kit) when the sku is a kit
    location: str | None = None  # where to pick it (from the hub); None: the bench's own
    parts: tuple[tuple[str, str], ...] = ()  # a kit's parts: (sku, where to pick it)


@dataclass(frozen=True)
class Pick:
    line: int
    sku: str  # the line's sku, or one of its kit components
    units: int
    lot: str | None = None
    serial: str | None = None


@dataclass(frozen=True)
class Short:
    line: int
    qty: int
    reason: str


@dataclass(frozen=True)
class PackState:
    order: str | None = None
    customer: str | None = None
    to_site: str | None = None  # a transfer to another site of the company (its label says)
    packaging_g: Decimal | None = None
    lines: tuple[PackLine, ...] = ()
    actions: tuple[Pick | Short, ...] = ()
    phase: str = "scan"  # scan, weigh (complete, waiting for the scale), held (weight mismatch)
    weight_g: Decimal | None = None  # the reading that held the order
    weight_mismatches: int = 0  # readings of this order outside the tolerance so far
    short_reason: str | None = None  # armed: the next item scanned shorts its line


# --- derived progress --------------------------------------------------------------------


def _picks(state: PackState, index: int) -> list[Pick]:
    return [a for a in state.actions if isinstance(a, Pick) and a.line == index]


def _whole(state: PackState, index: int) -> int:
    sku = state.lines[index].sku
    return sum(p.units for p in _picks(state, index) if p.sku == sku)


def _component_units(state: PackState, index: int, sku: str) -> int:
    return sum(p.units for p in _picks(state, index) if p.sku == sku)


def _kits_from_components(state: PackState, index: int) -> tuple[int, int]:
    """(kits complete, kits started) from components scanned one by one."""
    kit = state.lines[index].kit
    if not kit:
        return 0, 0
    units = [(_component_units(state, index, sku), per) for sku, per in kit]
    return min(n // per for n, per in units), max(-(-n // per) for n, per in units)


def _shorted(state: PackState, index: int) -> int:
    return sum(a.qty for a in state.actions if isinstance(a, Short) and a.line == index)


def target(state: PackState, index: int) -> int:
    return state.lines[index].ordered - _shorted(state, index)


def packed(state: PackState, index: int) -> int:
    return _whole(state, index) + _kits_from_components(state, index)[0]


def _reserved(state: PackState, index: int) -> int:
    # A kit started from components holds its slot, so no kit barcode can overfill the line.
    return _whole(state, index) + _kits_from_components(state, index)[1]


def complete(state: PackState) -> bool:
    return bool(state.lines) and all(
        packed(state, i) >= target(state, i) for i in range(len(state.lines))
    )


# --- inputs ------------------------------------------------------------------------------


def scan(state: PackState, meaning: Meaning, ctx: Context) -> Outcome:
    if isinstance(meaning, OrderRef):
        return _start_order(state, meaning.order, ctx)
    if isinstance(meaning, Item):
        return _item(state, meaning, ctx)
    if isinstance(meaning, Command):
        return command(state, meaning.name, meaning.arg, ctx)
    return _say(state, "wrong_barcode", "Not a pack barcode", then="Scan an order or an item")


def command(state: PackState, name: str, arg: str | None, ctx: Context) -> Outcome:
    handlers = {
        "undo": _undo,
        "cancel": _cancel,
        "done": _done,
        "override": _override,
    }
    if name == "short":
        return _arm_short(state, arg or DEFAULT_SHORT_REASON)
    if name in handlers:
        return handlers[name](state, ctx)
    return _say(state, "wrong_command", f"{name} means nothing when packing")


def weighed(state: PackState, grams: Decimal, ctx: Context) -> Outcome:
    """A stable reading: only a complete order waiting for the scale acts on it."""
    if state.phase == "scan" or grams <= 0:
        return Outcome(state)
    expected = expected_weight_g(state, ctx.lookups, ctx.settings.default_packaging_g)
    if expected is None:
        return _ship(state, ctx, grams, None, override=False, note="weight not checked")
    allowed = max(
        Decimal(str(ctx.settings.weight_tolerance_g)),
        expected * Decimal(str(ctx.settings.weight_tolerance_pct)) / 100,
    )
    if abs(grams - expected) <= allowed:
        return _ship(state, ctx, grams, expected, override=False)
    held = replace(state, phase="held", weight_g=grams,
                   weight_mismatches=state.weight_mismatches + 1)  # fmt: skip
    off = "too heavy" if grams > expected else "too light"
    return _say(
        held,
        "weight_mismatch",
        f"Parcel weighs {weight_text(grams)}: {weight_text(abs(grams - expected))} {off}",
        then=f"Weigh again: expected {weight_text(expected)} ± {weight_text(allowed)}",
    )


def short_line(state: PackState, sku: str, reason: str, ctx: Context) -> Outcome:
    """Short-ship what is left of the first unfinished line of `sku` (a kiosk button)."""
    if state.order is None:
        return _say(state, "no_order", "No order is open")
    for index, line in enumerate(state.lines):
        left = target(state, index) - _reserved(state, index)
        if line.sku == sku and left > 0:
            new = replace(
                state,
                actions=(*state.actions, Short(index, left, reason)),
                short_reason=None,
            )
            return _after_change(new, ctx, f"{sku}: {left} short ({reason})")
    return _say(state, "nothing_to_short", f"Nothing of {sku} is left to short")


# --- orders ------------------------------------------------------------------------------


def _start_order(state: PackState, order_id: str, ctx: Context) -> Outcome:
    if ctx.operator is None:
        return _say(state, "no_operator", "No badge scanned")
    order = ctx.lookups.order(order_id)
    if order is None:
        return _say(state, "unknown_order", f"Order {order_id} is not known here (yet)")
    if order.status in CLOSED:
        return _say(state, "order_closed", f"Order {order_id} is {order.status}")
    if state.order == order_id:
        return _say(state, "ok", f"Order {order_id} is already open")
    if state.order is not None and state.actions:
        return _say(state, "order_in_progress", f"Order {state.order} is still open",
                    then=f"Finish order {state.order}, or press Cancel")  # fmt: skip
    lines = tuple(
        PackLine(
            line.sku,
            line.qty,
            line.lot,
            _kit(line.sku, ctx.lookups),
            line.location,
            tuple(sorted(line.part_locations.items())),
        )  # fmt: skip
        for line in order.lines
    )
    new = PackState(
        order=order.order,
        customer=order.customer,
        to_site=order.to_site if order.kind == "transfer" else None,
        packaging_g=order.packaging_weight_g,
        lines=lines,
    )
    return _say(new, "ok", f"Order {order.order}: {plural(sum(x.ordered for x in lines), 'item')}")


def _kit(sku: str, lookups: Lookups) -> tuple[tuple[str, int], ...]:
    product = lookups.product(sku)
    return tuple((c.sku, c.qty) for c in product.kit) if product else ()


# --- items -------------------------------------------------------------------------------


def _item(state: PackState, item: Item, ctx: Context) -> Outcome:
    if state.order is None:
        return _say(state, "no_order", "No order is open")
    if state.short_reason is not None:
        return short_line(state, item.sku, state.short_reason, ctx)
    direct = [i for i, line in enumerate(state.lines) if line.sku == item.sku]
    parts = [i for i, line in enumerate(state.lines) if item.sku in dict(line.kit)]
    if not direct and not parts:
        return _say(state, "not_in_order", f"{item.sku} is not in order {state.order}",
                    then=f"Take the {_what(item)} out and put it back on its shelf")  # fmt: skip
    problem = _check_item(state, item, direct, ctx)
    if problem is not None:
        return problem
    index = _line_with_room(state, item, direct, parts)
    if index is None:
        where = _pick_location(state, direct)
        then = (f"Put the {_what(item)} back in {where}" if where
                else f"Take the {_what(item)} out of the parcel")  # fmt: skip
        return _say(state, "too_many", f"Too many {item.sku}", then=then)
    pick = Pick(index, item.sku, item.units, item.lot, item.serial)
    new = replace(state, actions=(*state.actions, pick))
    left = target(new, index) - packed(new, index)
    return _after_change(new, ctx, f"{item.sku} ok" + (f", {left} more" if left else ""))


def _check_item(state: PackState, item: Item, direct: list[int], ctx: Context) -> Outcome | None:
    """Why this item may not go in the parcel, or None."""
    if item.expiry is not None and item.expiry < ctx.lookups.today():
        return _say(state, "expired_lot", f"{item.sku} expired on {item.expiry}",
                    then=f"Set this {item.sku} aside as expired and take another")  # fmt: skip
    wanted = {state.lines[i].lot for i in direct}
    if direct and None not in wanted:
        if item.lot is None:
            return _say(state, "lot_required", f"{item.sku} needs its lot")
        if item.lot not in wanted:
            where = _pick_location(state, direct)
            back = f"Put it back in {where}" if where else "Put it back"
            return _say(state, "wrong_lot", f"Lot {item.lot} is not the order's",
                        then=f"{back} and take lot {_list(wanted)}")  # fmt: skip
    product = ctx.lookups.product(item.sku)
    if product is not None and product.lot_tracked and item.lot is None:
        return _say(state, "lot_required", f"{item.sku} needs its lot")
    if product is not None and product.serial_tracked:
        if item.serial is None:
            return _say(state, "serial_required", f"{item.sku} needs its serial number")
        if any(isinstance(a, Pick) and a.serial == item.serial for a in state.actions):
            return _say(state, "duplicate_serial", f"Serial {item.serial} is already packed",
                        then=f"Scan the next {item.sku}'s own serial")  # fmt: skip
    return None


def _line_with_room(
    state: PackState, item: Item, direct: list[int], parts: list[int]
) -> int | None:
    for index in sorted(direct, key=lambda i: state.lines[i].lot != item.lot):
        lot = state.lines[index].lot
        if lot in (None, item.lot) and _reserved(state, index) + item.units <= target(state, index):
            return index
    for index in parts:
        per_kit = dict(state.lines[index].kit)[item.sku]
        room = per_kit * (target(state, index) - _whole(state, index))
        if _component_units(state, index, item.sku) + item.units <= room:
            return index
    return None


def _after_change(state: PackState, ctx: Context, message: str) -> Outcome:
    """After a pick or a short: go on scanning, or the order is complete."""
    if not complete(state):
        return _say(replace(state, phase="scan", weight_g=None), "ok", message)
    if not any(isinstance(a, Pick) for a in state.actions):
        return _ship(state, ctx, None, None, override=False, note="nothing packed")
    if not ctx.settings.verify_weight:
        return _ship(state, ctx, None, None, override=False)
    return _say(
        replace(state, phase="weigh"),
        "ok",
        f"{message}. Order complete: put the parcel on the scale",
        "attention",
    )


# --- commands ----------------------------------------------------------------------------


def _undo(state: PackState, ctx: Context) -> Outcome:
    if state.short_reason is not None:
        return _say(replace(state, short_reason=None), "ok", "Short cancelled")
    if not state.actions:
        return _say(state, "nothing_to_undo", "Nothing to undo")
    last = state.actions[-1]
    new = replace(state, actions=state.actions[:-1], phase="scan", weight_g=None)
    what = f"{last.units} × {last.sku}" if isinstance(last, Pick) else "the short"
    return _say(new, "ok", f"Undone: {what}")


def _cancel(state: PackState, ctx: Context) -> Outcome:
    if state.order is None:
        return _say(state, "no_order", "No order is open")
    return _say(PackState(), "ok", f"Order {state.order} put aside: unpack the parcel")


def _done(state: PackState, ctx: Context) -> Outcome:
    if state.order is None:
        return _say(state, "no_order", "No order is open")
    if state.phase != "scan":
        return _say(state, "weight_needed", "The parcel is not weighed yet")
    left = sum(target(state, i) - packed(state, i) for i in range(len(state.lines)))
    return _say(state, "not_complete", f"{plural(left, 'item')} still to pack",
                then="Scan them, or press Short on a missing line")  # fmt: skip


def _override(state: PackState, ctx: Context) -> Outcome:
    if state.phase == "scan":
        return _say(state, "nothing_to_override", "Nothing is waiting for a supervisor")
    expected = expected_weight_g(state, ctx.lookups, ctx.settings.default_packaging_g)
    return _ship(state, ctx, state.weight_g, expected, override=True)


def _arm_short(state: PackState, reason: str) -> Outcome:
    if state.order is None:
        return _say(state, "no_order", "No order is open")
    return _say(
        replace(state, short_reason=reason),
        "ok",
        f"Short ({reason}): scan the item that is missing",
        "attention",
    )


# --- completion --------------------------------------------------------------------------


def expected_weight_g(
    state: PackState, lookups: Lookups, default_packaging_g: float
) -> Decimal | None:
    """What the parcel should weigh, or None when a unit weight is missing from the catalog."""
    total = (
        state.packaging_g if state.packaging_g is not None else Decimal(str(default_packaging_g))
    )
    for action in state.actions:
        if isinstance(action, Pick):
            unit = unit_weight_g(action.sku, lookups)
            if unit is None:
                return None
            total += unit * action.units
    return total


def unit_weight_g(sku: str, lookups: Lookups) -> Decimal | None:
    """A product's unit weight; a kit without its own is the sum of its components."""
    product = lookups.product(sku)
    if product is None:
        return None
    if product.unit_weight_g is not None:
        return product.unit_weight_g
    if not product.kit:
        return None
    parts = [(unit_weight_g(c.sku, lookups), c.qty) for c in product.kit]
    if any(weight is None for weight, _ in parts):
        return None
    return sum((weight * qty for weight, qty in parts), Decimal(0))


def _ship(
    state: PackState,
    ctx: Context,
    weight: Decimal | None,
    expected: Decimal | None,
    override: bool,
    note: str | None = None,
) -> Outcome:
    shipment = Shipment(
        order=state.order,
        operator=ctx.operator,
        lines=shipment_lines(state, ctx.settings.bench_location),
        weight_g=weight,
        expected_weight_g=expected,
        weight_override=override,
        weight_mismatches=state.weight_mismatches,
    )
    units = sum(a.units for a in state.actions if isinstance(a, Pick))
    label = Label(
        "shipping",
        {
            "order": state.order,
            "customer": state.customer or "",
            **({"to_site": state.to_site} if state.to_site else {}),
            "lines": str(len(state.lines)),
            "items": str(units),
            "weight_g": "" if weight is None else _g(weight),
            "operator": ctx.operator or "",
        },
    )
    message = f"Order {state.order} complete" + (" (supervisor override)" if override else "")
    if note:
        message += f" ({note})"
    labels = (label,) if units else ()
    return Outcome(PackState(), (shipment,), verdict("ok", message, "complete"), labels)


def shipment_lines(state: PackState, bench_location: str) -> list[ShipmentLine]:
    """What left the bench: per order line and lot, booked out of the line's pick location
    (else `bench_location`); kits built from parts ship as the parts, each from its own pick
    location (else the bench's)."""
    result: list[ShipmentLine] = []
    for index, line in enumerate(state.lines):
        lines = _grouped(_picks(state, index), line, bench_location)
        shorted = _shorted(state, index)
        if shorted:
            reasons = _list(
                a.reason for a in state.actions if isinstance(a, Short) and a.line == index
            )
            short = ShipmentLine(sku=line.sku, qty=0, location=line.location or bench_location)
            lines = lines or [short]
            lines[0] = msgspec.structs.replace(lines[0], short=shorted, short_reason=reasons)
        result.extend(lines)
    return result


def _grouped(picks: list[Pick], order_line: PackLine, bench_location: str) -> list[ShipmentLine]:
    groups: dict[tuple[str, str | None], ShipmentLine] = {}
    for pick in picks:
        key = (pick.sku, pick.lot)
        where = (
            order_line.location
            if pick.sku == order_line.sku
            else dict(order_line.parts).get(pick.sku)
        )
        location = where or bench_location
        line = groups.get(key) or ShipmentLine(sku=pick.sku, qty=0, location=location, lot=pick.lot)
        serials = [*line.serials, pick.serial] if pick.serial else line.serials
        groups[key] = msgspec.structs.replace(line, qty=line.qty + pick.units, serials=serials)
    return list(groups.values())


# --- view --------------------------------------------------------------------------------


def view(state: PackState) -> dict:
    return {
        "order": state.order,
        "customer": state.customer,
        "phase": state.phase,
        "short_armed": state.short_reason,
        "lines": [
            {
                "sku": line.sku,
                "ordered": line.ordered,
                "scanned": packed(state, i),
                "short": _shorted(state, i),
                "lot": line.lot,
                "location": line.location,
                "parts": [{"sku": sku, "location": at} for sku, at in line.parts],
                "done": packed(state, i) >= target(state, i),
            }
            for i, line in enumerate(state.lines)
        ],
    }


def _say(
    state: PackState,
    name: str,
    message: str,
    pattern: str | None = None,
    then: str | None = None,
) -> Outcome:
    return Outcome(state, (), verdict(name, message, pattern, then))


def weight_text(grams: Decimal) -> str:
    """A weight as it reads from two metres: "850 g", "1.2 kg"."""
    if abs(grams) < 1000:
        return f"{_g(grams)} g"
    return f"{grams / 1000:.3f}".rstrip("0").rstrip(".") + " kg"


def _what(item: Item) -> str:
    return item.sku if item.units == 1 else f"{item.units} × {item.sku}"


def _pick_location(state: PackState, lines: list[int]) -> str | None:
    """Where the item came from, when the order's lines of it name one place."""
    places = {state.lines[i].location for i in lines}
    return places.pop() if len(places) == 1 else None


def _g(grams: Decimal) -> str:
    return f"{grams.quantize(Decimal(1)):f}"


def _list(values: Iterable[str | None]) -> str:
    return ", ".join(sorted({v for v in values if v}))
