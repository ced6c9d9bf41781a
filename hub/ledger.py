"""Applies one station event to the perpetual ledger, inside the caller's transaction.

Each movement type becomes postings `(sku, location, lot, owner, delta)`; each posting is
an immutable movement row plus `qty = qty + delta` on its balance. Facts are never
refused: an unknown SKU or a balance going below zero is recorded as it happened and
raises an alert.
"""

import sqlite3
from dataclasses import dataclass, field

from hub import orders, store
from protocol.envelope import Event, encode
from protocol.events import Adjustment, Count, Move, Receipt, Shipment
from protocol.messages import Alert, AppliedMovement, Stock, StockLine
from protocol.topics import Topics


@dataclass(frozen=True)
class Posting:
    sku: str
    location: str
    delta: int
    lot: str = ""
    owner: str = ""


@dataclass
class Effects:
    """What applying a batch changed, for publishing after the commit."""

    skus: set[str] = field(default_factory=set)
    events: int = 0
    movements: int = 0


def postings(conn: sqlite3.Connection, event: Event) -> list[Posting]:
    data = event.data
    if isinstance(data, Receipt):
        return [Posting(data.sku, data.location, data.qty, data.lot or "", data.owner or "")]
    if isinstance(data, Shipment):
        return [
            Posting(line.sku, line.location, -line.qty, line.lot or "")
            for line in data.lines
            if line.qty
        ]
    if isinstance(data, Move):
        lot = data.lot or ""
        return [
            Posting(data.sku, data.from_, -data.qty, lot),
            Posting(data.sku, data.to, data.qty, lot),
        ]
    if isinstance(data, Adjustment):
        return [Posting(data.sku, data.location, data.qty, data.lot or "")] if data.qty else []
    if isinstance(data, Count):
        # The station applies its events in order, so the book now is the book as of this
        # count in the station's sequence.
        book = store.balance_get(conn, data.sku, data.location, data.lot or "")
        delta = data.counted - book
        return [Posting(data.sku, data.location, delta, data.lot or "")] if delta else []
    return []  # scans and other non-movement events are recorded, not posted


def _follow_up(conn: sqlite3.Connection, topics: Topics, event: Event, hub_ts: str) -> None:
    """What an event means beyond the balances (an order's status, ...)."""
    if isinstance(event.data, Shipment):
        orders.mark_shipped(conn, topics, event.data.order, hub_ts)


def apply_event(
    conn: sqlite3.Connection,
    topics: Topics,
    event: Event,
    hub_ts: str,
    effects: Effects,
) -> None:
    ts = event.ts.isoformat()
    event_id = store.event_insert(
        conn, event.station, event.epoch, event.seq, event.type, ts, hub_ts, event.raw
    )
    effects.events += 1
    _follow_up(conn, topics, event, hub_ts)
    for posting in postings(conn, event):
        movement, balance = store.movement_add(
            conn, event_id, event.type, posting.sku, posting.location, posting.lot,
            posting.owner, posting.delta, ts, hub_ts,
        )  # fmt: skip
        effects.movements += 1
        effects.skus.add(posting.sku)
        _publish_movement(conn, topics, event, movement)
        if balance < 0 and balance - posting.delta >= 0:
            _alert(
                conn, topics, hub_ts, "negative_stock", "critical",
                f"{posting.sku} at {posting.location} is below zero ({balance})",
                sku=posting.sku, station=event.station,
            )  # fmt: skip
        if not store.product_exists(conn, posting.sku):
            _alert(
                conn, topics, hub_ts, "unknown_sku", "warning",
                f"{event.type} of unknown SKU {posting.sku} from {event.station}",
                sku=posting.sku, station=event.station,
            )  # fmt: skip


def _publish_movement(
    conn: sqlite3.Connection, topics: Topics, event: Event, movement: store.Movement
) -> None:
    message = AppliedMovement(
        ledger_seq=movement.id,
        station=event.station,
        epoch=event.epoch,
        seq=event.seq,
        type=movement.type,
        sku=movement.sku,
        location=movement.location,
        delta=movement.delta,
        lot=movement.lot or None,
        owner=movement.owner or None,
        ts=event.ts,
        hub_ts=movement.hub_ts,
    )
    store.outbox_put(conn, topics.movements, encode(message), retain=False)


def _alert(
    conn: sqlite3.Connection,
    topics: Topics,
    now: str,
    kind: str,
    severity: str,
    message: str,
    sku: str | None = None,
    station: str | None = None,
) -> None:
    store.alert_add(conn, kind, severity, message, now, sku=sku, station=station)
    alert = Alert(kind=kind, severity=severity, message=message, sku=sku, station=station)
    store.outbox_put(conn, topics.alerts, encode(alert), retain=False)


def publish_stock(conn: sqlite3.Connection, topics: Topics, sku: str, now: str) -> None:
    """Queue the retained stock/{sku} message with the sku's balances as they now are."""
    lines = [
        StockLine(location=loc, qty=qty, lot=lot or None, owner=owner or None)
        for loc, lot, owner, qty in store.stock_lines(conn, sku)
    ]
    on_hand = sum(line.qty for line in lines)
    stock = Stock(sku=sku, on_hand=on_hand, available=on_hand, locations=lines)
    store.outbox_put(conn, topics.stock(sku), encode(stock), retain=True)
