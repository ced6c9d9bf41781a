"""The centre's side of transfers between sites (docs/multi-site.md).

A transfer is made at the central hub (`create`), which sends its `TransferOrder` to both
sites, retained on centre/transfers/{transfer} over their bridges. The sending site packs
and ships it and reports `shipped` with the cost layers that left; the centre records them
and sends the transfer again, now `in_transit` with those layers, so the receiving site can
receive it at the cost the sender carried. The receiving site reports `received`; the
centre sends the transfer once more, `received`, and the sender books its transit out.
Each site then empties its report, and the centre its message to that site: no retained
message of a closed transfer stays on the brokers. Reports are idempotent: one that comes
again changes nothing.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

import msgspec
from msgspec import Meta

from hub import store, transfers
from hub.money import text
from hub.store.connection import Connection
from protocol.envelope import encode
from protocol.messages import TransferLine, TransferOrder, TransferReport
from protocol.topics import Topics
from protocol.types import SiteId


class TransferIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """POST /api/transfers: move `lines` from one site of the company to another."""

    from_site: SiteId
    to_site: SiteId
    lines: Annotated[list[TransferLine], Meta(min_length=1, max_length=500)]


# Transfers in transit at once are a company's handful, never thousands: all are summed.
IN_TRANSIT_MAX = 10_000


@dataclass(frozen=True)
class Moving:
    """A transfer in transit: its units, and their value at the sender's FIFO cost."""

    from_site: str
    to_site: str
    units: int
    micros: int


class TransferError(ValueError):
    """A transfer that cannot be made (says why)."""


def create(conn: Connection, sites: list[str], wanted: TransferIn, now: str) -> str:
    """Record the transfer and send it to both sites (inside the caller's transaction)."""
    problems = [f"unknown site {s!r} (this centre follows: {', '.join(sites) or 'none'})"
                for s in (wanted.from_site, wanted.to_site) if s not in sites]  # fmt: skip
    if wanted.from_site == wanted.to_site:
        problems.append("from_site and to_site are the same site")
    skus = [line.sku for line in wanted.lines]
    if len(set(skus)) != len(skus):
        problems.append("a sku appears on more than one line")
    if wanted.from_site in sites:
        problems += [f"{wanted.from_site} has never had {sku} (no movement of it reached the "
                     "centre; a kit packed from its parts: add it with its parts to the "
                     "centre's catalog)" for sku in skus
                     if not _has_had(conn, wanted.from_site, sku)]  # fmt: skip
    if problems:
        raise TransferError("; ".join(problems))
    transfer = f"T-{store.counter_next(conn, 'transfer'):06d}"
    save(conn, TransferOrder(transfer=transfer, from_site=wanted.from_site,
                             to_site=wanted.to_site, lines=wanted.lines), now)  # fmt: skip
    return transfer


def _has_had(conn: Connection, site: str, sku: str) -> bool:
    """Some movement of `sku` at `site` reached the centre; or `sku` is a kit of the
    centre's catalog and every part of it has (the bench packs a kit from its parts)."""
    if store.site_stock(conn, site, sku, 1, ""):
        return True
    parts = store.kit_components(conn, sku)
    return bool(parts) and all(store.site_stock(conn, site, part, 1, "") for part, _ in parts)


def save(conn: Connection, order: TransferOrder, now: str) -> None:
    store.transfer_put(conn, order.transfer, order.from_site, order.to_site, order.status,
                       encode(order).decode(), now)  # fmt: skip
    for site in (order.from_site, order.to_site):
        store.outbox_put(conn, Topics(site).transfer_order(order.transfer), encode(order),
                         retain=True)  # fmt: skip


def resend(conn: Connection, transfer: str, now: str) -> bool:
    """Send the transfer to both sites again (a site that could not take it, fixed since);
    False if there is no such transfer."""
    row = store.transfer_get(conn, transfer)
    if row is None:
        return False
    save(conn, msgspec.json.decode(row.payload, type=TransferOrder), now)
    return True


def apply_report(conn: Connection, site: str, report: TransferReport,
                 now: str) -> str | None:  # fmt: skip
    """A site shipped or received a transfer; returns why it cannot be applied, if so."""
    row = store.transfer_get(conn, report.transfer)
    if row is None:
        return f"no transfer {report.transfer} at the centre"
    if report.site != site:
        return f"site {report.site!r} reported on site {site!r}'s topic"
    order = msgspec.json.decode(row.payload, type=TransferOrder)
    if report.state == "shipped":
        if site != order.from_site:
            return f"transfer {order.transfer} is sent by {order.from_site}, not {site}"
        if order.status == "open":
            save(conn, msgspec.structs.replace(order, status="in_transit",
                                               shipped=report.lines), now)  # fmt: skip
        return None
    if site != order.to_site:
        return f"transfer {order.transfer} is received by {order.to_site}, not {site}"
    if order.status == "open":
        return f"transfer {order.transfer} was received before the centre knew it shipped"
    if order.status == "in_transit":
        save(conn, msgspec.structs.replace(order, status="received", received=report.lines),
             now)  # fmt: skip
        store.transfer_receipts_put(conn, order.transfer, report.movements)
    return None


