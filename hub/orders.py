"""Sales orders: open -> packing -> packed -> shipped (or short, or cancelled).

Stored with their lines (kits exploded into the components they commit), published
retained on orders/{order} for pack stations while packable (dropship lines left out,
each line with its pick location: where its first-expiring stock lies),
and driven by station events: the first good pack scan makes an order `packing`, its
shipment ships it (`short` when units were short-shipped). Dropship lines become a
purchase order per supplier on dropship/{po}; they close when the supplier confirms. An
order whose bench part has shipped but whose dropship lines are still out is `packed`.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

import msgspec

from hub import purchasing, sales, stock, store
from hub.store.connection import Connection
from protocol.envelope import encode, utc_now
from protocol.events import Shipment
from protocol.messages import Order, OrderLine, OrderState
from protocol.topics import Topics

OPEN_STATUSES = frozenset({"open", "packing"})
CLOSED_STATUSES = frozenset({"shipped", "short", "cancelled"})


class OrderConflict(ValueError):
    """The order exists and can no longer be replaced (it is packed or shipped)."""


class OrderError(ValueError):
    """An order that cannot be accepted (unknown sku, dropship line without supplier)."""


def upsert_order(conn: Connection, topics: Topics, order: Order) -> None:
    with store.transaction(conn):
        save_order(conn, topics, order, utc_now().isoformat())


def save_order(
    conn: Connection, topics: Topics, order: Order, now: str, from_centre: bool = False
) -> None:
    """Create or replace an order, inside the caller's transaction. `from_centre`: a
    transfer the central hub sent (the only way one is made: hub.transfers)."""
    existing = store.order_get(conn, order.order)
    if existing and existing[0] not in OPEN_STATUSES:
        raise OrderConflict(f"order {order.order} is {existing[0]} and cannot be changed")
    if (order.kind == "transfer" or order.to_site) and not from_centre:
        raise OrderError(f"order {order.order}: a transfer to another site is made at the "
                         "central hub (POST /api/transfers there), not as an order")  # fmt: skip
    _validate(conn, order)
    if existing:
        _cancel_dropship(conn, topics, order.order, now)
    before = _committing(conn, order.order)
    rows = _stock_rows(conn, order) + _dropship_rows(conn, topics, order, now)
    store.order_lines_replace(conn, order.order, rows)
    status = existing[0] if existing else "open"
    _store(conn, topics, msgspec.structs.replace(order, status=status), now)
    _publish_committed(conn, topics, before | _committing(conn, order.order), now)


def _committing(conn: Connection, order_id: str) -> set[str]:
    return {row.sku for row in store.order_lines(conn, order_id) if row.open}


def _publish_committed(conn: Connection, topics: Topics, skus: set[str], now: str):
    """Committed stock changed: other systems and the low-stock alert see it now, not at
    the SKU's next movement."""
    publish_stock(conn, topics, sorted(skus), now, follow=False)


def publish_stock(conn: Connection, topics: Topics, skus: Iterable[str], now: str,
                  follow: bool = True) -> None:  # fmt: skip
    """After the stock of `skus` changed, in their order: each one's stock message and
    low-stock alert (hub.stock), and with `follow` its open orders again where its pick
    location moved. Their stock and flags are read once for all of them (stock.Read):
    nothing here moves stock."""
    skus = list(skus)
    if not skus:
        return
    read = stock.Read(conn, skus, picks=follow)
    for sku in skus:
        stock.publish(conn, topics, sku, now, read)
        if follow:
            _follow_stock(conn, topics, sku, read)
        read.flags.write(conn, sku)


def _validate(conn: Connection, order: Order) -> None:
    problems = [f"unknown sku {line.sku}" for line in order.lines
                if not store.product_exists(conn, line.sku)]  # fmt: skip
    for line in order.lines:
        if line.dropship and _supplier_of(conn, line) is None:
            problems.append(f"dropship line {line.sku} has no supplier")
        if line.dropship and line.supplier and not store.supplier_exists(conn, line.supplier):
            problems.append(f"unknown supplier {line.supplier}")
    if problems:
        raise OrderError(f"order {order.order}: " + "; ".join(problems))


