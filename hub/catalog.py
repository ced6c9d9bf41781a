"""Master data: products, locations and suppliers.

Products are stored whole (`ProductRecord`, the hub's view) and as the protocol `Product`
stations cache, published retained on catalog/{sku} only when that part changed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import Meta

from hub import stock, store
from hub.money import to_micros
from hub.store.connection import Connection
from protocol import limits
from protocol.envelope import encode, utc_now
from protocol.messages import GtinUnits, KitComponent, Product
from protocol.topics import Topics
from protocol.types import Code, Grams, Money, NonNegativeQty, Percent, Text

Part = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._-]{0,32}$")]
# Printable ASCII but @ on each side of one @ (\s differs between Python and JSON Schema).
Email = Annotated[str, Meta(max_length=200, pattern=r"^$|^[!-?A-~]+@[!-?A-~]+$")]
LeadDays = Annotated[int, Meta(ge=0, le=3650)]


class _Record(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    pass


class ProductSupplier(_Record):
    supplier: Code
    lead_time_days: LeadDays | None = None  # None: the supplier's own
    unit_cost: Money | None = None

    def __post_init__(self) -> None:
        limits.check(limits.MONEY, unit_cost=self.unit_cost)


class ProductRecord(_Record):
    """A product as the hub keeps it; the first supplier is the preferred one."""

    sku: Code
    name: Text
    gtins: list[GtinUnits] = []  # a case GTIN has units > 1
    unit_weight_g: Grams | None = None
    unit_cost: Money | None = None
    suppliers: list[ProductSupplier] = []
    par_level: NonNegativeQty | None = None
    reorder_point: NonNegativeQty | None = None  # None: computed from demand
    safety_stock: NonNegativeQty | None = None  # None: computed from demand variability
    high_risk: bool = False
    kit: list[KitComponent] = []
    owner: Code | None = None  # consignment: all its stock belongs to this owner
    lot_tracked: bool = False
    serial_tracked: bool = False
    # Consignment terms: what a sold unit owes the owner (hub.consignment.owed_per_unit).
    consignment_unit_cost: Money | None = None
    consignment_pct: Percent | None = None  # percent of the sale price, 0 to 100

    def __post_init__(self) -> None:
        limits.check(limits.WEIGHT, unit_weight_g=self.unit_weight_g)
        limits.check(limits.MONEY, unit_cost=self.unit_cost,
                     consignment_unit_cost=self.consignment_unit_cost)  # fmt: skip
        limits.check(limits.PERCENT, consignment_pct=self.consignment_pct)

    def station_view(self) -> Product:
        return Product(
            sku=self.sku, name=self.name, gtins=self.gtins, unit_weight_g=self.unit_weight_g,
            kit=self.kit, lot_tracked=self.lot_tracked, serial_tracked=self.serial_tracked,
        )  # fmt: skip


class Location(_Record):
    code: Code
    zone: Part = ""
    aisle: Part = ""
    bay: Part = ""
    bin: Part = ""

    @property
    def barcode(self) -> str:
        return f"LOC:{self.code}"


class Supplier(_Record):
    supplier: Code
    name: Text
    email: Email = ""
    lead_time_days: LeadDays = 14


class CatalogError(ValueError):
    """Master data that cannot be saved (names the record and why)."""


# --- products --------------------------------------------------------------------------
@dataclass(frozen=True)
class Saving:
    """What the products saved together say, read once for a whole batch (a CSV checks
    each of its rows against all of them): their SKUs, and which SKUs give each GTIN."""

    skus: frozenset[str]
    gtins: dict[str, frozenset[str]]  # GTIN (14 digits) -> the SKUs that give it

    @classmethod
    def of(cls, records: list[ProductRecord]) -> "Saving":
        gtins: dict[str, set[str]] = {}
        for record in records:
            for g in record.gtins:
                gtins.setdefault(g.gtin.zfill(14), set()).add(record.sku)
        return cls(frozenset(r.sku for r in records),
                   {code: frozenset(skus) for code, skus in gtins.items()})  # fmt: skip


def check_products(
    conn: Connection, products: list[ProductRecord], saving: Saving | None = None
) -> list[str]:
    """Problems across fields or records, which the API's document cannot express (a kit
    of itself, of a component twice or of unknown SKUs, a supplier twice or unknown, a
    GTIN another product scans as); `saving`: all the records saved together with these
    (default: these), whose SKUs kit components may name and whose GTINs count as theirs."""
    saving = saving or Saving.of(products)
    problems = _gtin_problems(conn, products, saving)
    for product in products:
        if any(c.sku == product.sku for c in product.kit):
            problems.append(f"kit {product.sku} cannot contain itself")
        if len({c.sku for c in product.kit}) != len(product.kit):
            problems.append(f"kit {product.sku}: a component is listed twice (give its qty once)")
        if len({s.supplier for s in product.suppliers}) != len(product.suppliers):
            problems.append(f"{product.sku}: a supplier is listed twice")
        for component in product.kit:
            known = component.sku in saving.skus or store.product_exists(conn, component.sku)
            if not known:
                problems.append(f"{product.sku}: kit component {component.sku} is not a product")
        for supplier in product.suppliers:
            if not store.supplier_exists(conn, supplier.supplier):
                problems.append(f"{product.sku}: supplier {supplier.supplier} is not known")
    return problems


def _gtin_problems(conn: Connection, products: list[ProductRecord], saving: Saving) -> list[str]:
    """A GTIN is one product's (a station resolves each scan to one): not twice on a record,
    not on two records saved together, not on a product saved earlier unless that one is
    saved again with them (which is how a GTIN moves from one product to another)."""
    problems = []
    for product in products:
        codes = [g.gtin.zfill(14) for g in product.gtins]
        for code, g in zip(codes, product.gtins, strict=True):
            others = sorted(saving.gtins.get(code, frozenset()) - {product.sku})
            if codes.count(code) > 1:
                problems.append(f"{product.sku}: GTIN {g.gtin} is listed twice")
            elif others:
                problems.append(f"{product.sku}: GTIN {g.gtin} is also given to {others[0]}")
            else:  # the database only when the records say nothing against it
                owner = store.gtin_owner(conn, code)
                if owner not in (None, product.sku) and owner not in saving.skus:
                    problems.append(f"{product.sku}: GTIN {g.gtin} belongs to {owner} (take "
                                    f"it off {owner} first, or save both together)")  # fmt: skip
    return list(dict.fromkeys(problems))  # a GTIN listed twice: said once


def save_products(conn: Connection, topics: Topics, products: list[ProductRecord]) -> None:
    """Inside the caller's transaction; each product whose station view changed is published."""
    problems = check_products(conn, products)
    if problems:
        raise CatalogError("; ".join(problems))
    now = utc_now().isoformat()
    for product in products:
        _save_product(conn, topics, product, now)


