"""A dict-backed `Lookups` (what the station cache provides) and helpers to drive the bench."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from biip.checksums import gs1_standard_check_digit

from protocol.messages import (
    CountTask,
    GtinUnits,
    KitComponent,
    Order,
    OrderLine,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
)
from protocol.returns import Returnable, ReturnableLine
from station.inputs import Scanned, Touch, Weighed
from station.workflows import bench
from station.workflows.base import Outcome

TODAY = date(2026, 6, 1)
GS = "\x1d"


def gtin14(body: str) -> str:
    """A GTIN-14 with its check digit, from 13 (or fewer, zero-padded) digits."""
    body = body.zfill(13)
    return body + str(gs1_standard_check_digit(body))


WIDGET = gtin14("0500000000001")
WIDGET_CASE = gtin14("1500000000001")  # 6 widgets
GADGET = gtin14("0500000000002")  # lot-tracked
PHONE = gtin14("0500000000003")  # serial-tracked
KIT = gtin14("0500000000004")  # KIT-1 = 2 WIDGET + 1 BOLT
BOLT = gtin14("0500000000005")
FEATHER = gtin14("0500000000006")  # no unit weight in the catalog


def _products() -> dict[str, Product]:
    items = [
        Product(
            sku="WIDGET",
            name="Widget",
            unit_weight_g=Decimal(100),
            gtins=[GtinUnits(gtin=WIDGET), GtinUnits(gtin=WIDGET_CASE, units=6)],
        ),
        Product(
            sku="GADGET",
            name="Gadget",
            unit_weight_g=Decimal(250),
            lot_tracked=True,
            gtins=[GtinUnits(gtin=GADGET)],
        ),
        Product(
            sku="PHONE",
            name="Phone",
            unit_weight_g=Decimal(300),
            serial_tracked=True,
            gtins=[GtinUnits(gtin=PHONE)],
        ),
        Product(
            sku="KIT-1",
            name="Widget kit",
            gtins=[GtinUnits(gtin=KIT)],
            kit=[KitComponent(sku="WIDGET", qty=2), KitComponent(sku="BOLT", qty=1)],
        ),
        Product(sku="BOLT", name="Bolt", unit_weight_g=Decimal(10), gtins=[GtinUnits(gtin=BOLT)]),
        Product(sku="FEATHER", name="Feather", gtins=[GtinUnits(gtin=FEATHER)]),
    ]
    return {p.sku: p for p in items}


def _orders() -> dict[str, Order]:
    items = [
        Order(order="SO-1", lines=[OrderLine(sku="WIDGET", qty=2)], packaging_weight_g=Decimal(50)),
        Order(order="SO-2", lines=[OrderLine(sku="WIDGET", qty=1), OrderLine(sku="GADGET", qty=1)]),
        Order(order="SO-LOT", lines=[OrderLine(sku="GADGET", qty=1, lot="L1")]),
        Order(order="SO-PHONE", lines=[OrderLine(sku="PHONE", qty=2)]),
        Order(order="SO-KIT", lines=[OrderLine(sku="KIT-1", qty=1)]),
        Order(order="SO-CASE", lines=[OrderLine(sku="WIDGET", qty=6)]),
        Order(order="SO-FEATHER", lines=[OrderLine(sku="FEATHER", qty=1)]),
        Order(order="SO-OLD", lines=[OrderLine(sku="WIDGET", qty=1)], status="shipped"),
    ]
    return {o.order: o for o in items}


def _purchase_orders() -> dict[str, PurchaseOrder]:
    items = [
        PurchaseOrder(
            po="PO-7",
            supplier="acme",
            lines=[
                PurchaseOrderLine(sku="WIDGET", qty=12, unit_cost=Decimal("1.50")),
                PurchaseOrderLine(sku="GADGET", qty=5),
            ],
        ),
        PurchaseOrder(
            po="PO-DONE", lines=[PurchaseOrderLine(sku="WIDGET", qty=1)], status="closed"
        ),
    ]
    return {p.po: p for p in items}


def _returnables() -> dict[str, Returnable]:
    shipped = [
        ReturnableLine(sku="WIDGET", qty=3, shipped=3, location="W-1"),
        ReturnableLine(sku="GADGET", qty=2, shipped=2, lots={"L1": 2}, location="G-1"),
        ReturnableLine(sku="PHONE", qty=2, shipped=2, serials=["SN-1", "SN-2"]),
    ]
    items = [
        Returnable(id="SO-9", order="SO-9", customer="Acme", lines=shipped),
        Returnable(id="R-100", order="SO-9", rma="R-100", lines=shipped[:1]),
    ]
    return {r.id: r for r in items}


@dataclass
class Catalog:
    """What a station would have cached from the hub, held in dicts."""

    products: dict[str, Product] = field(default_factory=_products)
    orders: dict[str, Order] = field(default_factory=_orders)
    pos: dict[str, PurchaseOrder] = field(default_factory=_purchase_orders)
    tasks: list[CountTask] = field(default_factory=list)
    returnables: dict[str, Returnable] = field(default_factory=_returnables)
    day: date = TODAY

    def product(self, sku: str) -> Product | None:
        return self.products.get(sku)

    def product_by_gtin(self, gtin: str) -> tuple[Product, int] | None:
        for product in self.products.values():
            for entry in product.gtins:
                if entry.gtin.zfill(14) == gtin.zfill(14):
                    return product, entry.units
        return None

    def order(self, order: str) -> Order | None:
        return self.orders.get(order)

    def purchase_order(self, po: str) -> PurchaseOrder | None:
        return self.pos.get(po)

    def returnable(self, id_: str) -> Returnable | None:
        return self.returnables.get(id_)

    def count_tasks(self) -> list[CountTask]:
        return list(self.tasks)

    def today(self) -> date:
        return self.day


def scan(code: str, symbology: str | None = None) -> Scanned:
    return Scanned(code=code, symbology=symbology)


def gs1(*parts: str) -> Scanned:
    """A GS1-128 scan: element strings joined as given (put GS where a scanner would)."""
    return Scanned(code="".join(parts), symbology="]C1")


def weigh(grams: int | str, stable: bool = True) -> Weighed:
    return Weighed(grams=Decimal(grams), stable=stable)


def touch(command: str, arg: str | None = None) -> Touch:
    return Touch(command, arg)


def run(
    inputs, catalog: Catalog | None = None, **settings
) -> tuple[bench.BenchState, list[Outcome]]:
    """Feed inputs one by one, as the core would; return the last state and every outcome."""
    catalog = catalog or Catalog()
    state = bench.initial_state(bench.BenchSettings(station="pack-1", **settings))
    outcomes = []
    for item in inputs:
        outcome = bench.handle(state, item, catalog)
        state = outcome.state
        outcomes.append(outcome)
    return state, outcomes


def events_of(outcomes: list[Outcome], kind: type) -> list:
    return [e for o in outcomes for e in o.events if isinstance(e, kind)]