def _supplier_of(conn: Connection, line: OrderLine) -> str | None:
    if line.supplier:
        return line.supplier
    suppliers = store.product_suppliers(conn, line.sku)
    return suppliers[0][0] if suppliers else None


def _stock_rows(conn: Connection, order: Order) -> list[tuple]:
    """(sku, qty, kit, role, supplier, po): a kit line commits its components, not itself."""
    rows = []
    for line in order.lines:
        if line.dropship:
            continue
        components = store.kit_components(conn, line.sku)
        if not components:
            rows.append((line.sku, line.qty, "", "stock", None, None))
            continue
        rows.append((line.sku, line.qty, "", "kit", None, None))
        rows += [(sku, qty * line.qty, line.sku, "stock", None, None) for sku, qty in components]
    return rows


def _dropship_rows(conn: Connection, topics: Topics, order: Order, now: str) -> list:
    by_supplier: dict[str, list[OrderLine]] = {}
    for line in order.lines:
        if line.dropship:
            by_supplier.setdefault(_supplier_of(conn, line), []).append(line)
    rows = []
    for supplier, lines in by_supplier.items():
        po_in = purchasing.PurchaseOrderIn(
            supplier=supplier, lines=[purchasing.PoLineIn(sku=ln.sku, qty=ln.qty) for ln in lines]
        )
        po = purchasing.create(conn, topics, po_in, now,
                               purchasing.Dropship(order.order, order.customer))  # fmt: skip
        rows += [(ln.sku, ln.qty, "", "dropship", supplier, po) for ln in lines]
    return rows


def _cancel_dropship(conn: Connection, topics: Topics, order_id: str, now: str) -> None:
    for row in store.order_lines(conn, order_id):
        if row.po and store.po_get(conn, row.po).status == "open":
            purchasing.cancel(conn, topics, row.po, now)


def _store(conn: Connection, topics: Topics, order: Order, now: str) -> None:
    """Save the order and publish what pack stations should see of it."""
    store.order_upsert(conn, order.order, order.status, encode(order), now)
    _publish(conn, topics, order)
    if store.from_centre_has(conn, order.order):
        # routed here by the central hub: it follows the order's status (multi-site.md)
        state = OrderState(order=order.order, status=order.status, ts=utc_now())
        store.outbox_put(conn, topics.order_state, encode(state), retain=False)


def _follow_stock(conn: Connection, topics: Topics, sku: str, read: stock.Read) -> None:
    """After the sku's stock changed: when where to pick it changed too (stock arrived in
    an empty warehouse, its bin ran empty, an earlier-expiring lot came in), publish its
    open orders again so the packer is sent where the stock is now."""
    if not read.flags.set_pick(sku, read.picks.get(sku)):
        return
    for order_id in read.waiting.get(sku, []):
        _publish(conn, topics, get_order(conn, order_id))


def _publish(conn: Connection, topics: Topics, order: Order) -> None:
    bench = [line for line in order.lines if not line.dropship]
    if bench and order.status in OPEN_STATUSES:
        view = msgspec.structs.replace(order, lines=with_pick_locations(conn, bench))
        store.outbox_put(conn, topics.order(order.order), encode(view), retain=True)
    else:
        # An empty retained message removes the order from every station's cache.
        store.outbox_put(conn, topics.order(order.order), b"", retain=True)


def with_pick_locations(conn: Connection, lines: list[OrderLine]) -> list[OrderLine]:
    """Each line with where to pick it (unless the order says): the location of its
    first-expiring, then oldest, stock. Decided each time the order is published (and an
    open order is published again when that changes: `publish_stock`); a line with no stock
    anywhere gets none (the bench's own location)."""
    return [_with_picks(conn, line) for line in lines]


