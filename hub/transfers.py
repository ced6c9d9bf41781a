"""A site's side of transfers between sites (docs/multi-site.md).

What the centre sends (a `TransferOrder` on centre/transfers/{transfer}) becomes, at the
sending site, an order of kind `transfer` packed at the bench like a sale; at the
receiving site, once it is in transit, a purchase order of the same id received at the
dock, with the sender's cost layers kept here (`transfer_layers`) for the receipts to
take in order. The site reports back on transfers/{transfer}: shipped (with the cost
layers that left), received (what came, once the PO is received or closed short); once
the centre says the transfer was received, the site empties its report (it is done).

Stock in transit stays on the sender's books at `transit-{transfer}`, a held location
(owned, valued at its FIFO cost, never picked or available) until the centre says the
transfer was received; then the sender books it out.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import msgspec

from hub import alerts, fifo, orders, purchasing, store
from hub.money import from_micros
from hub.store.connection import Connection
from protocol.envelope import encode
from protocol.messages import (
    Order,
    OrderLine,
    TransferLayer,
    TransferOrder,
    TransferReport,
    TransferShippedLine,
)
from protocol.topics import Topics


@dataclass(frozen=True)
class Shipped:
    """Units of a transfer that left the sender's shelves, with the cost pieces they took."""

    sku: str
    lot: str
    qty: int
    pieces: list[fifo.Piece]
    kit: str | None = None  # a part that travelled for this kit line of the transfer
    per_kit: int | None = None


class TransferRefused(ValueError):
    """A transfer order this site cannot take (says why: a dead letter)."""


FLOW = "transfer"  # the kind of the FIFO flows of units a transfer moves (no COGS)


def transit_location(transfer: str) -> str:
    return f"transit-{transfer}"


def take_order(conn: Connection, topics: Topics, order: TransferOrder,
               now: str) -> list[TransferShippedLine]:  # fmt: skip
    """What the centre says of a transfer: the lines the sender now books out of transit
    (the transfer was received), else none."""
    site = topics.site
    if site not in (order.from_site, order.to_site):
        raise TransferRefused(f"transfer {order.transfer} is between {order.from_site} and "
                              f"{order.to_site}, not this site ({site})")  # fmt: skip
    before = store.transfer_get(conn, order.transfer)
    known = before.status if before else None
    store.transfer_put(conn, order.transfer, order.from_site, order.to_site, order.status,
                       encode(order).decode(), now)  # fmt: skip
    if site == order.from_site and known is None and order.status == "open":
        _to_pack(conn, topics, order, now)
    if site == order.to_site and known in (None, "open") and order.status == "in_transit":
        _to_receive(conn, topics, order, now)
    if order.status != "received":
        return []
    # Done here: the report is emptied (its retained copy on both brokers goes), which
    # tells the centre to empty its message to this site on the central broker. The
    # site empties that message on its own broker too: a bridge may drop the centre's
    # emptying (a central broker restarted meanwhile), and a retained message that is
    # gone is never sent again. The sender's book-out is in this same transaction.
    store.outbox_put(conn, topics.transfer_report(order.transfer), b"", retain=True)
    store.outbox_put(conn, topics.transfer_order(order.transfer), b"", retain=True)
    if site == order.from_site and store.transfer_booked_out(conn, order.transfer):
        return order.shipped
    return []


def _to_pack(conn: Connection, topics: Topics, order: TransferOrder, now: str) -> None:
    if store.order_get(conn, order.transfer) is not None:
        raise TransferRefused(f"an order {order.transfer} exists already at this site")
    lines = [OrderLine(sku=line.sku, qty=line.qty) for line in order.lines]
    orders.save_order(conn, topics, Order(order=order.transfer, lines=lines, kind="transfer",
                                          to_site=order.to_site), now, from_centre=True)  # fmt: skip


