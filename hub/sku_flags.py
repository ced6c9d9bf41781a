"""What the hub remembers of each SKU's stock to notice a change: its low-stock flag and
where it is picked from (sku_activity), read in one statement for all the SKUs a change
publishes, and written in one statement per SKU whose flags changed.

Each SKU of a batch cost two upserts before (the flag, then the pick location), changed or
not. As with them, a SKU without a row counts as changed at its first flag (its row is
written with the other flag at the table's default), and nothing between a flag's change
and `write` reads the table."""

from hub import store
from hub.store.connection import Connection

NEW_ROW = (False, None)  # the table's defaults: not low, no pick location


class SkuFlags:
    def __init__(self, conn: Connection, skus: list[str]) -> None:
        """The stored flags of `skus`, read at once."""
        self.stored = store.activity_flags(conn, skus)
        self.flags = {sku: list(flags) for sku, flags in self.stored.items()}

    def set_low(self, sku: str, low: bool) -> bool:
        """Note the low-stock flag; True when it changed."""
        return self._set(sku, 0, low)

    def set_pick(self, sku: str, location: str | None) -> bool:
        """Note where the SKU is picked from now; True when that changed."""
        return self._set(sku, 1, location)

    def pick_differs(self, sku: str, location: str | None) -> bool:
        """Whether `set_pick` would say the pick location changed, had its low-stock flag
        been noted first (as hub.orders.publish_stock does): nothing is noted."""
        return self.flags.get(sku, NEW_ROW)[1] != location

    def _set(self, sku: str, which: int, value: bool | str | None) -> bool:
        changed = sku not in self.flags or self.flags[sku][which] != value
        self.flags.setdefault(sku, list(NEW_ROW))[which] = value
        return changed

    def write(self, conn: Connection, sku: str) -> None:
        """Store the SKU's flags, if they changed."""
        flags = self.flags.get(sku)
        if flags is not None and self.stored.get(sku) != tuple(flags):
            store.activity_set(conn, sku, flags[0], flags[1])
            self.stored[sku] = (flags[0], flags[1])