def _with_picks(conn: Connection, line: OrderLine) -> OrderLine:
    location = line.location or store.pick_location(conn, line.sku, line.lot)
    parts = {sku: store.pick_location(conn, sku) for sku, _ in store.kit_components(conn, line.sku)}
    # The sale price stays on the hub: stations do not need it, and a station of an older
    # release would refuse an order with a field it does not know.
    return msgspec.structs.replace(
        line, location=location, part_locations={sku: at for sku, at in parts.items() if at},
        unit_price=None,
    )  # fmt: skip


def get_order(conn: Connection, order_id: str) -> Order | None:
    found = store.order_get(conn, order_id)
    return msgspec.json.decode(found[1], type=Order) if found else None


def _set_status(conn: Connection, topics: Topics, order_id: str, status: str, now: str):
    order = msgspec.structs.replace(get_order(conn, order_id), status=status)
    _store(conn, topics, order, now)


# --- driven by station events ----------------------------------------------------------------
def mark_packing(
    conn: Connection, topics: Topics, order_id: str, now: str, not_open: set[str]
) -> None:
    """A good pack scan of an open order starts its packing. `not_open`: the orders found
    not open (or not there) earlier in the same change, not read again (a scan never opens
    one; hub.ingest forgets them when an order may arrive), and this one after it."""
    if order_id in not_open:
        return
    if store.order_status(conn, order_id) == "open":
        _set_status(conn, topics, order_id, "packing", now)
    not_open.add(order_id)


def read_ahead_packing(conn: Connection, order_ids: set[str], not_open: set[str]) -> None:
    """Note which of `order_ids` (a batch's good pack scans') are not open, or not there,
    in one statement: `mark_packing` then reads only the open ones, each once (an order per
    ten scans, each a wait on PostgreSQL)."""
    if order_ids:
        not_open.update(order_ids - store.orders_open_of(conn, sorted(order_ids)))


def apply_shipment(
    conn: Connection, topics: Topics, shipment: Shipment, now: str, day: str
) -> None:
    """The bench part of the order left: lines are shipped, short, or (unreported) short.
    `day`: the site's, that the order's KPIs count on."""
    found = store.order_get(conn, shipment.order)
    if found is None or found[0] in CLOSED_STATUSES or found[0] == "packed":
        return  # the stock moved all the same: the ledger has it
    shipped: Counter[str] = Counter()
    for line in shipment.lines:
        shipped[line.sku] += line.qty
    rows = [r for r in store.order_lines(conn, shipment.order) if r.role != "dropship" and r.open]
    for kit, parts in _kit_groups(rows):
        takes, kits_done = _fill(kit, parts, shipped)
        for row, take in zip(parts, takes, strict=True):
            store.order_line_update(conn, shipment.order, row.line, take, row.qty - take, False)
        if kit:
            store.order_line_update(conn, shipment.order, kit.line, kits_done,
                                    kit.qty - kits_done, False)  # fmt: skip
    settle(conn, topics, shipment.order, now, day)


def _kit_groups(rows: list[store.OrderLineRow]) -> list[tuple]:
    """(kit row or None, the rows it covers): a kit row is followed by its components."""
    groups: list[tuple] = []
    for row in rows:
        if row.role == "kit":
            groups.append((row, []))
        elif row.kit and groups and groups[-1][0] and groups[-1][0].sku == row.kit:
            groups[-1][1].append(row)
        else:
            groups.append((None, [row]))
    return groups


