"""The accountant's export: every ledger posting of a period at its FIFO value, and a total
per account-like category that ties the opening value of our stock to the closing one.

A posting's `value` is the change of our own stock's FIFO value it made (consigned stock
is not ours: 0). An inbound posting that settled units issued before any cost layer
covered them (a deficit, provisionally costed at the fallback cost) is shown at its full
cost, followed by a `true_up` row taking the cost difference out of stock again into the
category of the movement that caused the deficit (a shipment's: COGS). So

    opening value + Σ posting values = closing value

where the opening value is that at the start of `since` and the closing one at the end of
`until` (the site's days by the hub's clock). Consignment owed is what sales of consigned
stock owe their owners: a liability, outside that sum.

Dropship sales (the supplier shipped straight to the customer) move no stock: they follow
the postings as `dropship_sale` rows with their order, purchase order, revenue (the order
line's price) and cost (the purchase order line's), value empty, and are totalled apart,
outside that sum too.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta, tzinfo
from decimal import Decimal
from itertools import chain

from hub import siteday, store
from hub.money import from_micros, text
from hub.store.connection import Connection

CATEGORIES = {
    "receipt": "receipts",
    "shipment": "cogs",
    "adjustment": "adjustments",
    "count": "adjustments",
    "return": "returns",
    "move": "transfers",
    "assembly": "kitting",
    "disassembly": "kitting",
    "reversal": "corrections",
}
CATEGORY_NAMES = {
    "receipts": "receipts at cost",
    "cogs": "COGS of shipments",
    "adjustments": "adjustments and write-offs (counts included)",
    "returns": "customer returns",
    "transfers": "transfers between locations",
    "kitting": "kits built from parts and taken apart (value moves between them)",
    "corrections": "reversals of earlier movements",
    "other": "other movements",
}
COLUMNS = ["date", "movement", "type", "category", "sku", "location", "lot", "owner", "qty",
           "unit_cost", "value", "order", "po", "revenue", "cost"]  # fmt: skip
BATCH = 5000


def category(movement_type: str) -> str:
    return CATEGORIES.get(movement_type, "other")


@dataclass
class Totals:
    """Sums of the rows written so far, per category (micros)."""

    by_category: dict[str, int] = field(default_factory=dict)
    postings: int = 0
    unvalued: int = 0  # movements applied before values were kept
    dropship_sales: int = 0
    dropship_revenue: int = 0
    dropship_cost: int = 0
    dropship_uncosted: int = 0  # their purchase order line had no cost

    def add(self, name: str, value: int | None) -> None:
        if value is None:
            self.unvalued += 1
            return
        self.by_category[name] = self.by_category.get(name, 0) + value

    @property
    def total(self) -> int:
        return sum(self.by_category.values())


@dataclass(frozen=True)
class Period:
    """The days `since` to `until`, the site's (from its midnight in `zone`)."""

    since: date
    until: date
    zone: tzinfo = UTC

    def __post_init__(self) -> None:
        if self.until < self.since:
            raise ValueError(f"`to` {self.until} is before `from` {self.since}")


def opening_value(conn: Connection, day: date) -> int:
    """Our stock's FIFO value at the start of `day`."""
    return store.value_total(conn) - store.value_after(conn, (day - timedelta(days=1)).isoformat())


def closing_value(conn: Connection, day: date) -> int:
    """At the end of `day`."""
    return store.value_total(conn) - store.value_after(conn, day.isoformat())


def rows(conn: Connection, period: Period, totals: Totals) -> Iterator[dict]:
    """The export's rows: the postings, then the dropship sales."""
    return chain(postings(conn, period, totals), dropship_sales(conn, period, totals))


