"""Hub-originated movements: reversals and approved count variances.

The ledger stays one append-only stream of events keyed (station, epoch, seq): the hub
journals its own events as station `hub`, with an epoch of its own (made once per
database) and a seq that rises by one per event, kept in `cursors` like any station's.
So a correction is an event like any other: applied once, in order, and checkable.
"""

import secrets
from datetime import UTC, datetime, tzinfo

from hub import alerts, fifo, ledger, orders, sales, store
from hub.store.connection import Connection
from protocol.envelope import encode
from protocol.topics import Topics

HUB_STATION = "hub"


class CorrectionError(ValueError):
    """A correction that cannot be made (says why)."""


class NothingToCorrect(CorrectionError):
    """The movement or count named does not exist."""


class AlreadySettled(CorrectionError):
    """The movement is already reversed (or is a reversal), the count already decided."""


def hub_event(
    conn: Connection, type_: str, data: dict, now: datetime, effects: ledger.Effects,
    zone: tzinfo,
) -> ledger.Source:  # fmt: skip
    """Journal one hub event (inside the caller's transaction); `zone`: the site's."""
    epoch = store.hub_epoch(conn, f"hub-{secrets.token_hex(6)}")
    seq = store.cursor_get(conn, HUB_STATION, epoch) + 1
    ts, hub_ts = now.isoformat(), now.isoformat()
    event_id = store.event_insert(conn, HUB_STATION, epoch, seq, type_, ts, hub_ts, encode(data))
    store.cursor_set(conn, HUB_STATION, epoch, seq, hub_ts)
    effects.events += 1
    return ledger.Source(event_id, HUB_STATION, epoch, seq, type_, now, hub_ts, zone)


def reverse(
    conn: Connection, topics: Topics, movement_id: int, reason: str, by: str,
    now: datetime, effects: ledger.Effects, zone: tzinfo = UTC,
) -> int:  # fmt: skip
    """Reverse the event that `movement_id` belongs to (all its movements: a move's two legs,
    every line of a shipment); returns the reversing event's id."""
    movement = store.movement_get(conn, movement_id)
    if movement is None:
        raise NothingToCorrect(f"no movement {movement_id}")
    if store.event_type(conn, movement.event_id) == "reversal":
        raise AlreadySettled(f"movement {movement_id} is itself a reversal: post a new event")
    if store.event_type(conn, movement.event_id) == "return":
        # Refund systems acted on it (returns topic): correct it with an adjustment.
        raise CorrectionError(f"movement {movement_id} is a customer return, which cannot be "
                              "reversed: correct the stock with an adjustment")  # fmt: skip
    if store.reversal_of(conn, movement.event_id) is not None:
        raise AlreadySettled(f"the event of movement {movement_id} is already reversed")
    data = {"event": movement.event_id, "movement": movement_id, "reason": reason, "by": by}
    source = hub_event(conn, "reversal", data, now, effects, zone)
    ctx = ledger.Ctx(conn, topics, source, effects)
    for original in reversed(store.movements_of_event(conn, movement.event_id)):
        _undo(ctx, original)
    sales.reverse(conn, movement.event_id, source.event_id, source.day)
    store.reversal_add(conn, movement.event_id, source.event_id, reason)
    return source.event_id


def _undo(ctx: ledger.Ctx, original: store.Movement) -> None:
    posting = ledger.Posting(original.sku, original.location, -original.delta, original.lot,
                             original.owner)  # fmt: skip
    if original.delta > 0:
        # Take back the very units it brought (its own layers first), at their cost.
        ledger.post_outbound(ctx, posting, prefer_movement=original.id)
        return
    movement = ledger.post(ctx, posting)
    day = ctx.source.day
    if original.owner:
        for qty, cost in store.consignment_owed_of(ctx.conn, original.id):
            store.consignment_owed_add(ctx.conn, movement.id, original.owner, original.sku,
                                       -qty, cost, day)  # fmt: skip
        return
    line = fifo.Line(original.sku, original.location, original.lot)
    ledger.book(ctx, original.sku, movement.id,
                fifo.restore(ctx.conn, line, original.id, movement.id, day))  # fmt: skip
    if original.type == "shipment":
        ctx.effects.booked.day(day, original.sku, out_qty=original.delta)


# --- count approvals -------------------------------------------------------------------------
def decide_count(
    conn: Connection, topics: Topics, count_id: int, approve: bool, by: str,
    now: datetime, effects: ledger.Effects, zone: tzinfo = UTC,
) -> store.CountRow:  # fmt: skip
    """Approve (post the variance found at count time) or reject a pending count."""
    count = store.count_get(conn, count_id)
    if count is None:
        raise NothingToCorrect(f"no count {count_id}")
    if count.status != "pending":
        raise AlreadySettled(f"count {count_id} is {count.status}, not pending")
    posted = None
    if approve:
        data = {"count": count_id, "by": by}
        source = hub_event(conn, "count_approval", data, now, effects, zone)
        ctx = ledger.Ctx(conn, topics, source, effects)
        # The variance against the book at count time: later movements are already booked.
        ledger.adjust(ctx, count.sku, count.location, count.variance, count.lot)
        posted = source.event_id
    store.count_decide(conn, count_id, "approved" if approve else "rejected", by,
                       now.isoformat(), posted)  # fmt: skip
    alerts.clear(conn, topics, f"count_variance:{count_id}", now.isoformat())
    return store.count_get(conn, count_id)


def settle_count(
    conn: Connection, topics: Topics, count_id: int, approve: bool, by: str,
    now: datetime, zone: tzinfo = UTC,
) -> store.CountRow:  # fmt: skip
    """`decide_count` as a change of its own (inside the caller's transaction): the stock of
    what the approval moved is published, as after any batch of station events."""
    effects = ledger.Effects()
    count = decide_count(conn, topics, count_id, approve, by, now, effects, zone)
    publish(conn, topics, effects, now)
    return count


def publish(conn: Connection, topics: Topics, effects: ledger.Effects, now: datetime):
    """After a correction: its movements, then the stock message (and low-stock check) of
    every sku it touched."""
    ledger.finish(conn, topics, effects)
    orders.publish_stock(conn, topics, sorted(effects.skus), now.isoformat())