def _save_product(conn: Connection, topics: Topics, product: ProductRecord, now: str):
    data = encode(product.station_view())
    changed = store.product_get(conn, product.sku) != data
    policy = store.product_policy(conn, product.sku)
    store.product_upsert(conn, product.sku, product.name, data, now)
    store.product_master_set(
        conn, product.sku, encode(product), to_micros(product.unit_cost), product.par_level,
        product.reorder_point, product.safety_stock, product.high_risk, product.owner or "",
    )  # fmt: skip
    store.gtins_replace(conn, product.sku, [(g.gtin, g.units) for g in product.gtins])
    store.product_suppliers_replace(
        conn, product.sku,
        [(s.supplier, s.lead_time_days, to_micros(s.unit_cost)) for s in product.suppliers],
    )  # fmt: skip
    store.kit_replace(conn, product.sku, [(c.sku, c.qty) for c in product.kit])
    if changed:  # unchanged: stations already have it
        store.outbox_put(conn, topics.product(product.sku), data, retain=True)
    if policy is not None and policy != store.product_policy(conn, product.sku):
        stock.check_low(conn, topics, product.sku, now)  # a new reorder point, say


def upsert_products(conn: Connection, topics: Topics, products: list) -> None:
    """Create or replace products (protocol `Product`s or `ProductRecord`s), all or none."""
    records = [p if isinstance(p, ProductRecord) else from_product(p) for p in products]
    with store.transaction(conn):
        save_products(conn, topics, records)


def from_product(product: Product) -> ProductRecord:
    return msgspec.convert(msgspec.to_builtins(product), ProductRecord)


