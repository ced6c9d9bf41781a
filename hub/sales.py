"""Sales: what a shipment earns at its order lines' sale prices, and what it cost.

A priced order line earns `unit_price` for each unit shipped of it; a kit line earns its
price per whole kit shipped (by the kit's own barcode, or built from its components at
the bench) and books the revenue under the kit's sku. Lines without a price earn nothing,
and dropship lines never pass a bench. Revenue is booked on the day the hub applies the
shipment (`daily_sales`); the COGS it is compared with is the ledger's (`daily_sku`).

A kit built from its parts at the bench ships as the parts: the ledger books their FIFO
cost as COGS of the parts' skus. For the margin per sku that cost belongs to the kit that
was sold, so the shipment also records it as moved from each part to the kit
(`kit_sale_costs`, their share of the shipment's cost of that part): the margin per sku
adds it to the kit and takes it off the part, and the totals do not change.

A dropship line is sold when the supplier confirms its purchase order shipped: it earns
the order line's price and costs the purchase order line's (`dropship_sales`). No stock
moves, so that cost is no COGS of the ledger: the margin figures give it apart
(`dropship_cost`) and take it off the gross margin.
"""

from dataclasses import dataclass

from hub import store
from hub.money import text, to_micros
from hub.store.connection import Connection
from protocol.events import Shipment
from protocol.messages import Order


@dataclass(frozen=True)
class Sale:
    sku: str
    qty: int
    revenue: int  # micros
    priced: bool = True
    parts: tuple[tuple[str, int], ...] = ()  # units of each part of kits built at the bench


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
    """What the units `shipped` (sku -> units) were of the order's bench lines, in line
    order, priced or not; `kits`: kit sku -> its (component, qty per kit)."""
    left = dict(shipped)
    sales = []
    for line in order.lines:
        if line.dropship:
            continue
        components = kits.get(line.sku, [])
        whole, built = _take(line.sku, line.qty, left, components)
        if not whole + built:
            continue
        price = 0 if line.unit_price is None else to_micros(line.unit_price)
        parts = tuple((part, built * per) for part, per in components) if built else ()
        sales.append(Sale(line.sku, whole + built, (whole + built) * price,
                          line.unit_price is not None, parts))  # fmt: skip
    return sales


def _take(
    sku: str, wanted: int, left: dict[str, int], components: list[tuple[str, int]]
) -> tuple[int, int]:
    """(units of `sku` the shipment holds, kits of it built from parts), up to `wanted`
    together, taken out of `left`."""
    whole = min(wanted, max(left.get(sku, 0), 0))
    left[sku] = left.get(sku, 0) - whole
    built = 0
    if components and whole < wanted:
        built = min(max(left.get(part, 0), 0) // per for part, per in components)
        built = min(built, wanted - whole)
        for part, per in components:
            left[part] -= built * per
    return whole, built


def book_shipment(
    conn: Connection, event_id: int, shipment: Shipment, order: Order, day: str
) -> list[Sale]:
    shipped: dict[str, int] = {}
    for line in shipment.lines:
        shipped[line.sku] = shipped.get(line.sku, 0) + line.qty
    kits = {line.sku: store.kit_components(conn, line.sku) for line in order.lines}
    sales = of_shipment(order, shipped, kits)
    costs = store.shipment_costs(conn, event_id) if any(s.parts for s in sales) else {}
    for sale in sales:
        if sale.priced:
            store.sale_add(conn, event_id, order.order, sale.sku, sale.qty, sale.revenue, day)
        for part, units in sale.parts:
            out, cost = costs.get(part, (0, 0))
            # The part's units of this shipment went out at `cost` together: the kit's
            # share is in proportion to its units (exact to the micro, rounded down).
            share = cost * units // out if out > 0 else 0
            store.kit_sale_cost_add(conn, event_id, day, sale.sku, part, units, share)
    return sales


def reverse(conn: Connection, original_event: int, reversal_event: int, day: str):
    """A reversed shipment takes back what it earned, and the kits' part costs it moved,
    on the reversal's day."""
    for order_id, sku, qty, revenue in store.sales_of_event(conn, original_event):
        store.sale_add(conn, reversal_event, order_id, sku, -qty, -revenue, day)
    for kit, part, units, cost in store.kit_sale_costs_of_event(conn, original_event):
        store.kit_sale_cost_add(conn, reversal_event, day, kit, part, -units, -cost)


def book_dropship(
    conn: Connection, po: str, order: Order | None, lines: list[tuple[str, int, int | None]],
    day: str,
) -> None:  # fmt: skip
    """The supplier shipped dropship purchase order `po` of `order`: `lines` (sku, qty,
    unit cost in micros or None) sold at the order's dropship line prices."""
    prices: dict[str, int] = {}
    for line in order.lines if order else []:
        if line.dropship and line.unit_price is not None:
            prices.setdefault(line.sku, to_micros(line.unit_price))
    for sku, qty, unit_cost in lines:
        cost = None if unit_cost is None else qty * unit_cost
        store.dropship_sale_add(conn, po, order.order if order else "", sku, qty,
                                qty * prices.get(sku, 0), cost, day)  # fmt: skip


# --- KPIs ------------------------------------------------------------------------------------
def kpi_rows(conn: Connection, since: str, until: str) -> list[tuple]:
    """(kpi, scope, value): revenue, COGS, dropship cost, gross margin and margin % over
    the period, per `day:` and per `class:` (ABC; `class:-` for products without one).
    Per sku they are a report of their own, a page at a time (`margin_page`): at 100,000
    products they were half a million KPI rows."""
    rows = []
    per_day = store.margin_by_day(conn, since, until)
    overall = _margin("", *(sum(r[i] for r in per_day) for i in (1, 2, 3)))
    rows += [row for row in overall if row[0] != "cogs"]  # the period's cogs row is there
    for day, *figures in per_day:
        rows += _margin(f"day:{day}", *figures)
    per_class = {cls or "-": figures for cls, *figures in
                 store.margin_by_class(conn, since, until)}  # fmt: skip
    for cls, figures in sorted(per_class.items()):
        rows += _margin(f"class:{cls}", *figures)
    return rows


MARGIN_COLUMNS = ["sku", "class", "revenue", "cogs", "dropship_cost", "gross_margin",
                  "margin_pct"]  # fmt: skip


def margin_page(
    conn: Connection, since: str, until: str, after: str, limit: int
) -> tuple[list[dict], str | None]:
    """Per sku in sku order after `after` (keyset), the figures of `kpi_rows` (MARGIN_COLUMNS;
    `class` null without an ABC class), and the sku the next page follows (None: none). A
    sku whose figures net to nothing (a shipment and its reversal) is left out, so a page
    may hold fewer than `limit` rows and still have a next one."""
    skus = store.margin_skus(conn, since, until, after, limit)
    if not skus:
        return [], None
    rows = [{"sku": sku, "class": cls, **_figures(*figures)}
            for sku, cls, *figures in store.margin_by_sku(conn, since, until, after, skus[-1])]  # fmt: skip
    return rows, skus[-1] if len(skus) == limit else None


def _figures(revenue: int, cogs: int, dropship: int) -> dict:
    margin = revenue - cogs - dropship
    return {"revenue": text(revenue), "cogs": text(cogs), "dropship_cost": text(dropship),
            "gross_margin": text(margin),
            "margin_pct": round(100 * margin / revenue, 2) if revenue else None}  # fmt: skip


def _margin(scope: str, revenue: int, cogs: int, dropship: int) -> list[tuple]:
    return [(kpi, scope, value) for kpi, value in _figures(revenue, cogs, dropship).items()]
