"""Sales orders: stored on the hub, published retained on orders/{order} while packable."""

import sqlite3

from hub import store
from protocol.envelope import encode, utc_now
from protocol.messages import Order
from protocol.topics import Topics

OPEN_STATUSES = frozenset({"open", "packing"})


class OrderConflict(ValueError):
    """The order exists and can no longer be replaced (it is packed or shipped)."""


def upsert_order(conn: sqlite3.Connection, topics: Topics, order: Order) -> None:
    now = utc_now().isoformat()
    with store.transaction(conn):
        existing = store.order_get(conn, order.order)
        if existing and existing[0] not in OPEN_STATUSES:
            raise OrderConflict(f"order {order.order} is {existing[0]} and cannot be changed")
        data = encode(order)
        store.order_upsert(conn, order.order, order.status, data, now)
        store.outbox_put(conn, topics.order(order.order), data, retain=True)


def mark_shipped(conn: sqlite3.Connection, topics: Topics, order_id: str, now: str) -> None:
    """Inside the caller's transaction: the order left the bench; stations drop it."""
    existing = store.order_get(conn, order_id)
    if existing is None:
        return
    store.order_upsert(conn, order_id, "shipped", existing[1], now)
    # An empty retained message removes the order from every station's cache.
    store.outbox_put(conn, topics.order(order_id), b"", retain=True)