def site_done(conn: Connection, site: str, transfer: str) -> str | None:
    """A site emptied its report: it is done with the received transfer, so the centre's
    retained message to it goes too. Returns why not, if so."""
    row = store.transfer_get(conn, transfer)
    if row is None:
        return f"no transfer {transfer} at the centre"
    if site not in (row.from_site, row.to_site):
        return f"transfer {transfer} is between {row.from_site} and {row.to_site}, not {site}"
    if row.status != "received":
        return f"transfer {transfer} emptied by {site} while it is {row.status}, not received"
    store.outbox_put(conn, Topics(site).transfer_order(transfer), b"", retain=True)
    return None


def transfer_dict(row: store.TransferRow) -> dict:
    """One transfer for the API: its lines, what shipped (with the value in transit, at the
    sender's FIFO cost) and what was received, per SKU with over and short."""
    order = msgspec.json.decode(row.payload, type=TransferOrder)
    # A SKU may have several shipped lines (picked from two bins, or two lots); a kit
    # line may have travelled as its parts (counted as the complete kits they make).
    units = transfers.units_by_sku(order.shipped), transfers.units_by_sku(order.received)
    shipped, received = (transfers.as_ordered(order, u) for u in units)
    value = _value_shipped(order)
    skus = sorted({line.sku for line in order.lines} | shipped.keys() | received.keys())
    ordered = {line.sku: line.qty for line in order.lines}
    kits = transfers.kit_parts(order)
    lines = [{"sku": sku, "qty": ordered.get(sku, 0), "shipped": shipped.get(sku, 0),
              "received": received.get(sku, 0),
              **({"parts": [{"sku": part, "per_kit": per, "shipped": units[0].get(part, 0),
                             "received": units[1].get(part, 0)}
                            for part, per in sorted(kits[sku].items())]} if sku in kits else {})}
             for sku in skus]  # fmt: skip
    done = order.status == "received"
    return {
        "transfer": row.transfer, "from_site": row.from_site, "to_site": row.to_site,
        "status": row.status, "created": row.created, "shipped": row.shipped,
        "received": row.received, "lines": lines,
        "short_shipped": any(ln["shipped"] < ln["qty"] for ln in lines) if row.shipped else False,
        "over_short_received": done and any(ln["received"] != ln["shipped"] for ln in
                                            lines + [p for ln in lines for p in ln.get("parts", ())]),
        "value_shipped": text(value),
    }  # fmt: skip


def _value_shipped(order: TransferOrder) -> int:
    return sum(layer.qty * layer.unit_cost_micros for line in order.shipped
               for layer in line.layers)  # fmt: skip


def in_transit(conn: Connection) -> list[Moving]:
    """Every transfer shipped and not yet received (as this hub knows them: a site knows
    the ones it sends or receives), less, at the centre, what the receiver's receipts it
    has applied took of it (oldest layers first): those units are at the receiver."""
    moving = []
    for row in store.transfer_list(conn, "in_transit", IN_TRANSIT_MAX):
        order = msgspec.json.decode(row.payload, type=TransferOrder)
        shipped = transfers.units_by_sku(order.shipped)
        units, micros = sum(shipped.values()), _value_shipped(order)
        for sku, came, _value in store.transfer_receipts_applied(conn, row.transfer,
                                                                 row.to_site):  # fmt: skip
            took = min(came, shipped.get(sku, 0))
            units, micros = units - took, micros - _layers_value(order, sku, took)
        moving.append(Moving(row.from_site, row.to_site, units, micros))
    return moving


def transit_total(moving: Iterable[Moving]) -> dict:
    """Units and value in transit (the company's, when given all of them)."""
    found = list(moving)
    return {"units": sum(m.units for m in found), "value": text(sum(m.micros for m in found))}


def transit_of(moving: list[Moving], site: str) -> dict:
    """A site's side: what it sent (still its own, on its books at its FIFO cost) and what
    is on its way to it (at the sender's cost, which becomes its own when received)."""
    return {"out": transit_total(m for m in moving if m.from_site == site),
            "in": transit_total(m for m in moving if m.to_site == site)}  # fmt: skip


def company_overcount(conn: Connection) -> dict[str, tuple[int, int]]:
    """Per SKU, the (units, micros) by which the sum of the sites' replayed stock exceeds
    the company's, because the centre applies the two sites' movements of a transfer
    independently: the receiver's receipts before the sender's book-out of its transit
    (counted at both: a positive figure), or the other way round (at neither: negative).

    The company holds a transfer's units once at every moment: at the sender's transit
    while they travel; as the receiver's dock scans them in, each receipt the centre has
    applied moves its units from the transit to the receiver (its movement names the
    transfer, 1.6); after the receiver's report, what it reported received, wherever the
    receiver's movements put it and the rest as still on its way. Only the unsettled
    transfers are read (a settled one needs no correction)."""
    over: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in store.transfers_unsettled(conn, IN_TRANSIT_MAX):
        held = {sku: (qty, value) for sku, qty, value in store.site_location_stock(
            conn, row.from_site, transfers.transit_location(row.transfer))}  # fmt: skip
        moving = _still_moving(conn, row, held)
        for sku in held.keys() | moving.keys():
            (units, micros), (left, value) = held.get(sku, (0, 0)), moving.get(sku, (0, 0))
            over[sku][0] += units - left
            over[sku][1] += micros - value
    return {sku: (units, micros) for sku, (units, micros) in over.items() if units or micros}


