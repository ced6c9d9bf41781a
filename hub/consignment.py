"""Consignment: what a sale of someone else's stock owes them, and settling it.

Each sale of consigned stock is a row of `consignment_owed` (units and the owed price
per unit, fixed at the sale). A settlement pays everything owed to one owner up to a day
and remembers the last row it covered, so the next settlement report starts after it.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hub import catalog, store
from hub.money import text, to_micros
from hub.store.connection import Connection


def owed_per_unit(conn: Connection, sku: str, owner: str, sale_price: int | None) -> int:
    """Micros owed for one sold unit, by the product's terms: `consignment_pct` of the
    sale price when the order line has one; else `consignment_unit_cost`; else the cost
    the owner's stock was received at; else the product's unit cost (else 0)."""
    record = catalog.get_record(conn, sku)
    if record is not None and record.consignment_pct is not None and sale_price is not None:
        return to_micros(Decimal(sale_price) * record.consignment_pct / 100 / 1_000_000)
    if record is not None and record.consignment_unit_cost is not None:
        return to_micros(record.consignment_unit_cost)
    price = store.consignment_price(conn, sku, owner)
    if price is None:
        price = store.product_unit_cost(conn, sku)
    return price or 0


@dataclass(frozen=True)
class Statement:
    """What the owner is owed since their last settlement, up to `until`."""

    owner: str
    after_id: int  # the last owed row already settled (0: none)
    settled_until: str | None  # the last settlement's day (None: never settled)
    until: str
    lines: list[tuple[str, int, int]]  # (sku, units, owed micros)
    through_id: int  # the last owed row this statement covers

    @property
    def units(self) -> int:
        return sum(units for _sku, units, _owed in self.lines)

    @property
    def amount(self) -> int:
        return sum(owed for _sku, _units, owed in self.lines)

    def as_dict(self) -> dict:
        return {
            "owner": self.owner, "settled_until": self.settled_until, "until": self.until,
            "units_sold": self.units, "owed": text(self.amount),
            "lines": [{"sku": sku, "units_sold": units, "owed": text(owed)}
                      for sku, units, owed in self.lines],
        }  # fmt: skip


def statement(conn: Connection, owner: str, until: date) -> Statement:
    last = store.settlement_last(conn, owner)
    after_id, settled = (last[0], last[1]) if last else (0, None)
    rows = store.owed_unsettled(conn, owner, after_id, until.isoformat())
    through = max((last_id for *_rest, last_id in rows), default=after_id)
    lines = [(sku, units, owed) for sku, units, owed, _last in rows]
    return Statement(owner, after_id, settled, until.isoformat(), lines, through)


class SettlementError(ValueError):
    """Nothing to settle, or a settlement that does not fit the owner's history."""


def settle(
    conn: Connection, owner: str, until: date, today: date, now: str, by: str, note: str
) -> dict:
    """Record that everything owed to `owner` on days up to `until` is paid."""
    if until > today:
        raise SettlementError(f"`until` {until} is in the future: sales may still come")
    last = store.settlement_last(conn, owner)
    if last and until.isoformat() < last[1]:
        raise SettlementError(f"{owner} is already settled until {last[1]}")
    found = statement(conn, owner, until)
    if not found.lines:
        raise SettlementError(f"nothing is owed to {owner} up to {until}")
    settlement_id = store.settlement_add(conn, owner, found.through_id, found.until,
                                         found.units, found.amount, now, by, note)  # fmt: skip
    return {"id": settlement_id, **found.as_dict(), "recorded": now, "by": by, "note": note}


def settlement_list(conn: Connection, owner: str | None, limit: int) -> list[dict]:
    rows = store.settlements(conn, owner, limit)
    for row in rows:
        row["amount"] = text(row["amount"])
        del row["through_id"]
    return rows