def _to_receive(conn: Connection, topics: Topics, order: TransferOrder,
                now: str) -> None:  # fmt: skip
    """The dock receives it as a purchase order; each line's cost on the PO is the average
    of its layers (what the dock sees), the receipts take the layers themselves."""
    layers = [(line.sku, line.lot or "", layer.qty, layer.unit_cost_micros, layer.received)
              for line in order.shipped for layer in line.layers]  # fmt: skip
    store.transit_layers_put(conn, order.transfer, layers)
    qty: dict[str, int] = defaultdict(int)
    value: dict[str, int] = defaultdict(int)
    for line in order.shipped:
        qty[line.sku] += line.qty
        value[line.sku] += sum(layer.qty * layer.unit_cost_micros for layer in line.layers)
    po_lines = [purchasing.PoLineIn(sku=sku, qty=n, unit_cost=from_micros(value[sku] // n))
                for sku, n in qty.items() if n > 0]  # fmt: skip
    if not po_lines:
        return  # nothing left the sender: nothing to receive
    if store.po_get(conn, order.transfer) is not None:
        raise TransferRefused(f"a purchase order {order.transfer} exists already at this site")
    purchasing.create(conn, topics, purchasing.PurchaseOrderIn(po=order.transfer,
                                                               lines=po_lines), now)  # fmt: skip


def is_receiving(conn: Connection, topics: Topics, po: str) -> bool:
    row = store.transfer_get(conn, po)
    return row is not None and row.to_site == topics.site


def receipt_pieces(conn: Connection, transfer: str, sku: str,
                   qty: int) -> list[tuple[int, int | None]]:  # fmt: skip
    """(qty, unit cost) of received units, taking the sender's layers oldest first; units
    beyond them (an over-receipt) have no cost of the sender's (None: the fallback)."""
    pieces: list[tuple[int, int | None]] = []
    remaining = qty
    for layer in store.transit_layers(conn, transfer, sku):
        if remaining <= 0:
            break
        take = min(remaining, layer.qty_left)
        store.transit_layer_take(conn, transfer, sku, layer.n, take)
        pieces.append((take, layer.unit_cost))
        remaining -= take
    if remaining > 0:
        pieces.append((remaining, None))
    return pieces


def with_kits(conn: Connection, order: Order, shipped: list[Shipped]) -> list[Shipped]:
    """A kit line of a transfer packed as its parts (the bench ships a kit built from
    parts as the parts) travels as them, each at its own FIFO cost: each part's line names
    the kit and how many go in one, and every part of a kit any of whose parts shipped has
    a line (0 units if none went), so whoever reads the report counts complete kits. A
    part the transfer also names on a line of its own counts for that line."""
    ordered = {line.sku for line in order.lines}
    kits = {line.sku: dict(store.kit_components(conn, line.sku)) for line in order.lines}
    part_of: dict[str, str] = {}
    for kit, parts in kits.items():
        for sku in parts:
            part_of.setdefault(sku, kit)
    tagged = [replace(s, kit=part_of[s.sku], per_kit=kits[part_of[s.sku]][s.sku])
              if s.sku in part_of and s.sku not in ordered else s for s in shipped]  # fmt: skip
    for kit in sorted({s.kit for s in tagged if s.kit}):
        there = {s.sku for s in tagged if s.kit == kit}
        tagged += [Shipped(sku, "", 0, [], kit, per) for sku, per in kits[kit].items()
                   if sku not in there]  # fmt: skip
    return tagged


def as_ordered(order: TransferOrder, units: Mapping[str, int]) -> dict[str, int]:
    """`units` per SKU (shipped or received) as the transfer's lines count them: a kit
    line's are the kits shipped whole and the complete kits its parts make; the parts
    themselves count for no line of their own. Other SKUs (not ordered) keep theirs."""
    kits = kit_parts(order)
    parts = {sku for per in kits.values() for sku in per}
    counted = {sku: n for sku, n in units.items() if sku not in parts}
    for kit, per in kits.items():
        counted[kit] = counted.get(kit, 0) + min(units.get(sku, 0) // n for sku, n in per.items())
    return counted


def kit_parts(order: TransferOrder) -> dict[str, dict[str, int]]:
    """Per kit line that travelled as its parts: each part and how many go in one kit."""
    kits: dict[str, dict[str, int]] = defaultdict(dict)
    for line in order.shipped:
        if line.kit is not None and line.per_kit is not None:
            kits[line.kit][line.sku] = line.per_kit
    return dict(kits)


def units_by_sku(lines: list[TransferShippedLine]) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for line in lines:
        found[line.sku] += line.qty
    return dict(found)


def report_shipped(conn: Connection, topics: Topics, transfer: str,
                   shipped: list[Shipped]) -> None:  # fmt: skip
    lines = [TransferShippedLine(sku=s.sku, qty=s.qty, lot=s.lot or None,
                                 layers=[TransferLayer(qty=p.qty, unit_cost_micros=p.unit_cost,
                                                       received=p.received) for p in s.pieces],
                                 kit=s.kit, per_kit=s.per_kit)
             for s in shipped]  # fmt: skip
    _report(conn, topics, TransferReport(transfer=transfer, site=topics.site, state="shipped",
                                         lines=lines))  # fmt: skip


def after_receipt(conn: Connection, topics: Topics, po: str) -> None:
    """Once the transfer's PO is received in full or closed short: tell the centre what came."""
    if not is_receiving(conn, topics, po):
        return
    row = store.po_get(conn, po)
    if row is None or row.status in purchasing.OPEN:
        return
    came: dict[str, int] = defaultdict(int)
    for _line, sku, _qty, received, _cost in store.po_lines(conn, po):
        came[sku] += received
    lines = [TransferShippedLine(sku=sku, qty=n) for sku, n in came.items()]
    _report(conn, topics, TransferReport(transfer=po, site=topics.site, state="received",
                                         lines=lines,
                                         movements=store.transfer_receipts(conn, po)))  # fmt: skip


def _report(conn: Connection, topics: Topics, report: TransferReport) -> None:
    store.outbox_put(conn, topics.transfer_report(report.transfer), encode(report), retain=True)


def check_late(conn: Connection, topics: Topics, now: datetime, late_days: int) -> int:
    """Alert `transfer_late` (once per transfer and cause) for a transfer under way that was
    short-shipped, or is not shipped / not received `late_days` after it was made /
    shipped; the number raised. Runs at the centre and at both sites (each its own)."""
    raised = 0
    cutoff = (now - timedelta(days=late_days)).isoformat()
    # Only those under way: an alert cleared by hand is not raised again once received.
    for row in store.transfers_unfinished(conn, 10_000):
        for cause, message in _lateness(row, cutoff, late_days):
            raised += alerts.raise_(conn, topics, now.isoformat(), "transfer_late", "warning",
                                    message, dedupe=f"transfer_late:{row.transfer}:{cause}")  # fmt: skip
    return raised


def _lateness(row: store.TransferRow, cutoff: str, days: int) -> list[tuple[str, str]]:
    name = f"transfer {row.transfer} ({row.from_site} -> {row.to_site})"
    order = msgspec.json.decode(row.payload, type=TransferOrder)
    found = []
    if row.status == "open" and row.created < cutoff:
        found.append(("unshipped", f"{name} not shipped {days} days after it was made"))
    if row.status == "in_transit" and (row.shipped or row.created) < cutoff:
        found.append(("unreceived", f"{name} in transit and not received after {days} days"))
    shipped = as_ordered(order, units_by_sku(order.shipped))
    short = [f"{line.sku} {shipped.get(line.sku, 0)} of {line.qty}" for line in order.lines
             if row.status != "open" and shipped.get(line.sku, 0) < line.qty]  # fmt: skip
    if short:
        found.append(("short", f"{name} short-shipped: " + ", ".join(short)))
    return found
