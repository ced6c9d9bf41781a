"""Kits as stock items of their own: built from their components, shipped whole.

A pre-assembled kit on the shelf is stock of the kit's SKU. Building one books its
components out (movements of type `assembly`) and the kit in at the sum of the FIFO cost
of the components that went into it, so value moves from the parts to the kit and no COGS
is booked until the kit ships.

A shipment of a kit's own SKU ships kit stock. When the books hold fewer kits at that
location than shipped, the rest were built at the bench from parts without being booked:
the hub books that assembly then (a backflush, from each component's pick location),
raises a `kit_backflushed` warning, and ships the kits, so neither the kit nor the order's
fill rate goes wrong.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

# hub.ledger dispatches shipments and assemblies here: import the module, not its names.
from hub import alerts, fifo, ledger, money, store
from protocol import limits

ASSEMBLY = "assembly"
DISASSEMBLY = "disassembly"
# The most one unit is booked at, in micros: the limit of every price the hub takes. A kit's
# cost is its parts' sum, and a part's share of a kit taken apart can be the whole kit's:
# unbounded, they would overflow the ledger's 64-bit values once multiplied by a quantity
# (an absurd kit of a million parts, then a million of those found by a count).
UNIT_COST_MAX = money.to_micros(limits.MONEY.most)


@dataclass(frozen=True)
class Part:
    """Units of one component going into (or coming out of) kits, and where."""

    sku: str
    qty: int
    location: str
    lot: str | None = None  # None: any lot, first-expired first (building); none (taking apart)


def as_type(ctx: ledger.Ctx, kind: str) -> ledger.Ctx:
    """The same event, its movements and cost flows booked as `kind` (an assembly inside a
    shipment must not count as COGS)."""
    return ledger.Ctx(ctx.conn, ctx.topics, dataclasses.replace(ctx.source, type=kind), ctx.effects)


def assemble(ctx: ledger.Ctx, kit: str, qty: int, location: str, parts: list[Part]) -> int:
    """Build `qty` kits at `location` from `parts` (out of their locations); returns the
    value (micros) booked into the kit."""
    work = as_type(ctx, ASSEMBLY)
    value = 0
    for part in parts:
        sku, where = part.sku, part.location
        for take in ledger.takes_out(work, sku, where, part.qty, part.lot):
            pieces = ledger.post_outbound(
                work, ledger.Posting(sku, where, -take.qty, take.lot, take.owner)
            )
            value += sum(p.qty * p.unit_cost for p in pieces)
    movement = ledger.post(work, ledger.Posting(kit, location, qty, "", ""))
    _book_in(work, movement.id, fifo.Line(kit, location, ""), value, qty)
    return value


def disassemble(ctx: ledger.Ctx, kit: str, qty: int, location: str, parts: list[Part]) -> int:
    """Take `qty` kits at `location` apart into `parts` (into their locations): the kit's
    cost is shared out over the parts in proportion to their own unit cost."""
    work = as_type(ctx, DISASSEMBLY)
    value = 0
    for take in ledger.takes_out(work, kit, location, qty, None):
        pieces = ledger.post_outbound(
            work, ledger.Posting(kit, location, -take.qty, take.lot, take.owner)
        )
        value += sum(p.qty * p.unit_cost for p in pieces)
    weights = [p.qty * max(store.product_unit_cost(ctx.conn, p.sku) or 0, 1) for p in parts]
    for part, share in zip(parts, _shares(value, weights), strict=True):
        lot = part.lot or ""
        movement = ledger.post(work, ledger.Posting(part.sku, part.location, part.qty, lot, ""))
        _book_in(work, movement.id, fifo.Line(part.sku, part.location, lot), share, part.qty)
    return value


def _book_in(work: ledger.Ctx, movement_id: int, line: fifo.Line, value: int, qty: int) -> None:
    """`value` into `qty` units of `line`, at most UNIT_COST_MAX a unit. What is over is
    written off (the inventory's value falls by it), with a critical alert: the parts were
    priced far beyond what the hub prices anything at, a mistake a person must look at."""
    booked = min(value, UNIT_COST_MAX * qty)
    for units, unit_cost in line_value_in(booked, qty):
        ledger.book(work, line.sku, movement_id, fifo.add(work.conn, line, units, unit_cost,
                                                          movement_id, work.source.hub_ts,
                                                          work.source.day))  # fmt: skip
    if booked < value:
        over = money.text(value - booked)
        alerts.raise_(
            work.conn, work.topics, work.source.hub_ts, "unit_cost_capped", "critical",
            f"{qty} × {line.sku} at {line.location} ({work.source.type} from "
            f"{work.source.station}) are worth more than {limits.MONEY.most:f} a unit: "
            f"booked at that, {over} written off", sku=line.sku, station=work.source.station,
        )  # fmt: skip


def ship(ctx: ledger.Ctx, kit: str, location: str, qty: int) -> None:
    """A shipment line of the kit's own SKU: kit stock first, the rest backflushed."""
    backflush(ctx, kit, location, qty)
    ledger.issue(ctx, kit, location, qty, None)


def backflush(ctx: ledger.Ctx, kit: str, location: str, qty: int) -> int:
    """Before `qty` kits leave `location` whole (sold, or sent on a transfer): the kits the
    books lack there were built at the bench from parts without being booked, so their
    assembly is booked now (parts out of their pick locations at FIFO cost, the kit in at
    that cost) with a `kit_backflushed` warning. Returns how many were built."""
    have = sum(max(q, 0) for _lot, _owner, q, _exp in store.stock_at(ctx.conn, kit, location))
    missing = qty - max(have, 0)
    if missing <= 0:
        return 0
    assemble(ctx, kit, missing, location, bill(ctx, kit, missing, location))
    alerts.raise_(
        ctx.conn, ctx.topics, ctx.source.hub_ts, "kit_backflushed", "warning",
        f"{missing} × {kit} shipped from {location} were not in stock as kits: "
        "booked as built from their parts", sku=kit, station=ctx.source.station,
    )  # fmt: skip
    return missing


def bill(ctx: ledger.Ctx, kit: str, qty: int, fallback: str) -> list[Part]:
    """The parts of `qty` kits, each from its pick location (else `fallback`)."""
    return [Part(sku, per * qty, pick_or(ctx, sku, fallback))
            for sku, per in store.kit_components(ctx.conn, kit)]  # fmt: skip


def pick_or(ctx: ledger.Ctx, sku: str, fallback: str) -> str:
    """Where a part is picked from (its first-expiring stock), else `fallback`."""
    return store.pick_location(ctx.conn, sku) or fallback


def line_value_in(value: int, qty: int) -> list[tuple[int, int]]:
    """`value` micros over `qty` units as (units, unit cost) layers that add up exactly."""
    if qty <= 0:
        return []
    unit, rest = divmod(value, qty)
    if not rest:
        return [(qty, unit)]
    return [(qty - 1, unit), (1, unit + rest)] if qty > 1 else [(1, value)]


def _shares(total: int, weights: list[int]) -> list[int]:
    """`total` split in proportion to `weights`, exactly (the last takes the remainder)."""
    whole = sum(weights) or 1
    shares = [total * w // whole for w in weights]
    if shares:
        shares[-1] += total - sum(shares)
    return shares


# --- what the product page shows of a kit ----------------------------------------------------
def availability(conn, kit: str) -> dict | None:
    """A kit's stock counted with its parts: built kits in stock (quarantine aside), kits
    the free parts would build (after what open orders commit), and the kits open orders
    still have to ship, `packing` being the work in progress at the benches."""
    bill = store.kit_components(conn, kit)
    if not bill:
        return None
    free = {sku: store.on_hand(conn, sku) - store.committed(conn, sku)
            - store.quarantined(conn, sku) for sku, _ in bill}  # fmt: skip
    buildable = max(min(free[sku] // per for sku, per in bill), 0)
    built = store.on_hand(conn, kit) - store.quarantined(conn, kit)
    ordered = store.kits_on_open_orders(conn, kit)
    return {
        "built": built,
        "buildable": buildable,
        "available": built + buildable,
        "on_open_orders": sum(ordered.values()),
        "being_packed": ordered.get("packing", 0),
    }
