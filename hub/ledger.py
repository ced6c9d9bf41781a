"""Applies one event to the perpetual ledger, inside the caller's transaction.

Each event becomes postings `(sku, location, lot, owner, delta)`; each posting is an
immutable movement row plus `qty = qty + delta` on its balance, FIFO cost layers for our
own stock (hub.fifo), what consignment sales owe their owners, and the per-day aggregates
reports read. Facts are never refused: an unknown SKU or a balance going below zero is
recorded as it happened and raises an alert.

Station events come from `apply_event`; the hub's own (reversals, approved count
variances) from `hub.corrections`, through the same `post`.
"""

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from hub import (
    alerts,
    consignment,
    counts,
    fifo,
    kits,
    orders,
    picking,
    purchasing,
    returns,
    sales,
    siteday,
    store,
    transfers,
)
from hub.allocation import Take, allocate
from hub.booked import Booked
from hub.catalog import Known
from hub.money import to_micros
from hub.settings import Settings
from hub.settings import load as load_settings
from hub.store.connection import Connection
from hub.tallies import Tallies, pick_errors_key
from protocol.envelope import Event, encode
from protocol.events import Adjustment, Count, Move, Receipt, Scan, Shipment
from protocol.messages import AppliedMovement, Order, TransferShippedLine
from protocol.returns import Assembly, Return
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
    settings: Settings | None = None
    # Movements to publish once their event is whole (their value is known only then).
    unpublished: list[int] = field(default_factory=list)
    # The scans' counts, written once at the change's end (`finish`).
    tallies: Tallies = field(default_factory=Tallies)
    # The products looked up, each read once (catalog.Known).
    products: Known = field(default_factory=Known)
    # The day's SKU totals and the movements' values, written once at the end (hub.booked).
    booked: Booked = field(default_factory=Booked)
    # The orders pack scans found not open, not read again (orders.mark_packing).
    not_open: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Source:
    """The event a movement belongs to (station events and the hub's own alike)."""

    event_id: int
    station: str
    epoch: str
    seq: int
    type: str
    ts: datetime
    hub_ts: str
    zone: tzinfo  # the site's: its day is the one the daily aggregates count it in

    @property
    def day(self) -> str:
        """The site's day the hub received the event on (hub.siteday)."""
        return siteday.day_of(self.hub_ts, self.zone)


@dataclass
class Ctx:
    conn: Connection
    topics: Topics
    source: Source
    effects: Effects

    @property
    def settings(self) -> Settings:
        if self.effects.settings is None:
            self.effects.settings = load_settings(self.conn)
        return self.effects.settings


def apply_event(
    conn: Connection, topics: Topics, event: Event, hub_ts: str, effects: Effects,
    zone: tzinfo,
) -> None:  # fmt: skip
    """Apply a station's event received at `hub_ts`; `zone`: the site's time zone."""
    ts = event.ts.isoformat()
    event_id = store.event_insert(
        conn, event.station, event.epoch, event.seq, event.type, ts, hub_ts, event.raw
    )
    effects.events += 1
    source = Source(event_id, event.station, event.epoch, event.seq, event.type, event.ts, hub_ts,
                    zone)  # fmt: skip
    ctx = Ctx(conn, topics, source, effects)
    handler = _HANDLERS.get(type(event.data))
    if handler is not None:
        handler(ctx, event.data)
    elif event.type == "po_close":  # added to the protocol in parallel; handled by name
        purchasing.close(conn, topics, event.data.po, hub_ts, f"closed at {event.station}",
                         source.day)  # fmt: skip
        transfers.after_receipt(conn, topics, event.data.po)


# --- postings ----------------------------------------------------------------------------
def post(ctx: Ctx, posting: Posting) -> store.Movement:
    """One movement and its balance delta, with its alerts and its published message."""
    conn, source = ctx.conn, ctx.source
    movement, balance = store.movement_add(
        conn, source.event_id, source.type, posting.sku, posting.location, posting.lot,
        posting.owner, posting.delta, source.ts.isoformat(), source.hub_ts,
    )  # fmt: skip
    ctx.effects.movements += 1
    ctx.effects.skus.add(posting.sku)
    ctx.effects.unpublished.append(movement.id)
    if balance < 0 and balance - posting.delta >= 0:
        alerts.raise_(
            conn, ctx.topics, source.hub_ts, "negative_stock", "critical",
            f"{posting.sku} at {posting.location} is below zero ({balance})",
            sku=posting.sku, station=source.station,
        )  # fmt: skip
    if not ctx.effects.products.exists(conn, posting.sku):
        alerts.raise_(
            conn, ctx.topics, source.hub_ts, "unknown_sku", "warning",
            f"{source.type} of unknown SKU {posting.sku} from {source.station}",
            sku=posting.sku, station=source.station, dedupe=alerts.unknown_sku_key(posting.sku),
        )  # fmt: skip
    return movement


