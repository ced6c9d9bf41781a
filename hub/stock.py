"""What other systems and the alerts see of a SKU's stock: the retained stock/{sku}
message (on hand, committed, quarantined, available, by location) and the low-stock flag.

Anything that changes one of those numbers calls `publish` (through
hub.orders.publish_stock): movements change on hand,
orders change committed, and a product's reorder point changes what counts as low. The
stored reorder plan's due flag follows too, so the reorder report's due page is current.
"""

from datetime import date, datetime

from hub import alerts, planning, store
from hub.sku_flags import SkuFlags
from hub.store.connection import Connection
from protocol.envelope import encode
from protocol.messages import Stock, StockLine
from protocol.topics import Topics


def publish(conn: Connection, topics: Topics, sku: str, now: str, position: int,
            flags: SkuFlags) -> None:  # fmt: skip
    """Queue the retained stock/{sku} message with the sku's balances as they now are,
    and raise or clear its low-stock alert. `position` (the ledger's, store.ledger_position)
    and `flags` are read once for all the SKUs of a change (hub.orders.publish_stock)."""
    lines = [
        StockLine(location=loc, qty=qty, lot=lot or None, owner=owner or None)
        for loc, lot, owner, qty in store.stock_lines(conn, sku)
    ]
    on_hand = sum(line.qty for line in lines)
    committed, quarantined = store.committed(conn, sku), store.quarantined(conn, sku)
    # Quarantined units are on hand but cannot be sold.
    available = on_hand - committed - quarantined
    # Read in the transaction that changed the balances: the snapshot includes every
    # movement up to this position and none after it.
    stock = Stock(sku=sku, on_hand=on_hand, committed=committed, quarantined=quarantined,
                  available=available, locations=lines, ledger_seq=position,
                  ts=datetime.fromisoformat(now))  # fmt: skip
    store.outbox_put(conn, topics.stock(sku), encode(stock), retain=True)
    alerts.check_low_stock(conn, topics, sku, available, now, flags)
    planning.reposition_stored(conn, sku, on_hand, committed, quarantined,
                               date.fromisoformat(now[:10]))  # fmt: skip


def check_low(conn: Connection, topics: Topics, sku: str, now: str) -> None:
    """Re-judge the low-stock flag when the stock is unchanged but its reorder point is not."""
    available = store.on_hand(conn, sku) - store.committed(conn, sku) - store.quarantined(conn, sku)
    flags = SkuFlags(conn, [sku])
    alerts.check_low_stock(conn, topics, sku, available, now, flags)
    flags.write(conn, sku)