def _still_moving(conn: Connection, row: store.TransferRow,
                  held: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:  # fmt: skip
    """(units, micros) per SKU the company holds of a transfer outside the two sites'
    shelves (as the centre replayed them). In transit: the sender's transit less what the
    receiver's applied receipts took of the shipped units (oldest layers first, as the
    receiver takes them; an over-receipt beyond them is the receiver's own find). Once
    received: what it reported received and the centre has not yet applied. A receiver
    before 1.6 names no receipt before its report, before 1.5 not even in it: its units
    stay at the transit until then."""
    order = msgspec.json.decode(row.payload, type=TransferOrder)
    applied = {sku: (units, value) for sku, units, value
               in store.transfer_receipts_applied(conn, row.transfer, row.to_site)}  # fmt: skip
    if row.status != "received":
        shipped = transfers.units_by_sku(order.shipped)
        moving = dict(held)
        for sku, (units, _value) in applied.items():
            took = min(units, shipped.get(sku, 0))
            left, value = moving.get(sku, (0, 0))
            moving[sku] = (left - took, value - _layers_value(order, sku, took))
        return moving
    if not store.transfer_receipts(conn, row.transfer):
        return held
    moving = {}
    for sku, qty in transfers.units_by_sku(order.received).items():
        units, value = applied.get(sku, (0, 0))
        left = max(0, qty - units)
        if left:
            moving[sku] = (left, max(0, _layers_value(order, sku, qty) - value))
    return moving


def inbound(conn: Connection) -> dict[tuple[str, str], int]:
    """Per (receiving site, SKU): units on their way to it by transfer, as the centre
    knows them: ordered and not yet shipped (a kit line as the kit), shipped and not yet
    scanned in at its dock (the receipts the centre applied have left this figure for its
    stock), and received but not yet applied here. A received transfer whose report
    names no receipt (a site before 1.5) counts none: which of its units are applied here
    is not known."""
    coming: dict[tuple[str, str], int] = defaultdict(int)
    for row in _under_way(conn):
        order = msgspec.json.decode(row.payload, type=TransferOrder)
        if row.status == "open":
            for line in order.lines:
                coming[(row.to_site, line.sku)] += line.qty
            continue
        if row.status == "received" and not store.transfer_receipts(conn, row.transfer):
            continue
        applied = {sku: units for sku, units, _value
                   in store.transfer_receipts_applied(conn, row.transfer, row.to_site)}  # fmt: skip
        lines = order.shipped if row.status == "in_transit" else order.received
        for sku, qty in transfers.units_by_sku(lines).items():
            coming[(row.to_site, sku)] += max(0, qty - applied.get(sku, 0))
    return {key: units for key, units in coming.items() if units}


def promised(conn: Connection) -> dict[tuple[str, str], int]:
    """Per (sending site, SKU): units ordered on transfers it has not shipped yet; they
    will leave it (a kit line as the kit)."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for row in _under_way(conn):
        if row.status == "open":
            for line in msgspec.json.decode(row.payload, type=TransferOrder).lines:
                out[(row.from_site, line.sku)] += line.qty
    return dict(out)


def _under_way(conn: Connection) -> list[store.TransferRow]:
    """Open and in-transit transfers, and received ones not yet settled here."""
    rows = {r.transfer: r for r in store.transfers_unfinished(conn, IN_TRANSIT_MAX)}
    rows.update((r.transfer, r) for r in store.transfers_unsettled(conn, IN_TRANSIT_MAX))
    return list(rows.values())


def receipt_applied(conn: Connection, site: str, transfer: str, seq: int) -> None:
    """The centre applied `site`'s movement `seq`, a receipt of `transfer` (1.6): from now
    on the company counts its units at the receiver, not also at the sender's transit. A
    name that is no transfer received by `site` changes nothing."""
    row = store.transfer_get(conn, transfer)
    if row is not None and row.to_site == site:
        store.transfer_receipts_put(conn, transfer, [seq])


def settle(conn: Connection, sites: Iterable[str]) -> list[str]:
    """Mark settled the received transfers of `sites` whose units the centre's replay now
    counts once by itself (every receipt applied, the sender's transit empty): the company
    total reads them no more. Returns them."""
    done = store.transfers_to_settle(conn, sorted(set(sites)))
    store.transfer_settle(conn, done)
    return done


def _layers_value(order: TransferOrder, sku: str, units: int) -> int:
    """What the first `units` shipped units of `sku` cost the sender, oldest layer first
    (units beyond the layers, over-received, at the last layer's cost)."""
    value, left, cost = 0, units, 0
    for line in order.shipped:
        for layer in line.layers if line.sku == sku else ():
            take = min(left, layer.qty)
            value, left, cost = value + take * layer.unit_cost_micros, left - take, \
                layer.unit_cost_micros
    return value + left * cost