def post_inbound(ctx: Ctx, posting: Posting, unit_cost: int | None) -> store.Movement:
    movement = post(ctx, posting)
    if posting.owner:
        return movement
    cost = ctx.effects.products.fallback_cost(ctx.conn, posting.sku) if unit_cost is None \
        else unit_cost
    line = fifo.Line(posting.sku, posting.location, posting.lot)
    book(ctx, posting.sku, movement.id, fifo.add(ctx.conn, line, posting.delta, cost,
                                                 movement.id, ctx.source.hub_ts,
                                                 ctx.source.day))  # fmt: skip
    return movement


def book(ctx: Ctx, sku: str, movement_id: int, change: fifo.Change) -> None:
    """Value and COGS changes into the per-day aggregates, and the value change onto the
    movement that made it (the accountant's export lists it)."""
    day = ctx.source.day
    if change.value or change.cogs:
        store.daily_totals_add(ctx.conn, day, value_delta=change.value, cogs=change.cogs)
    ctx.effects.booked.value(movement_id, change.value)
    if change.cogs:
        ctx.effects.booked.day(day, sku, cogs=change.cogs)


def post_outbound(
    ctx: Ctx, posting: Posting, prefer_movement: int = 0, sale_price: int | None = None
) -> list[fifo.Piece]:
    """A negative posting; returns the cost pieces that left (none for consignment stock).
    `sale_price`: what the customer pays per unit, when the posting is a priced sale."""
    conn, source = ctx.conn, ctx.source
    movement = post(ctx, posting)
    qty = -posting.delta
    if posting.owner:
        _consignment_sale(ctx, movement, posting.owner, qty, sale_price)
        return []
    line = fifo.Line(posting.sku, posting.location, posting.lot)
    pieces, change = fifo.consume(
        conn, line, qty, movement.id, source.type,
        ctx.effects.products.fallback_cost(conn, posting.sku), source.day,
        source.hub_ts, prefer_movement,
    )  # fmt: skip
    book(ctx, posting.sku, movement.id, change)
    return pieces


def _consignment_sale(
    ctx: Ctx, movement: store.Movement, owner: str, qty: int, sale_price: int | None
) -> None:
    """Only sales owe the owner; a loss of consigned stock is between us and them."""
    if ctx.source.type != "shipment":
        return
    owed = consignment.owed_per_unit(ctx.conn, movement.sku, owner, sale_price)
    store.consignment_owed_add(ctx.conn, movement.id, owner, movement.sku, qty, owed,
                               ctx.source.day)  # fmt: skip


def takes_out(ctx: Ctx, sku: str, location: str, qty: int, lot: str | None) -> list[Take]:
    stock = store.stock_at(ctx.conn, sku, location, lot)
    return allocate(stock, qty, lot or "", ctx.effects.products.owner(ctx.conn, sku))


def issue(
    ctx: Ctx, sku: str, location: str, qty: int, lot: str | None, sale_price: int | None = None
) -> list[Take]:
    """Outbound units, spread over the lots and owners there (hub.allocation)."""
    takes = takes_out(ctx, sku, location, qty, lot)
    for take in takes:
        post_outbound(ctx, Posting(sku, location, -take.qty, take.lot, take.owner),
                      sale_price=sale_price)  # fmt: skip
    return takes


