"""Sales: what a shipment earns at its order lines' sale prices.

A priced order line earns `unit_price` for each unit shipped of it; a kit line earns its
price per whole kit shipped (by the kit's own barcode, or built from its components at
the bench) and books the revenue under the kit's sku. Lines without a price earn nothing,
and dropship lines never pass a bench. Revenue is booked on the day the hub applies the
shipment (`daily_sales`); the COGS it is compared with is the ledger's (`daily_sku`).
"""

import sqlite3
from dataclasses import dataclass

from hub import store
from hub.money import text, to_micros
from protocol.events import Shipment
from protocol.messages import Order


@dataclass(frozen=True)
class Sale:
    sku: str
    qty: int
    revenue: int  # micros


def unit_prices(order: Order | None) -> dict[str, int]:
    """sku -> sale price per unit (micros) of the order's first priced bench line of it."""
    prices: dict[str, int] = {}
    for line in order.lines if order else []:
        if line.unit_price is not None and not line.dropship:
            prices.setdefault(line.sku, to_micros(line.unit_price))
    return prices


def of_shipment(
    order: Order, shipped: dict[str, int], kits: dict[str, list[tuple[str, int]]]
) -> list[Sale]:
    """The sales of the units `shipped` (sku -> units) against the order's priced lines;
    `kits`: kit sku -> its (component, qty per kit)."""
    left = dict(shipped)
    sales = []
    for line in order.lines:
        if line.unit_price is None or line.dropship:
            continue
        qty = _take(line.sku, line.qty, left, kits.get(line.sku, []))
        if qty:
            sales.append(Sale(line.sku, qty, qty * to_micros(line.unit_price)))
    return sales


def _take(sku: str, wanted: int, left: dict[str, int], components: list[tuple[str, int]]) -> int:
    """Units of `sku` (up to `wanted`) the shipment holds, taken out of `left`."""
    whole = min(wanted, max(left.get(sku, 0), 0))
    left[sku] = left.get(sku, 0) - whole
    if components and whole < wanted:
        built = min(max(left.get(part, 0), 0) // per for part, per in components)
        built = min(built, wanted - whole)
        for part, per in components:
            left[part] -= built * per
        whole += built
    return whole


def book_shipment(
    conn: sqlite3.Connection, event_id: int, shipment: Shipment, order: Order, day: str
) -> list[Sale]:
    shipped: dict[str, int] = {}
    for line in shipment.lines:
        shipped[line.sku] = shipped.get(line.sku, 0) + line.qty
    kits = {line.sku: store.kit_components(conn, line.sku) for line in order.lines}
    sales = of_shipment(order, shipped, kits)
    for sale in sales:
        store.sale_add(conn, event_id, order.order, sale.sku, sale.qty, sale.revenue, day)
    return sales


def reverse(conn: sqlite3.Connection, original_event: int, reversal_event: int, day: str):
    """A reversed shipment takes back what it earned, on the reversal's day."""
    for order_id, sku, qty, revenue in store.sales_of_event(conn, original_event):
        store.sale_add(conn, reversal_event, order_id, sku, -qty, -revenue, day)


# --- KPIs ------------------------------------------------------------------------------------
def kpi_rows(conn: sqlite3.Connection, since: str, until: str) -> list[tuple]:
    """(kpi, scope, value): revenue, COGS, gross margin and margin % over the period, per
    `day:`, per `sku:` and per `class:` (ABC; `class:-` for products without one)."""
    rows = []
    per_day = store.margin_by_day(conn, since, until)
    overall = _margin("", sum(r for _d, r, _c in per_day), sum(c for _d, _r, c in per_day))
    rows += [row for row in overall if row[0] != "cogs"]  # the period's cogs row is there
    for day, revenue, cogs in per_day:
        rows += _margin(f"day:{day}", revenue, cogs)
    per_class: dict[str, list[int]] = {}
    for sku, cls, revenue, cogs in store.margin_by_sku(conn, since, until):
        rows += _margin(f"sku:{sku}", revenue, cogs)
        sums = per_class.setdefault(cls or "-", [0, 0])
        sums[0] += revenue
        sums[1] += cogs
    for cls, (revenue, cogs) in sorted(per_class.items()):
        rows += _margin(f"class:{cls}", revenue, cogs)
    return rows


def _margin(scope: str, revenue: int, cogs: int) -> list[tuple]:
    margin = revenue - cogs
    pct = round(100 * margin / revenue, 2) if revenue else None
    return [
        ("revenue", scope, text(revenue)),
        ("cogs", scope, text(cogs)),
        ("gross_margin", scope, text(margin)),
        ("margin_pct", scope, pct),
    ]
