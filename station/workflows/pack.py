"""Packing: scan an order, then each item; the order completes into a shipment event."""

from dataclasses import dataclass, field, replace

from protocol.events import Scan, Shipment, ShipmentLine
from station.workflows.base import Label, Lookups, Outcome, Verdict


@dataclass(frozen=True)
class PackLine:
    sku: str
    ordered: int
    scanned: int = 0

    @property
    def done(self) -> bool:
        return self.scanned >= self.ordered


@dataclass(frozen=True)
class PackState:
    location: str  # where picked stock is taken from (the bench's location)
    operator: str | None = None
    order: str | None = None
    lines: tuple[PackLine, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        return bool(self.lines) and all(line.done for line in self.lines)


def scan(state: PackState, code: str, lookups: Lookups) -> Outcome:
    """One barcode at the pack bench."""
    order = lookups.order(code)
    if order is not None:
        return _start_order(state, code, order)
    found = lookups.product_by_gtin(code)
    product = found[0] if found else lookups.product(code)
    units = found[1] if found else 1
    if product is None:
        return _verdict(state, code, Verdict("unknown_barcode", f"Unknown barcode {code}", "error"))
    if state.order is None:
        return _verdict(
            state, code, Verdict("no_order", "Scan an order first", "error"), product.sku
        )
    return _add_item(state, code, product.sku, units)


def _start_order(state: PackState, code: str, order) -> Outcome:
    lines = tuple(PackLine(line.sku, line.qty) for line in order.lines)
    new = replace(state, order=order.order, lines=lines)
    verdict = Verdict("ok", f"Order {order.order}: {sum(x.ordered for x in lines)} items")
    return _verdict(new, code, verdict)


def _add_item(state: PackState, code: str, sku: str, units: int) -> Outcome:
    index = next((i for i, line in enumerate(state.lines) if line.sku == sku), None)
    if index is None:
        return _verdict(
            state, code, Verdict("not_in_order", f"{sku} is not in this order", "error"), sku
        )
    line = state.lines[index]
    if line.scanned + units > line.ordered:
        return _verdict(
            state, code, Verdict("too_many", f"{sku}: only {line.ordered} ordered", "error"), sku
        )
    lines = list(state.lines)
    lines[index] = replace(line, scanned=line.scanned + units)
    new = replace(state, lines=tuple(lines))
    if not new.complete:
        left = line.ordered - line.scanned - units
        return _verdict(new, code, Verdict("ok", f"{sku} ok, {left} more"), sku)
    return _complete(new, code, sku)


def _complete(state: PackState, code: str, sku: str) -> Outcome:
    shipment = Shipment(
        order=state.order,
        operator=state.operator,
        lines=[
            ShipmentLine(sku=x.sku, qty=x.scanned, location=state.location) for x in state.lines
        ],
    )
    scan_event = _scan_event(state, code, "ok", sku)
    label = Label(
        "shipping", {"order": state.order, "items": str(sum(x.scanned for x in state.lines))}
    )
    verdict = Verdict("ok", f"Order {state.order} complete", "complete")
    return Outcome(replace(state, order=None, lines=()), (scan_event, shipment), verdict, (label,))


def _verdict(state: PackState, code: str, verdict: Verdict, sku: str | None = None) -> Outcome:
    return Outcome(state, (_scan_event(state, code, verdict.name, sku),), verdict)


def _scan_event(state: PackState, code: str, verdict: str, sku: str | None) -> Scan:
    return Scan(
        code=code, verdict=verdict, mode="pack", order=state.order, sku=sku, operator=state.operator
    )