# --- station events ------------------------------------------------------------------------
def _receipt(ctx: Ctx, data: Receipt) -> None:
    conn, source = ctx.conn, ctx.source
    owner = data.owner or ctx.effects.products.owner(conn, data.sku)
    lot = data.lot or ""
    if lot:
        store.lot_seen(conn, data.sku, lot, data.expiry.isoformat() if data.expiry else None,
                       source.hub_ts)  # fmt: skip
    po_cost = None
    if data.po:
        po_cost = purchasing.receive(conn, ctx.topics, data.po, data.sku, data.qty,
                                     source.hub_ts, source.station, source.day)  # fmt: skip
    ctx.effects.booked.day(source.day, data.sku, in_qty=data.qty)
    if data.po and not owner and transfers.is_receiving(conn, ctx.topics, data.po):
        _receive_transfer(ctx, data, lot)
        return
    cost = to_micros(data.unit_cost) if data.unit_cost is not None else po_cost
    if owner and cost is not None:
        store.consignment_price_set(conn, data.sku, owner, cost)
    post_inbound(ctx, Posting(data.sku, data.location, data.qty, lot, owner), cost)


def _receive_transfer(ctx: Ctx, data: Receipt, lot: str) -> None:
    """Units of a transfer come in at the sender's FIFO costs, its layers oldest first (an
    over-receipt beyond them at the fallback cost)."""
    booked = [post_inbound(ctx, Posting(data.sku, data.location, qty, lot), cost).id
              for qty, cost in transfers.receipt_pieces(ctx.conn, data.po, data.sku, data.qty)]
    # Which movements are the transfer's, for the centre to count its units once: listed
    # in the `received` report, and named on each movement as it is published.
    store.transfer_receipts_put(ctx.conn, data.po, booked)
    store.transfer_movements_put(ctx.conn, data.po, booked)
    transfers.after_receipt(ctx.conn, ctx.topics, data.po)


def _shipment(ctx: Ctx, data: Shipment) -> None:
    conn, source = ctx.conn, ctx.source
    order = _open_order(conn, data.order)
    if order is not None and order.kind == "transfer":
        _ship_transfer(ctx, data, order)
        return
    prices = sales.unit_prices(order)
    for line in data.lines:
        if not line.qty:
            continue
        if store.kit_components(conn, line.sku):
            kits.ship(ctx, line.sku, line.location, line.qty)  # a kit packed whole
        else:
            issue(ctx, line.sku, line.location, line.qty, line.lot, prices.get(line.sku))
        ctx.effects.booked.day(source.day, line.sku, out_qty=line.qty)
        store.activity_out(conn, line.sku, source.day)
    if order is not None:
        sales.book_shipment(conn, source.event_id, data, order, source.day)
    picking.shipped(conn, source.day, source.station, data)
    orders.apply_shipment(conn, ctx.topics, data, source.hub_ts, source.day)
    returns.publish(conn, ctx.topics, data.order)  # what may now come back


def _ship_transfer(ctx: Ctx, data: Shipment, order: Order) -> None:
    """A transfer leaves the shelves into transit (still ours, at the cost it had), and the
    centre learns what left with its cost layers. Not a sale: no revenue, no COGS."""
    conn, source = ctx.conn, ctx.source
    transit = transfers.transit_location(order.order)
    for sku in store.location_hold(conn, transit, f"in transit: transfer {order.order}",
                                   source.hub_ts):  # fmt: skip
        ctx.effects.skus.add(sku)
    shipped = []
    for line in data.lines:
        if line.qty and store.kit_components(conn, line.sku):
            # A kit packed whole: what the shelf lacks as kits was built at the bench.
            kits.backflush(ctx, line.sku, line.location, line.qty)
        for take in takes_out(ctx, line.sku, line.location, line.qty, line.lot) if line.qty else ():
            pieces = _out(ctx, Posting(line.sku, line.location, -take.qty, take.lot, take.owner))
            target = Posting(line.sku, transit, take.qty, take.lot, take.owner)
            movement = post(ctx, target)
            if not take.owner:
                _arrive(ctx, target, pieces, movement.id)
            shipped.append(transfers.Shipped(line.sku, take.lot, take.qty, pieces))
    picking.shipped(conn, source.day, source.station, data)
    orders.apply_shipment(conn, ctx.topics, data, source.hub_ts, source.day)
    transfers.report_shipped(conn, ctx.topics, order.order,
                             transfers.with_kits(conn, order, shipped))  # fmt: skip


def _out(ctx: Ctx, posting: Posting) -> list[fifo.Piece]:
    """Units of a transfer leaving (the shelf, later the transit): FIFO cost flows of kind
    `transfer`, which are no cost of goods sold."""
    conn, source = ctx.conn, ctx.source
    movement = post(ctx, posting)
    if posting.owner:
        return []
    line = fifo.Line(posting.sku, posting.location, posting.lot)
    pieces, change = fifo.consume(conn, line, -posting.delta, movement.id, transfers.FLOW,
                                  ctx.effects.products.fallback_cost(conn, posting.sku),
                                  source.day, source.hub_ts)  # fmt: skip
    book(ctx, posting.sku, movement.id, change)
    return pieces


