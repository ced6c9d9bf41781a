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


class Read:
    """What publishing the stock of several SKUs reads, in one statement each for all of
    them (it was a statement each per SKU): the ledger's position, their balances,
    committed and quarantined units, their flags, their products' policies and stored
    plans, and with `picks` where each is picked from and the open orders waiting for
    those whose pick location moved (hub.orders publishes them again). Nothing between
    the reading and the last SKU's message changes any of it (no movement, order line,
    hold, product or plan)."""

    def __init__(self, conn: Connection, skus: list[str], picks: bool = False) -> None:
        self.position = store.ledger_position(conn)
        self.lines = store.stock_lines_of(conn, skus)
        self.committed = store.committed_of(conn, skus)
        self.quarantined = store.quarantined_of(conn, skus)
        self.flags = SkuFlags(conn, skus)
        self.policies = planning.Policies(conn, skus)
        self.picks = store.pick_locations_of(conn, skus) if picks else {}
        moved = [sku for sku in skus if picks and self.flags.pick_differs(sku, self.picks.get(sku))]
        self.waiting = store.orders_waiting_for(conn, moved)

    def figures(self, sku: str) -> tuple[int, int, int, int]:
        """The SKU's on hand, committed, quarantined and available units (quarantined units
        are on hand but cannot be sold)."""
        on_hand = sum(qty for *_line, qty in self.lines.get(sku, []))
        committed, quarantined = self.committed.get(sku, 0), self.quarantined.get(sku, 0)
        return on_hand, committed, quarantined, on_hand - committed - quarantined


def publish(conn: Connection, topics: Topics, sku: str, now: str, read: Read) -> None:
    """Queue the retained stock/{sku} message with the sku's balances as they now are,
    and raise or clear its low-stock alert (what it reads, `read` has read for all the
    SKUs of a change: hub.orders.publish_stock)."""
    lines = [
        StockLine(location=loc, qty=qty, lot=lot or None, owner=owner or None)
        for loc, lot, owner, qty in read.lines.get(sku, [])
    ]
    on_hand, committed, quarantined, available = read.figures(sku)
    # Read in the transaction that changed the balances: the snapshot includes every
    # movement up to this position and none after it.
    stock = Stock(sku=sku, on_hand=on_hand, committed=committed, quarantined=quarantined,
                  available=available, locations=lines, ledger_seq=read.position,
                  ts=datetime.fromisoformat(now))  # fmt: skip
    store.outbox_put(conn, topics.stock(sku), encode(stock), retain=True)
    alerts.check_low_stock(conn, topics, sku, available, now, read.flags, read.policies)
    planning.reposition_stored(conn, sku, on_hand, committed, quarantined,
                               date.fromisoformat(now[:10]), read.policies)  # fmt: skip


def check_low(conn: Connection, topics: Topics, sku: str, now: str) -> None:
    """Re-judge the low-stock flag when the stock is unchanged but its reorder point is not."""
    read = Read(conn, [sku])
    alerts.check_low_stock(conn, topics, sku, read.figures(sku)[3], now, read.flags,
                           read.policies)  # fmt: skip
    read.flags.write(conn, sku)
