"""A site hub's side of order routing (docs/multi-site.md): orders the central hub routed
here over the bridge (centre/orders) are taken as from the site's own intake, withdrawn on
the centre's request while nobody has picked them, and each change of their status goes
back to the centre (centre/order-state)."""


import msgspec

from hub import orders, store
from hub.store.connection import Connection
from protocol.envelope import encode, utc_now
from protocol.messages import Order, OrderState
from protocol.topics import Topics


def take(conn: Connection, topics: Topics, order: Order, now: str) -> None:
    """Create the order (or replace it while open), inside the caller's transaction; an
    order of the site's own with the same id is refused (OrderConflict), not replaced."""
    existing = store.order_get(conn, order.order)
    if existing is not None and not store.from_centre_has(conn, order.order):
        raise orders.OrderConflict(f"order {order.order} exists at this site already, "
                                   "not from the centre")  # fmt: skip
    store.from_centre_add(conn, order.order, now)
    orders.save_order(conn, topics, msgspec.structs.replace(order, status="open"), now)


def withdraw(conn: Connection, topics: Topics, order_id: str, now: str) -> None:
    """The centre takes the order back (to route it elsewhere): cancelled here if nobody
    has started picking it, else it stays and the centre hears its status."""
    found = store.order_get(conn, order_id)
    if found is None or not store.from_centre_has(conn, order_id):
        send(conn, topics, order_id, "cancelled", "not at this site")
    elif found[0] == "open":
        orders.cancel(conn, topics, order_id, now)
    else:
        send(conn, topics, order_id, found[0], f"already {found[0]} here: not withdrawn")


def send(conn: Connection, topics: Topics, order_id: str, status: str,
         reason: str | None = None) -> None:  # fmt: skip
    """Tell the centre where the order stands (through the outbox: with the change)."""
    state = OrderState(order=order_id, status=status, ts=utc_now(), reason=reason)
    store.outbox_put(conn, topics.order_state, encode(state), retain=False)