def book_transit_out(ctx: Ctx, transfer: str, lines: list[TransferShippedLine]) -> None:
    """The transfer was received at the other site: it leaves the sender's books."""
    transit = transfers.transit_location(transfer)
    for line in lines:
        for take in takes_out(ctx, line.sku, transit, line.qty, line.lot) if line.qty else ():
            _out(ctx, Posting(line.sku, transit, -take.qty, take.lot, take.owner))


def _open_order(conn: Connection, order_id: str) -> Order | None:
    """The order a shipment ships, while it still can (a closed one earns nothing again)."""
    found = store.order_get(conn, order_id)
    if found is None or found[0] not in orders.OPEN_STATUSES:
        return None
    return orders.get_order(conn, order_id)


def _move(ctx: Ctx, data: Move) -> None:
    for take in takes_out(ctx, data.sku, data.from_, data.qty, data.lot):
        source_posting = Posting(data.sku, data.from_, -take.qty, take.lot, take.owner)
        pieces = post_outbound(ctx, source_posting)
        target = Posting(data.sku, data.to, take.qty, take.lot, take.owner)
        movement = post(ctx, target)
        if not take.owner:
            _arrive(ctx, target, pieces, movement.id)


def _arrive(ctx: Ctx, target: Posting, pieces: list[fifo.Piece], movement_id: int) -> None:
    """Moved units keep their cost and their FIFO date at the new location."""
    line = fifo.Line(target.sku, target.location, target.lot)
    for p in pieces:
        book(ctx, target.sku, movement_id, fifo.add(ctx.conn, line, p.qty, p.unit_cost,
                                                    movement_id, p.received,
                                                    ctx.source.day))  # fmt: skip


def _adjustment(ctx: Ctx, data: Adjustment) -> None:
    adjust(ctx, data.sku, data.location, data.qty, data.lot)


def adjust(ctx: Ctx, sku: str, location: str, delta: int, lot: str | None) -> None:
    """Found units join the default line at the fallback cost; lost ones leave FEFO."""
    if delta > 0:
        owner = ctx.effects.products.owner(ctx.conn, sku)
        post_inbound(ctx, Posting(sku, location, delta, lot or "", owner), None)
    elif delta < 0:
        issue(ctx, sku, location, -delta, lot)


def _count(ctx: Ctx, data: Count) -> None:
    """Reconciled against the book now, which is the book as of this count in the station's
    sequence (hub.counts); a big variance waits for a supervisor instead of posting."""
    conn, source = ctx.conn, ctx.source
    stock = store.stock_at(conn, data.sku, data.location, data.lot)
    book = sum(qty for _lot, _owner, qty, _expiry in stock)
    variance = data.counted - book
    pending = counts.needs_approval(ctx.settings, book, variance)
    _supersede(ctx, data)
    count_id = store.count_add(
        conn, source.event_id, source.station, data.sku, data.location, data.lot, book,
        data.counted, "pending" if pending else "posted", data.task, source.hub_ts,
    )  # fmt: skip
    store.activity_count(conn, data.sku, source.day)
    store.daily_totals_add(conn, source.day, counts=1, counts_exact=int(variance == 0))
    if data.task:
        counts.task_done(conn, ctx.topics, data.task, source.hub_ts)
    if pending:
        alerts.raise_(
            conn, ctx.topics, source.hub_ts, "count_variance", "warning",
            f"count {count_id}: {data.sku} at {data.location} counted {data.counted}, "
            f"book {book}: waits for approval", sku=data.sku, station=source.station,
            dedupe=f"count_variance:{count_id}",
        )  # fmt: skip
    else:
        adjust(ctx, data.sku, data.location, variance, data.lot)


def _supersede(ctx: Ctx, data: Count) -> None:
    """A newer count of a line replaces one still waiting for approval: approving both
    would post the same missing or found stock twice."""
    for old in store.counts_pending_of(ctx.conn, data.sku, data.location, data.lot):
        store.count_decide(ctx.conn, old, "superseded", ctx.source.station,
                           ctx.source.hub_ts, None)  # fmt: skip
        alerts.clear(ctx.conn, ctx.topics, f"count_variance:{old}", ctx.source.hub_ts)


