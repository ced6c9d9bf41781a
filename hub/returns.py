"""Customer returns: what may come back against a shipped order or an RMA, and the
`return` event booked into the ledger.

- What an order shipped is read from its shipment movements (lots, the pick location) and
  events (serials); what may still come back is that minus what has come back. It is
  published retained on returnable/{order}, and on returnable/{rma} for each return
  authorisation other systems created (`create_rma`), limited to the RMA's lines.
- A returned unit comes back at the FIFO cost it left with (the cost flows of the order's
  shipments, in order), and the COGS its shipment booked is cancelled, as a reversal does.
  Resellable units go to the location the station named (where they were picked, or a
  returns bin); damaged ones to a quarantine location, which from then on is held: on hand,
  not available to orders, never picked from. Scrap is written off: no stock comes back,
  the cost stays an expense, and the line records the value written off.
- Every return is published on `returns` with its value, for the systems that refund.
  More back than was shipped is booked all the same (facts are never refused) and raises
  `return_not_shipped`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import msgspec

# hub.ledger dispatches `return` events here: import the module, not its names.
from hub import alerts, fifo, ledger, orders, store
from hub.catalog import fallback_cost
from hub.money import from_micros
from hub.store.connection import Connection
from protocol.envelope import encode
from protocol.events import Shipment
from protocol.returns import (
    AppliedReturn,
    AppliedReturnLine,
    Return,
    Returnable,
    ReturnableLine,
    ReturnLine,
)
from protocol.topics import Topics
from protocol.types import Code, PositiveQty, Text


class ReturnError(ValueError):
    """A return authorisation that cannot be created (unknown sku, more than shipped)."""


class ReturnNotFound(LookupError):
    pass


class ReturnConflict(ValueError):
    pass


class RmaLine(msgspec.Struct, forbid_unknown_fields=True):
    sku: Code
    qty: PositiveQty


class RmaIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """POST /api/returns: an RMA number for a shipped order; no lines: all it shipped."""

    rma: Code
    order: Code
    lines: list[RmaLine] = []
    note: Text = ""


# --- what may come back --------------------------------------------------------------------
def returnable(conn: Connection, order_id: str, rma: str | None = None) -> Returnable:
    """What may still come back against the order (or against one of its RMAs)."""
    shipped = store.shipped_on_order(conn, order_id)
    back = store.returned_on_order(conn, order_id)
    serials_back = {s for *_, serials in back for s in msgspec.json.decode(serials)}
    returned = Counter()
    for _rma, sku, _lot, qty, _serials in back:
        returned[sku] += qty
    lines: dict[str, ReturnableLine] = {}
    for units in shipped:
        line = lines.get(units.sku) or ReturnableLine(sku=units.sku, qty=0, shipped=0,
                                                      location=units.location)  # fmt: skip
        lots = dict(line.lots)
        if units.lot:
            lots[units.lot] = lots.get(units.lot, 0) + units.qty
        lines[units.sku] = msgspec.structs.replace(line, shipped=line.shipped + units.qty,
                                                   lots=lots)  # fmt: skip
    for sku, serial in _serials_shipped(conn, order_id):
        if sku in lines and serial not in serials_back:
            lines[sku] = msgspec.structs.replace(lines[sku], serials=[*lines[sku].serials, serial])
    result = [msgspec.structs.replace(x, qty=max(x.shipped - returned[x.sku], 0))
              for x in lines.values()]  # fmt: skip
    if rma is not None:
        result = _limited(conn, rma, result, back)
    order = orders.get_order(conn, order_id)
    return Returnable(id=rma or order_id, order=order_id, rma=rma,
                      customer=order.customer if order else None, lines=result)  # fmt: skip


def _serials_shipped(conn: Connection, order_id: str) -> list[tuple[str, str]]:
    """(sku, serial) of every serial the order's shipments reported."""
    found = []
    for data in store.shipments_of_order(conn, order_id):
        shipment = msgspec.json.decode(data, type=Shipment)
        found += [(line.sku, serial) for line in shipment.lines for serial in line.serials]
    return found


