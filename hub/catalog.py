"""Products: stored on the hub, published retained on catalog/{sku} for stations to cache."""

import sqlite3

import msgspec

from hub import store
from protocol.envelope import encode, utc_now
from protocol.messages import Product
from protocol.topics import Topics


def upsert_products(conn: sqlite3.Connection, topics: Topics, products: list[Product]) -> None:
    """Create or replace products; each changed product is re-published alone."""
    now = utc_now().isoformat()
    with store.transaction(conn):
        for product in products:
            data = encode(product)
            if store.product_get(conn, product.sku) == data:
                continue  # unchanged: stations already have it
            store.product_upsert(conn, product.sku, product.name, data, now)
            store.gtins_replace(conn, product.sku, [(g.gtin, g.units) for g in product.gtins])
            store.outbox_put(conn, topics.product(product.sku), data, retain=True)


def get_product(conn: sqlite3.Connection, sku: str) -> Product | None:
    data = store.product_get(conn, sku)
    return msgspec.json.decode(data, type=Product) if data else None