def _scan(ctx: Ctx, data: Scan) -> None:
    conn, source = ctx.conn, ctx.source
    error = data.verdict != "ok"
    scans, errors = ctx.effects.tallies.scan(conn, source.day, source.station,
                                             data.operator or "", data.mode, error)  # fmt: skip
    _pick_errors(ctx, scans, errors, error)
    if data.mode == "pack":
        picking.scanned(ctx.effects.tallies, source.day, source.station, data,
                        source.ts.isoformat())  # fmt: skip
    if data.mode == "pack" and data.order and not error:
        orders.mark_packing(conn, ctx.topics, data.order, source.hub_ts,
                            ctx.effects.not_open)  # fmt: skip


def _return(ctx: Ctx, data: Return) -> None:
    returns.apply(ctx, data)


def _assembly(ctx: Ctx, data: Assembly) -> None:
    parts = [
        kits.Part(p.sku, p.qty, p.location or kits.pick_or(ctx, p.sku, data.location), p.lot)
        for p in data.parts
    ]
    if data.disassembly:
        kits.disassemble(ctx, data.kit, data.qty, data.location, parts)
    else:
        kits.assemble(ctx, data.kit, data.qty, data.location, parts)


def _pick_errors(ctx: Ctx, scans: int, errors: int, error: bool) -> None:
    """Raise the station's pick-error alert of the day when its rate passes the limit; once
    raised, every scan keeps its figures current (a frozen "4 in 33" misleads by noon), and
    every further error announces them again on `alerts`. The stored message is written
    once at the change's end (hub.tallies): the last scan's figures are the ones it keeps."""
    source, settings, tally = ctx.source, ctx.settings, ctx.effects.tallies
    dedupe = pick_errors_key(source.station, source.day)
    message = f"{source.station}: {errors} scan errors in {scans} scans today"
    raised = tally.open_alert(ctx.conn, dedupe)
    if raised is not None:
        tally.restate(dedupe, message)
        if error:
            alerts.announce(ctx.conn, ctx.topics, source.hub_ts, raised, message)
        return
    if (
        error
        and scans >= settings.pick_error_min_scans
        and errors > settings.pick_error_rate * scans
    ):
        alerts.raise_(ctx.conn, ctx.topics, source.hub_ts, "pick_errors", "warning", message,
                      station=source.station, dedupe=dedupe)  # fmt: skip
        tally.raised(dedupe)


_HANDLERS = {
    Return: _return,
    Assembly: _assembly,
    Receipt: _receipt,
    Shipment: _shipment,
    Move: _move,
    Adjustment: _adjustment,
    Count: _count,
    Scan: _scan,
}


# --- publishing ----------------------------------------------------------------------------
def finish(conn: Connection, topics: Topics, effects: Effects) -> None:
    """The end of a change, inside its transaction and before its stock is published: the
    counts and totals it kept in memory written (hub.tallies, hub.booked), its movements
    published."""
    effects.tallies.flush(conn)
    effects.booked.flush(conn)
    publish_movements(conn, topics, effects)


def publish_movements(conn: Connection, topics: Topics, effects: Effects) -> None:
    """The `movements` messages of what `effects` posted, in ledger order, each with the
    value its event booked onto it (at the end of the change, `finish`)."""
    if not effects.unpublished:
        return
    wanted = set(effects.unpublished)
    first, last = min(wanted), max(wanted)
    records = store.movement_records(conn, first, last, last - first + 1)
    for record in records:
        if record.id in wanted:
            store.outbox_put(conn, topics.movements, encode(movement_message(record)), False)
    effects.unpublished.clear()


def movement_message(record: store.MovementRecord) -> AppliedMovement:
    """What `movements` carries of one movement (live, and when a central hub asks again)."""
    return AppliedMovement(
        ledger_seq=record.id,
        station=record.station,
        epoch=record.epoch,
        seq=record.seq,
        type=record.type,
        sku=record.sku,
        location=record.location,
        delta=record.delta,
        lot=record.lot or None,
        owner=record.owner or None,
        ts=datetime.fromisoformat(record.ts),
        hub_ts=record.hub_ts,
        value_micros=record.value,
        transfer=record.transfer,
    )