def _limited(conn: Connection, rma: str, lines: list[ReturnableLine], back: list):
    """An RMA's lines: what it authorises, less what came back against it."""
    found = store.rma_get(conn, rma)
    wanted = {x["sku"]: x["qty"] for x in msgspec.json.decode(found[1])} if found else {}
    if not wanted:
        return lines
    came = Counter()
    for rma_, sku, _lot, qty, _serials in back:
        if rma_ == rma:
            came[sku] += qty
    return [msgspec.structs.replace(x, qty=min(x.qty, max(wanted[x.sku] - came[x.sku], 0)))
            for x in lines if x.sku in wanted]  # fmt: skip


def publish(conn: Connection, topics: Topics, order_id: str) -> None:
    """returnable/{order} and returnable/{rma} of each of its RMAs, emptied when nothing
    more may come back (so stations forget them)."""
    for rma in [None, *store.rmas_of_order(conn, order_id)]:
        found = returnable(conn, order_id, rma)
        open_ = any(line.qty for line in found.lines)
        payload = encode(found) if open_ else b""
        store.outbox_put(conn, topics.returnable(found.id), payload, retain=True)


def close_window(conn: Connection, topics: Topics, today: date, days: int) -> int:
    """Empty returnable/{order} of orders closed more than `days` ago (since the last run),
    so the stations' caches and the broker's retained store do not grow for ever; their
    RMAs stay. Returns how many orders were closed to returns."""
    cutoff = (today - timedelta(days=days)).isoformat()
    since = store.meta_get(conn, WINDOW_KEY) or ""
    closed = store.order_ids_closed_between(conn, since, cutoff)
    for order_id in closed:
        store.outbox_put(conn, topics.returnable(order_id), b"", retain=True)
    store.meta_set(conn, WINDOW_KEY, cutoff)
    return len(closed)


WINDOW_KEY = "returns_window_closed_until"


def release(conn: Connection, topics: Topics, location: str, now: str) -> list[str]:
    """A quarantine location is no longer held (its stock was inspected and is sellable):
    its stock is available again; returns the skus whose availability changed."""
    if not store.location_held(conn, location):
        raise ReturnNotFound(f"{location} is not held")
    skus = store.location_release(conn, location)
    orders.publish_stock(conn, topics, skus, now)
    return skus


def create_rma(conn: Connection, topics: Topics, rma: RmaIn, now: str) -> dict:
    """A return authorisation for a shipped order; inside the caller's transaction."""
    if store.rma_get(conn, rma.rma) is not None:
        raise ReturnConflict(f"RMA {rma.rma} exists already")
    if store.order_get(conn, rma.order) is None:
        raise ReturnNotFound(f"no order {rma.order}")
    may = {line.sku: line.qty for line in returnable(conn, rma.order).lines}
    if not may:
        raise ReturnError(f"order {rma.order} has shipped nothing from this warehouse")
    problems = [f"{x.sku} was not shipped on {rma.order}" for x in rma.lines if x.sku not in may]
    problems += [f"{x.sku}: {x.qty} asked, {may[x.sku]} may come back" for x in rma.lines
                 if x.sku in may and x.qty > may[x.sku]]  # fmt: skip
    if len({x.sku for x in rma.lines}) != len(rma.lines):
        problems.append("one line per sku")
    if problems:
        raise ReturnError(f"RMA {rma.rma}: " + "; ".join(problems))
    store.rma_add(conn, rma.rma, rma.order, msgspec.json.encode(rma.lines).decode(), rma.note,
                  now)  # fmt: skip
    publish(conn, topics, rma.order)
    return rma_dict(conn, rma.rma)


def rma_dict(conn: Connection, rma: str) -> dict:
    found = store.rma_get(conn, rma)
    if found is None:
        raise ReturnNotFound(f"no RMA {rma}")
    order_id, lines, note, created = found
    open_ = returnable(conn, order_id, rma)
    return {"rma": rma, "order": order_id, "label": f"RMA:{rma}", "note": note,
            "created": created, "lines": msgspec.json.decode(lines),
            "returnable": [{"sku": x.sku, "qty": x.qty} for x in open_.lines]}  # fmt: skip


