"""What a writing transaction knows of the rows it writes, so that writing one need not
read anything back: on PostgreSQL each read is a wait for the server in the middle of the
transaction, where a write is held and sent with the others (store.writes_held).

It holds for one transaction only (store.transaction makes it, and drops it at the end),
and is true because the transaction holds the one writer lock from its start: nobody else
writes those rows meanwhile. Only the store's functions that write the rows keep it; a
rolled-back savepoint puts back what it was (store.savepoint)."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

BalanceKey = tuple[str, str, str, str]  # sku, location, lot, owner


@dataclass
class Written:
    # The highest id of `events`, `movements` and `alerts` (store.ledger.next_id), once read.
    ids: dict[str, int] = field(default_factory=dict)
    # Balances as they stand, of the SKUs read (every line of each: one missing is 0).
    balances: dict[BalanceKey, int] = field(default_factory=dict)
    balance_skus: set[str] = field(default_factory=set)
    # Dedupe keys of the alerts known open (store.alerts): raising one again adds nothing;
    # and of those known not open: clearing one changes nothing, raising one inserts it.
    open_alerts: set[str] = field(default_factory=set)
    closed_alerts: set[str] = field(default_factory=set)
    # A SKU's last received layer's unit cost, once read or written (None: it has none).
    last_costs: dict[str, int | None] = field(default_factory=dict)
    # The lines (sku, location, lot) that owe units (have a deficit layer), of the SKUs
    # read; a line noted that a receipt settles is read again for nothing, never missed.
    owing: set[tuple[str, str, str]] = field(default_factory=set)
    owing_skus: set[str] = field(default_factory=set)

    def copy(self) -> "Written":
        return Written(dict(self.ids), dict(self.balances), set(self.balance_skus),
                       set(self.open_alerts), set(self.closed_alerts), dict(self.last_costs),
                       set(self.owing), set(self.owing_skus))  # fmt: skip


def unread(keys: Iterable[str], *read: Collection[str]) -> list[str]:
    """Those of `keys` in none of `read` (what a read-ahead has still to read), sorted."""
    return sorted(set(keys).difference(*read))