def _fill(kit, parts: list[store.OrderLineRow], shipped: Counter[str]) -> tuple[list, int]:
    """Units shipped of each row, and complete kits: a kit shipped whole (its own SKU, a
    pre-assembled kit) fills its components' rows; components packed one by one fill
    theirs and make up kits."""
    whole = min(kit.qty, shipped[kit.sku]) if kit else 0
    if kit:
        shipped[kit.sku] -= whole
    takes, kits_done = [], kit.qty if kit else 0
    for row in parts:
        per = row.qty // kit.qty if kit else 1
        loose = min(row.qty - whole * per, shipped[row.sku])
        shipped[row.sku] -= loose
        takes.append(whole * per + loose)
        kits_done = min(kits_done, whole + loose // per)
    return takes, kits_done


def confirm_dropship(
    conn: Connection, topics: Topics, po: str, now: str, day: str
) -> None:
    """The supplier shipped a dropship purchase order: its order lines are done (the sale
    and the KPIs on the site's `day`)."""
    row = store.po_get(conn, po)
    if row is None or not row.dropship:
        raise purchasing.PurchaseError(f"no dropship purchase order {po}")
    if row.status not in purchasing.OPEN:
        raise purchasing.PurchaseConflict(f"dropship purchase order {po} is {row.status}")
    lines = store.po_lines(conn, po)
    for line, _sku, qty, _received, _cost in lines:
        store.po_line_receive(conn, po, line, qty)
    sales.book_dropship(conn, po, get_order(conn, row.order_id),
                        [(sku, qty, cost) for _line, sku, qty, _received, cost in lines],
                        day)  # fmt: skip
    purchasing.complete(conn, po, "received", now, day)
    purchasing.publish(conn, topics, po)
    for line in store.order_lines(conn, row.order_id):
        if line.po == po:
            store.order_line_update(conn, row.order_id, line.line, line.qty, 0, False)
    settle(conn, topics, row.order_id, now, day)


def settle(conn: Connection, topics: Topics, order_id: str, now: str, day: str) -> None:
    """The order's status from its lines; closing it books its fill rate and cycle time."""
    rows = store.order_lines(conn, order_id)
    bench = [r for r in rows if r.role != "dropship"]
    if any(r.open for r in bench):
        return
    if any(r.open for r in rows if r.role == "dropship"):
        if bench:
            _set_status(conn, topics, order_id, "packed", now)
        return
    counted = [r for r in rows if r.role != "kit"]
    short = any(r.short for r in counted)
    _set_status(conn, topics, order_id, "short" if short else "shipped", now)
    created = datetime.fromisoformat(store.order_created(conn, order_id))
    hours = (datetime.fromisoformat(now) - created).total_seconds() / 3600
    store.daily_totals_add(
        conn, day, units_ordered=sum(r.qty for r in counted),
        units_shipped=sum(r.shipped for r in counted), orders_closed=1, order_hours=hours,
    )  # fmt: skip


def cancel(conn: Connection, topics: Topics, order_id: str, now: str) -> None:
    found = store.order_get(conn, order_id)
    if found is None:
        raise OrderError(f"no order {order_id}")
    if found[0] in CLOSED_STATUSES:
        raise OrderConflict(f"order {order_id} is {found[0]} and cannot be cancelled")
    _cancel_dropship(conn, topics, order_id, now)
    released = _committing(conn, order_id)
    for row in store.order_lines(conn, order_id):
        if row.open:
            store.order_line_update(conn, order_id, row.line, row.shipped, row.short, False)
    _set_status(conn, topics, order_id, "cancelled", now)
    _publish_committed(conn, topics, released, now)


def order_dict(conn: Connection, order_id: str) -> dict | None:
    found = store.order_get(conn, order_id)
    if found is None:
        return None
    order = msgspec.json.decode(found[1])
    order["status"] = found[0]
    order["rows"] = [
        {"line": r.line, "sku": r.sku, "qty": r.qty, "shipped": r.shipped, "short": r.short,
         "kit": r.kit or None, "role": r.role, "supplier": r.supplier, "po": r.po,
         "open": r.open}
        for r in store.order_lines(conn, order_id)
    ]  # fmt: skip
    return order