# --- the return event ----------------------------------------------------------------------
def apply(ctx: ledger.Ctx, data: Return) -> None:
    conn = ctx.conn
    booked = [_line(ctx, data, line) for line in data.lines]
    message = AppliedReturn(event_id=ctx.source.event_id, order=data.order, rma=data.rma,
                            station=ctx.source.station,
                            hub_ts=datetime.fromisoformat(ctx.source.hub_ts),
                            lines=booked)  # fmt: skip
    store.outbox_put(conn, ctx.topics.returns, encode(message), retain=False)
    publish(conn, ctx.topics, data.order)


def _line(ctx: ledger.Ctx, data: Return, line: ReturnLine) -> AppliedReturnLine:
    conn, day = ctx.conn, ctx.source.day
    lot = line.lot or ""
    pieces = _cost_left_with(ctx, data.order, line)
    value = sum(p.qty * p.unit_cost for p in pieces)
    if line.condition == "damaged":
        # Whatever else lies there is held now too: its stock message and its open orders'
        # pick locations follow (as for the skus the return moves).
        ctx.effects.skus.update(
            store.location_hold(conn, line.location, "quarantine", ctx.source.hub_ts)
        )
    if line.condition != "scrap":
        owner = ctx.effects.products.owner(conn, line.sku)
        movement = ledger.post(ctx, ledger.Posting(line.sku, line.location, line.qty, lot, owner))
        if not owner:
            _restock(ctx, movement.id, fifo.Line(line.sku, line.location, lot), pieces)
    store.return_line_add(conn, ctx.source.event_id, day, data.order, data.rma or "", line.sku,
                          lot, line.qty, line.condition, line.reason, line.location,
                          msgspec.json.encode(line.serials).decode(), value)  # fmt: skip
    return AppliedReturnLine(sku=line.sku, qty=line.qty, condition=line.condition,
                             reason=line.reason, location=line.location, lot=line.lot,
                             serials=line.serials, value=from_micros(value))  # fmt: skip


def _restock(ctx: ledger.Ctx, movement_id: int, line: fifo.Line, pieces: list[fifo.Piece]):
    """Back into stock at the costs they left with; the COGS their shipment booked is
    cancelled by negative flows of the shipment's kind (as `fifo.restore` does)."""
    day = ctx.source.day
    change = fifo.Change()
    for p in pieces:
        change += fifo.add(ctx.conn, line, p.qty, p.unit_cost, movement_id, p.received or day,
                           day)  # fmt: skip
        store.flow_add(ctx.conn, movement_id, line.sku, fifo.SALE, None, -p.qty, p.unit_cost,
                       -p.qty * p.unit_cost, day)  # fmt: skip
        change += fifo.Change(0, -p.qty * p.unit_cost)
    ledger.book(ctx, line.sku, movement_id, change)


def _cost_left_with(ctx: ledger.Ctx, order_id: str, line: ReturnLine) -> list[fifo.Piece]:
    """The next `line.qty` units the order shipped of this sku (and lot), after those that
    came back already, at their cost; units never shipped at the fallback cost."""
    conn = ctx.conn
    back = sum(qty for _rma, sku, lot, qty, _s in store.returned_on_order(conn, order_id)
               if sku == line.sku and (line.lot is None or lot == line.lot))  # fmt: skip
    left: list[fifo.Piece] = []
    for units in store.shipped_on_order(conn, order_id):
        if units.sku != line.sku or (line.lot is not None and units.lot != line.lot):
            continue
        for kind, qty, unit_cost, received in store.flows_of(conn, units.movement_id):
            if kind == fifo.SALE and qty > 0:
                left.append(fifo.Piece(qty, unit_cost, received))
    pieces, skip, want = [], back, line.qty
    for piece in left:
        usable = piece.qty - min(skip, piece.qty)
        skip -= piece.qty - usable
        take = min(usable, want)
        if take:
            pieces.append(fifo.Piece(take, piece.unit_cost, piece.received))
            want -= take
    if want:
        pieces.append(fifo.Piece(want, fallback_cost(conn, line.sku), ctx.source.hub_ts))
        alerts.raise_(
            conn, ctx.topics, ctx.source.hub_ts, "return_not_shipped", "warning",
            f"{want} × {line.sku} returned against {order_id} beyond what it shipped",
            sku=line.sku, station=ctx.source.station,
        )  # fmt: skip
    return pieces
