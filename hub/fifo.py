"""FIFO cost layers of our own stock, per (sku, location, lot), inside the applying transaction.

- Inbound units first settle any deficit of the line (units issued before a layer covered
  them, provisionally costed at the fallback cost): the difference between the real cost and
  the provisional one is booked as a true-up flow of the kind that caused the deficit (so a
  shipment's COGS ends up at the cost of the receipt that covered it). The rest is a new layer.
- Outbound units leave the oldest layers first (a reversal prefers the layers its original
  movement created); units beyond the layers make a deficit layer at the fallback cost.
- Every unit that leaves is a flow row: COGS is the sum of the flows of shipments.
Each function returns a `Change`: of our stock's value and of COGS, in micros.
"""

from dataclasses import dataclass

from hub import store
from hub.money import text
from hub.store.connection import Connection


@dataclass(frozen=True)
class Piece:
    """Units taken out of one layer, at its cost (received: the layer's FIFO date)."""

    qty: int
    unit_cost: int
    received: str


@dataclass(frozen=True)
class Change:
    value: int = 0  # of our stock's FIFO value
    cogs: int = 0  # of the cost of goods sold (flows of shipments)

    def __add__(self, other: "Change") -> "Change":
        return Change(self.value + other.value, self.cogs + other.cogs)


def _cogs(kind: str, value: int) -> int:
    return value if kind == SALE else 0


SALE = "shipment"


@dataclass(frozen=True)
class Line:
    sku: str
    location: str
    lot: str


def add(
    conn: Connection, line: Line, qty: int, unit_cost: int, movement_id: int,
    received: str, day: str,
) -> Change:  # fmt: skip
    value = cogs = 0
    remaining = qty
    for layer in store.layers_deficit(conn, line.sku, line.location, line.lot):
        if remaining <= 0:
            break
        settle = min(remaining, -layer.qty_left)
        store.layer_take(conn, layer.id, -settle)
        value += settle * layer.unit_cost
        true_up = settle * (unit_cost - layer.unit_cost)
        if true_up:
            store.flow_add(conn, movement_id, line.sku, layer.kind, layer.id, 0,
                           unit_cost - layer.unit_cost, true_up, day)  # fmt: skip
            cogs += _cogs(layer.kind, true_up)
        remaining -= settle
    if remaining > 0:
        store.layer_add(conn, line.sku, line.location, line.lot, movement_id, received,
                        remaining, unit_cost, "layer")  # fmt: skip
        value += remaining * unit_cost
    return Change(value, cogs)


def consume(
    conn: Connection, line: Line, qty: int, movement_id: int, kind: str,
    fallback_cost: int, day: str, now: str, prefer_movement: int = 0,
) -> tuple[list[Piece], Change]:  # fmt: skip
    """Take `qty` units out; returns the pieces taken and the change (value falls)."""
    pieces: list[Piece] = []
    remaining = qty
    for layer in store.layers_open(conn, line.sku, line.location, line.lot, prefer_movement):
        if remaining <= 0:
            break
        if layer.qty_left <= 0:
            continue
        take = min(remaining, layer.qty_left)
        store.layer_take(conn, layer.id, take)
        store.flow_add(conn, movement_id, line.sku, kind, layer.id, take, layer.unit_cost,
                       take * layer.unit_cost, day)  # fmt: skip
        pieces.append(Piece(take, layer.unit_cost, layer.received))
        remaining -= take
    if remaining > 0:
        deficit = store.deficit_add(conn, line.sku, line.location, line.lot, movement_id, now,
                                    remaining, fallback_cost, kind)  # fmt: skip
        store.flow_add(conn, movement_id, line.sku, kind, deficit, remaining, fallback_cost,
                       remaining * fallback_cost, day)  # fmt: skip
        pieces.append(Piece(remaining, fallback_cost, now))
    taken = sum(p.qty * p.unit_cost for p in pieces)
    return pieces, Change(-taken, _cogs(kind, taken))


def restore(
    conn: Connection, line: Line, original_movement: int, movement_id: int, day: str
) -> Change:
    """Undo an outbound movement: its units come back at the costs they left with, and
    negative flows of the original kind cancel what it booked (a shipment's COGS)."""
    change = Change()
    for kind, qty, unit_cost, received in store.flows_of(conn, original_movement):
        change += add(conn, line, qty, unit_cost, movement_id, received or day, day)
        store.flow_add(conn, movement_id, line.sku, kind, None, -qty, unit_cost,
                       -qty * unit_cost, day)  # fmt: skip
        change += Change(0, _cogs(kind, -qty * unit_cost))
    return change


def layers(conn: Connection, sku: str, limit: int = 500) -> list[dict]:
    """A product's open layers by location and lot, oldest first within each: what its own
    stock is valued at. A negative qty is a deficit (issued before a layer covered it, at
    the fallback cost, settled by the next receipt)."""
    return [
        {"location": location, "lot": lot, "received": received, "expiry": expiry,
         "qty": qty, "unit_cost": text(cost), "value": text(qty * cost),
         "deficit": qty < 0}
        for location, lot, received, expiry, qty, cost in store.layers_of_sku(conn, sku, limit)
    ]  # fmt: skip
