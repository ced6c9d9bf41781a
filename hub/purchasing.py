"""Purchase orders: by hand, from CSV, from reorder suggestions, and dropship orders.

Open purchase orders are published retained on purchase-orders/{po} for dock stations
(dropship ones on dropship/{po} for the supplier) and emptied when they can no longer be
received. Receipts that name a PO fill its lines; a PO is complete when every line is in,
or when a station or a supervisor closes it short. Lead time is measured from the day
ordered to the day complete, beside the promised one.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

import msgspec
from msgspec import Meta

from hub import alerts, planning, store
from hub.money import from_micros, text, to_micros
from hub.settings import load as load_settings
from hub.store.connection import Connection
from protocol import limits
from protocol.envelope import encode
from protocol.messages import PurchaseOrder, PurchaseOrderLine
from protocol.topics import Topics
from protocol.types import Code, Money, PositiveQty

OPEN = ("open", "receiving")


class PurchaseError(ValueError):
    """A purchase order that cannot be saved (says why)."""


class PurchaseConflict(ValueError):
    """The purchase order exists in a state that does not allow this."""


class PoLineIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sku: Code
    qty: PositiveQty
    unit_cost: Money | None = None

    def __post_init__(self) -> None:
        limits.check(limits.MONEY, unit_cost=self.unit_cost)


class PurchaseOrderIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    lines: Annotated[list[PoLineIn], Meta(min_length=1)]
    po: Code | None = None  # None: numbered by the hub
    supplier: Code | None = None
    expected: date | None = None  # None: ordered + the supplier's lead time


@dataclass(frozen=True)
class Dropship:
    order: str
    customer: str | None


def create(
    conn: Connection, topics: Topics, po_in: PurchaseOrderIn, now: str,
    dropship: Dropship | None = None,
) -> str:  # fmt: skip
    _validate(conn, po_in)
    po = po_in.po or f"{'DS' if dropship else 'PO'}-{store.counter_next(conn, 'po'):06d}"
    existing = store.po_get(conn, po)
    if existing is not None:
        if existing.status != "open" or any(r[3] for r in store.po_lines(conn, po)):
            raise PurchaseConflict(f"purchase order {po} is {existing.status} and has receipts "
                                   "or is closed: it cannot be replaced")  # fmt: skip
        store.po_delete(conn, po)
    ordered = date.fromisoformat(now[:10])
    expected = po_in.expected or ordered + timedelta(days=_promised_days(conn, po_in.supplier))
    lines = [(line.sku, line.qty, _line_cost(conn, line, po_in.supplier)) for line in po_in.lines]
    store.po_insert(
        conn, po, po_in.supplier, ordered.isoformat(), expected.isoformat(),
        dropship.order if dropship else None, dropship is not None, lines, now,
    )  # fmt: skip
    publish(conn, topics, po, dropship.customer if dropship else None)
    return po


def _validate(conn: Connection, po_in: PurchaseOrderIn) -> None:
    problems = [f"unknown sku {line.sku}" for line in po_in.lines
                if not store.product_exists(conn, line.sku)]  # fmt: skip
    problems += [f"unit_cost of {line.sku} must be non-negative" for line in po_in.lines
                 if line.unit_cost is not None and not line.unit_cost >= 0]  # fmt: skip
    if po_in.supplier and not store.supplier_exists(conn, po_in.supplier):
        problems.append(f"unknown supplier {po_in.supplier}")
    if problems:
        raise PurchaseError("; ".join(problems))


def _promised_days(conn: Connection, supplier: str | None) -> int:
    days = store.supplier_lead_time(conn, supplier) if supplier else None
    return 0 if days is None else days


def _line_cost(conn: Connection, line: PoLineIn, supplier: str | None) -> int | None:
    if line.unit_cost is not None:
        return to_micros(line.unit_cost)
    for name, _days, cost in store.product_suppliers(conn, line.sku):
        if name == supplier and cost is not None:
            return cost
    return store.product_unit_cost(conn, line.sku)


def publish(conn: Connection, topics: Topics, po: str, customer: str | None = None):
    row = store.po_get(conn, po)
    topic = topics.dropship(po) if row.dropship else topics.purchase_order(po)
    if row.status not in OPEN:
        store.outbox_put(conn, topic, b"", retain=True)  # stations drop it
        return
    store.outbox_put(conn, topic, encode(message(conn, row, customer)), retain=True)


def message(conn: Connection, row: store.PoRow, customer: str | None) -> PurchaseOrder:
    lines = [
        PurchaseOrderLine(sku=sku, qty=qty, received=received, unit_cost=from_micros(cost))
        for _line, sku, qty, received, cost in store.po_lines(conn, row.po)
    ]
    return PurchaseOrder(
        po=row.po, lines=lines, supplier=row.supplier, status=row.status,
        expected=date.fromisoformat(row.expected) if row.expected else None,
        order=row.order_id, customer=customer,
    )  # fmt: skip


def receive(
    conn: Connection, topics: Topics, po: str, sku: str, qty: int, now: str,
    station: str, day: str,
) -> int | None:  # fmt: skip
    """A receipt against `po` (inside the ingest transaction) received at `now`, on the
    site's `day`; returns the line's unit cost.

    Never refuses: an unknown PO, a closed one or a sku not on it is alerted, and the
    receipt still counts as stock.
    """
    row = store.po_get(conn, po)
    if row is None:
        alerts.raise_(conn, topics, now, "unknown_po", "warning",
                      f"{station} received {qty} {sku} against unknown PO {po}", sku=sku,
                      station=station)  # fmt: skip
        return None
    line = _line_for(store.po_lines(conn, po), sku)
    if line is None:
        alerts.raise_(conn, topics, now, "not_on_po", "warning",
                      f"{station} received {qty} {sku}, which is not on PO {po}", sku=sku,
                      station=station)  # fmt: skip
        return None
    if row.status not in OPEN:
        alerts.raise_(conn, topics, now, "closed_po", "info",
                      f"{station} received {qty} {sku} against PO {po}, which is {row.status}",
                      sku=sku, station=station)  # fmt: skip
    store.po_line_receive(conn, po, line[0], qty)
    if row.status in OPEN:
        _after_receipt(conn, topics, row, now, day)
    return line[4]


def _line_for(lines: list[tuple], sku: str) -> tuple | None:
    """The first line of `sku` still expecting units, else its last line."""
    matching = [line for line in lines if line[1] == sku]
    open_lines = [line for line in matching if line[3] < line[2]]
    return (open_lines or matching or [None])[0] if matching else None


def _after_receipt(
    conn: Connection, topics: Topics, row: store.PoRow, now: str, day: str
) -> None:
    if row.first_receipt is None:
        store.po_set(conn, row.po, now, first_receipt=now[:10])
    if all(received >= qty for _l, _s, qty, received, _c in store.po_lines(conn, row.po)):
        complete(conn, row.po, "received", now, day)
    elif row.status == "open":
        store.po_set(conn, row.po, now, status="receiving")
    publish(conn, topics, row.po)


def complete(conn: Connection, po: str, status: str, now: str, day: str) -> None:
    """The PO is done (received, closed short or confirmed): lead time and accuracy count,
    the accuracy on the site's `day` with the other daily KPIs. The PO's own dates stay
    UTC days, as its `ordered` date is: its lead time is a difference of the two."""
    lines = store.po_lines(conn, po)
    store.po_set(conn, po, now, status=status, completed=now[:10])
    exact = sum(1 for _l, _s, qty, received, _c in lines if received == qty)
    store.daily_totals_add(conn, day, po_lines=len(lines), po_lines_exact=exact)


def close(
    conn: Connection, topics: Topics, po: str, now: str, reason: str, day: str
) -> bool:
    """Close a PO short (nothing more will come) at `now`, on the site's `day`; False when
    it was not open."""
    row = store.po_get(conn, po)
    if row is None or row.status not in OPEN:
        return False
    complete(conn, po, "closed", now, day)
    publish(conn, topics, po)
    return True


def cancel(conn: Connection, topics: Topics, po: str, now: str) -> None:
    row = store.po_get(conn, po)
    if row is None:
        raise PurchaseError(f"no purchase order {po}")
    if row.status != "open":
        raise PurchaseConflict(f"purchase order {po} is {row.status}: it cannot be cancelled")
    store.po_set(conn, po, now, status="cancelled")
    publish(conn, topics, po)


def lead_time(conn: Connection, supplier: str) -> dict:
    """Promised vs actual days from order to complete, over the last completed POs."""
    rows = store.supplier_lead_times(conn, supplier)
    promised = [_days(o, e) for o, e, _c in rows if e]
    actual = [_days(o, c) for o, _e, c in rows]
    late = sum(1 for _o, e, c in rows if e and c > e)
    return {
        "supplier": supplier, "purchase_orders": len(rows),
        "promised_days": _mean(promised), "actual_days": _mean(actual), "late": late,
        "configured_days": store.supplier_lead_time(conn, supplier),
    }  # fmt: skip


def _days(start: str, end: str) -> int:
    return (date.fromisoformat(end) - date.fromisoformat(start)).days


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def po_dict(conn: Connection, po: str) -> dict | None:
    row = store.po_get(conn, po)
    if row is None:
        return None
    lines = [
        {"line": n, "sku": sku, "qty": qty, "received": received, "unit_cost": text(cost)}
        for n, sku, qty, received, cost in store.po_lines(conn, po)
    ]
    return {
        "po": row.po, "supplier": row.supplier, "status": row.status, "ordered": row.ordered,
        "expected": row.expected, "first_receipt": row.first_receipt,
        "completed": row.completed, "order": row.order_id, "dropship": row.dropship,
        "lines": lines,
    }  # fmt: skip


def po_page(conn: Connection, status: str | None, limit: int, offset: int) -> list[dict]:
    """Purchase orders (all, or in one status), newest first, each as `po_dict`."""
    return [po_dict(conn, row.po) for row in store.po_list(conn, status, limit, offset)]


def from_plans(conn: Connection, topics: Topics, plans: list, now: str) -> list[str]:
    """One purchase order per supplier for the due reorder suggestions (`planning.Plan`s)."""
    by_supplier: dict[str | None, list[PoLineIn]] = {}
    for plan in plans:
        if plan.due and plan.order_qty > 0:
            by_supplier.setdefault(plan.supplier, []).append(
                PoLineIn(sku=plan.sku, qty=plan.order_qty)
            )
    return [create(conn, topics, PurchaseOrderIn(supplier=supplier, lines=lines), now)
            for supplier, lines in by_supplier.items()]  # fmt: skip


def from_reorder(
    conn: Connection, topics: Topics, skus: list[str] | None, today: date, now: str
) -> list[str]:
    """Purchase orders (one per supplier) for the reorder suggestions due today: of `skus`,
    or of every product when None. SKUs that are not due are left out; unknown ones refused."""
    settings = load_settings(conn)
    if skus is None:
        return from_plans(conn, topics, planning.due_plans(conn, today, settings), now)
    unknown = [sku for sku in skus if not store.product_exists(conn, sku)]
    if unknown:
        raise PurchaseError(f"unknown sku {', '.join(unknown)}")
    plans = [planning.plan(conn, sku, today, settings) for sku in dict.fromkeys(skus)]
    return from_plans(conn, topics, [p for p in plans if p.due], now)