def get_product(conn: Connection, sku: str) -> Product | None:
    data = store.product_get(conn, sku)
    return msgspec.json.decode(data, type=Product) if data else None


def get_record(conn: Connection, sku: str) -> ProductRecord | None:
    raw = store.product_master_get(conn, sku)
    if raw is None:
        return None
    if raw == b"{}":  # saved before master data existed: the station view is all there is
        return from_product(get_product(conn, sku))
    return msgspec.json.decode(raw, type=ProductRecord)


def list_records(conn: Connection, limit: int, offset: int) -> list[ProductRecord]:
    return [r for r in (get_record(conn, sku) for sku in store.product_skus(conn, limit, offset))
            if r is not None]  # fmt: skip


# --- locations and suppliers -------------------------------------------------------------
def save_locations(conn: Connection, locations: list[Location]) -> None:
    now = utc_now().isoformat()
    for location in locations:
        store.location_upsert(
            conn, location.code, location.zone, location.aisle, location.bay, location.bin,
            location.barcode, now,
        )  # fmt: skip


def list_locations(conn: Connection, limit: int, offset: int) -> list[Location]:
    return [Location(code=c, zone=z, aisle=a, bay=b, bin=n)
            for c, z, a, b, n in store.location_list(conn, limit, offset)]  # fmt: skip


def location_of_barcode(conn: Connection, barcode: str) -> str | None:
    return store.location_by_barcode(conn, barcode)


def save_suppliers(conn: Connection, suppliers: list[Supplier]) -> None:
    now = utc_now().isoformat()
    for supplier in suppliers:
        store.supplier_upsert(
            conn, supplier.supplier, supplier.name, supplier.email, supplier.lead_time_days, now
        )


def list_suppliers(conn: Connection, limit: int, offset: int) -> list[Supplier]:
    return [Supplier(supplier=s, name=n, email=e, lead_time_days=d)
            for s, n, e, d in store.supplier_list(conn, limit, offset)]  # fmt: skip


def fallback_cost(conn: Connection, sku: str) -> int:
    """Micros for units no receipt priced: the product's cost, else its last layer's, else 0."""
    return _fallback(conn, sku, store.product_unit_cost(conn, sku))


def _fallback(conn: Connection, sku: str, product_cost: int | None) -> int:
    cost = store.last_layer_cost(conn, sku) if product_cost is None else product_cost
    return cost or 0


class Known:
    """The products a change of the ledger (a batch of events, a correction) looks up: each
    read once, in one statement, for all it asks of it. Nothing that applies events
    changes a product (the catalog is saved by the API and the imports, in changes of
    their own), so what was read holds to the change's end."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, int | None] | None] = {}

    def read_ahead(self, conn: Connection, skus: set[str]) -> None:
        """Read those of `skus` not read yet, in one statement (a batch names its SKUs
        before it applies them: one round trip, not one per SKU)."""
        wanted = sorted(skus - self._rows.keys())
        if wanted:
            found = store.products_owner_cost(conn, wanted)
            self._rows.update({sku: found.get(sku) for sku in wanted})

    def _row(self, conn: Connection, sku: str) -> tuple[str, int | None] | None:
        if sku not in self._rows:
            self._rows[sku] = store.product_owner_cost(conn, sku)
        return self._rows[sku]

    def exists(self, conn: Connection, sku: str) -> bool:
        return self._row(conn, sku) is not None

    def owner(self, conn: Connection, sku: str) -> str:
        """Whose stock its units are ("": ours; an unknown SKU's too)."""
        row = self._row(conn, sku)
        return row[0] if row else ""

    def costless(self, conn: Connection, skus: Iterable[str]) -> list[str]:
        """Those of `skus` with no cost of their own (unknown, or no unit cost): their
        fallback cost is their last layer's."""
        return [sku for sku in skus if (row := self._row(conn, sku)) is None or row[1] is None]

    def fallback_cost(self, conn: Connection, sku: str) -> int:
        """`fallback_cost`, the product's part read once (its layers are read each time:
        the change adds to them)."""
        row = self._row(conn, sku)
        return _fallback(conn, sku, row[1] if row else None)


def unit_cost_decimal(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value) / 1_000_000
