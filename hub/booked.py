"""What a change books per SKU and day, and onto each movement's value, added up in memory
and written once at its end: the daily SKU totals (units in and out, COGS) and the value
each movement carried in or out.

Written per posting, these were two statements of every receipt and every shipped line (a
round trip each on PostgreSQL). `flush` writes them inside the change's transaction before
anything reads them: hub.ledger.finish (the movements' messages carry their values), and
the ingest before a message other than a station's (an order taken from the intake
publishes its SKUs' stock, whose reorder point reads the day's demand).
"""

from dataclasses import dataclass, field

from hub import store
from hub.store.connection import Connection


@dataclass
class Booked:
    days: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (day, sku) -> out, in, cogs
    values: dict[int, int] = field(default_factory=dict)  # movement id -> value to add

    def day(self, day: str, sku: str, out_qty: int = 0, in_qty: int = 0, cogs: int = 0) -> None:
        totals = self.days.setdefault((day, sku), [0, 0, 0])
        totals[0] += out_qty
        totals[1] += in_qty
        totals[2] += cogs

    def value(self, movement_id: int, value: int) -> None:
        """A movement's value changed by `value` (micros; a zero still gives it its row)."""
        self.values[movement_id] = self.values.get(movement_id, 0) + value

    def flush(self, conn: Connection) -> None:
        """Write what was booked (and forget it: a second flush adds nothing)."""
        if self.days:
            store.daily_sku_add(conn, [(day, sku, *totals)
                                       for (day, sku), totals in self.days.items()])  # fmt: skip
        if self.values:
            store.movement_values_add(conn, list(self.values.items()))
        self.days.clear()
        self.values.clear()