def dropship_sales(conn: Connection, period: Period, totals: Totals) -> Iterator[dict]:
    """The dropship sales booked on the period's days, adding to `totals`."""
    since, until = period.since.isoformat(), period.until.isoformat()
    for day, po, order, sku, qty, revenue, cost in store.dropship_sales_between(conn, since,
                                                                                 until):
        totals.dropship_sales += 1
        totals.dropship_revenue += revenue
        totals.dropship_cost += cost or 0
        totals.dropship_uncosted += cost is None
        yield {
            "date": day, "type": "dropship_sale", "category": "dropship", "sku": sku,
            "qty": -qty, "unit_cost": from_micros(cost // qty) if cost is not None else None,
            "order": order, "po": po, "revenue": from_micros(revenue),
            "cost": from_micros(cost),
        }  # fmt: skip


def postings(conn: Connection, period: Period, totals: Totals) -> Iterator[dict]:
    """Every posting of the period (and true-up), in ledger order, adding to `totals`."""
    start = siteday.day_start(period.since, period.zone)
    end = siteday.day_start(period.until + timedelta(days=1), period.zone)
    first = store.first_movement_on(conn, start)
    if first is None:
        return
    after = first - 1
    while True:
        batch = store.postings_between(conn, start, end, after, BATCH)
        if not batch:
            return
        true_ups: dict[int, list[tuple[str, int]]] = {}
        for movement_id, kind, value in store.true_ups_of(conn, batch[0][0], batch[-1][0]):
            true_ups.setdefault(movement_id, []).append((kind, value))
        for row in batch:
            yield from _rows(row, true_ups.get(row[0], []), totals, period.zone)
        after = batch[-1][0]


def _rows(
    row: tuple, true_ups: list[tuple[str, int]], totals: Totals, zone: tzinfo
) -> Iterator[dict]:
    movement_id, hub_ts, type_, sku, location, lot, owner, delta, value = row
    day = siteday.day_of(hub_ts, zone)
    name = category(type_)
    settled = sum(v for _kind, v in true_ups)
    at_cost = None if value is None else value + settled
    totals.postings += 1
    totals.add(name, at_cost)
    yield {
        "date": day, "movement": movement_id, "type": type_, "category": name, "sku": sku,
        "location": location, "lot": lot, "owner": owner, "qty": delta,
        "unit_cost": from_micros(round(at_cost / delta))
        if at_cost is not None and delta and not owner else None,
        "value": from_micros(at_cost),
    }  # fmt: skip
    for kind, true_up in true_ups:
        totals.add(category(kind), -true_up)
        yield {
            "date": day, "movement": movement_id, "type": "true_up", "category": category(kind),
            "sku": sku, "location": location, "lot": lot, "owner": owner, "qty": 0,
            "unit_cost": None, "value": from_micros(-true_up),
        }  # fmt: skip


def summary(conn: Connection, period: Period, totals: Totals) -> dict:
    """The period's totals, after `postings` was read to its end."""
    opening, closing = opening_value(conn, period.since), closing_value(conn, period.until)
    since, until = period.since.isoformat(), period.until.isoformat()
    owed = store.consignment_owed_between(conn, since, until)
    return {
        "from": since, "to": until, "opening_value": text(opening),
        "categories": {name: text(totals.by_category.get(name, 0)) for name in CATEGORY_NAMES
                       if name in totals.by_category or name != "other"},
        "postings_value": text(totals.total), "closing_value": text(closing),
        "balanced": opening + totals.total == closing, "postings": totals.postings,
        "unvalued_postings": totals.unvalued,
        "consignment_owed": text(sum(amount for *_rest, amount in owed)),
        "consignment_owed_by_owner": _owed_by_owner(owed),
        "dropship": {"sales": totals.dropship_sales, "revenue": text(totals.dropship_revenue),
                     "cost": text(totals.dropship_cost),
                     "uncosted_sales": totals.dropship_uncosted},
    }  # fmt: skip


def _owed_by_owner(rows: list[tuple[str, str, int, int]]) -> dict[str, str]:
    owners: dict[str, int] = {}
    for owner, _sku, _units, amount in rows:
        owners[owner] = owners.get(owner, 0) + amount
    return {owner: text(amount) for owner, amount in owners.items()}


def summary_rows(result: dict) -> list[dict]:
    """The summary as CSV rows under the postings (`type` says what each is); amounts as
    numbers, so a spreadsheet sums them."""
    until = result["to"]
    rows = [{"date": result["from"], "type": "opening_value",
             "value": Decimal(result["opening_value"])}]  # fmt: skip
    rows += [{"date": until, "type": "total", "category": name, "value": Decimal(value)}
             for name, value in result["categories"].items()]  # fmt: skip
    rows.append({"date": until, "type": "closing_value", "value": Decimal(result["closing_value"])})
    rows += [{"date": until, "type": "consignment_owed", "category": "consignment owed",
              "owner": owner, "value": Decimal(value)}
             for owner, value in result["consignment_owed_by_owner"].items()]  # fmt: skip
    dropship = result["dropship"]
    rows.append({"date": until, "type": "dropship_total", "category": "dropship",
                 "revenue": Decimal(dropship["revenue"]), "cost": Decimal(dropship["cost"])})
    return rows
