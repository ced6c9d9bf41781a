"""A site hub's inbound messages other than its stations': sales orders from other systems
(`intake/orders`), and what the central hub sends a site (docs/multi-site.md): resend
requests, routed orders, the bridge's link state, transfer orders.

Each handler runs inside the ingest batch's transaction (hub.ingest); a message it cannot
take is a dead letter, never a failed batch."""

import json
import logging
from datetime import tzinfo
from typing import TypeVar

from hub import alerts, centre_orders, ledger, orders, site_restate, store, transfers
from hub.corrections import hub_event
from hub.ingest_batch import LINK_STATES, Batch, Incoming, dead
from hub.store.connection import Connection
from protocol.envelope import InvalidMessage, decode_message, encode, utc_now
from protocol.messages import Order, ResendMovements, TransferOrder
from protocol.topics import Topics

log = logging.getLogger(__name__)

# Movements republished per request of the central hub: it asks again for the rest.
RESEND_WINDOW = 1000

T = TypeVar("T")


def intake(conn: Connection, topics: Topics, message: Incoming, work: Batch) -> None:
    """An order from a shop or ERP: saved like one from the API, or dead-lettered."""
    order = _decoded(conn, topics, message, Order, "order", work)
    if order is None:
        return
    try:
        with store.savepoint(conn, "intake"):
            orders.save_order(conn, topics, order, work.now)
    except (orders.OrderError, orders.OrderConflict, ValueError) as exc:
        dead(conn, topics, message, str(exc), work)
        return
    work.result.orders += 1


def resend(conn: Connection, topics: Topics, message: Incoming, work: Batch) -> None:
    """The centre missed some movements: publish them again from `from`, a window at a
    time (it asks again for the rest), and the states of routed orders and the alerts
    that changed in the same stretch."""
    request = _decoded(conn, topics, message, ResendMovements, "resend request", work)
    if request is None:
        return
    last = store.ledger_position(conn)
    records = store.movement_records(conn, request.from_, last, RESEND_WINDOW)
    log.info("the centre asks for movements from %d: resending %d (ledger at %d)",
             request.from_, len(records), last)  # fmt: skip
    for record in records:
        store.outbox_put(conn, topics.movements, encode(ledger.movement_message(record)),
                         retain=False)  # fmt: skip
    # What the site said besides movements in the same stretch: not retained, so the
    # centre would not otherwise hear it again (hub.site_restate).
    span = site_restate.window(conn, request.from_, records, last)
    # The batch's restated alert figures are kept in memory until its end: written first,
    # so that what is said again is what the alerts say now.
    work.effects.tallies.flush(conn)
    states, said = site_restate.republish(conn, topics, span)
    log.info("the centre's resend from %d: saying again %d routed orders' states and %d "
             "alerts changed since %s", request.from_, states, said,
             span.since or "the start")  # fmt: skip


def centre_order(conn: Connection, topics: Topics, message: Incoming,
                 work: Batch) -> None:  # fmt: skip
    """An order the centre routed here (or, cancelled, withdraws): taken as from the
    intake; one the site cannot take goes back to the centre as rejected, and to the
    dead letters."""
    order = _decoded(conn, topics, message, Order, "order", work)
    if order is None:
        return
    try:
        with store.savepoint(conn, "centre_order"):
            if order.status == "cancelled":
                centre_orders.withdraw(conn, topics, order.order, work.now)
            else:
                centre_orders.take(conn, topics, order, work.now)
    except (orders.OrderError, orders.OrderConflict, ValueError) as exc:
        centre_orders.send(conn, topics, order.order, "rejected", str(exc))
        dead(conn, topics, message, str(exc), work)
        return
    work.result.orders += 1


def centre_link(conn: Connection, topics: Topics, message: Incoming,
                work: Batch) -> None:  # fmt: skip
    """Mosquitto's notification of the bridge to the centre: shown on the overview."""
    state = LINK_STATES.get(message.payload)
    if state is None:
        dead(conn, topics, message, "centre link: expected the bridge's 1 or 0", work)
        return
    store.meta_set(conn, "centre_link", json.dumps({"state": state, "since": work.now}))


def transfer_order(conn: Connection, topics: Topics, message: Incoming, work: Batch,
                   zone: tzinfo) -> None:  # fmt: skip
    """The centre's word on a transfer this site sends or receives (hub.transfers);
    once it is received at the other site, the sender books its transit out."""
    if not message.payload:
        return  # a cleared retained transfer
    order = _decoded(conn, topics, message, TransferOrder, "transfer order", work)
    if order is None:
        return
    try:
        with store.savepoint(conn, "transfer"):
            book_out = transfers.take_order(conn, topics, order, work.now)
    except (transfers.TransferRefused, ValueError) as exc:
        dead(conn, topics, message, str(exc), work)
        # Not silent: the goods are on their way (or waiting to leave) all the same.
        alerts.raise_(conn, topics, work.now, "message_failed", "critical",
                      f"transfer {order.transfer} could not be taken: {exc} (dead letter)",
                      dedupe=f"transfer_refused:{order.transfer}")  # fmt: skip
        return
    if book_out:
        source = hub_event(conn, "transfer_out", {"transfer": order.transfer}, utc_now(),
                           work.effects, zone)  # fmt: skip
        ledger.book_transit_out(ledger.Ctx(conn, topics, source, work.effects),
                                order.transfer, book_out)  # fmt: skip


def _decoded(conn: Connection, topics: Topics, message: Incoming, kind: type[T],
             name: str, work: Batch) -> T | None:  # fmt: skip
    """The message as `kind`, or None once it is a dead letter naming what was wrong."""
    try:
        return decode_message(message.payload, kind, name)
    except InvalidMessage as exc:
        dead(conn, topics, message, str(exc), work)
        return None
