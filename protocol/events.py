"""Station events: what physically happened at a bench, as journaled and sent to the hub.

Each class is the `data` of one envelope `type` (see `protocol.envelope`). Facts are
never refused by the hub, so these types check shape only (types, ranges, id syntax),
never business rules such as "is there enough stock".
"""

from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta

from protocol import limits, returns
from protocol.types import (
    Code,
    Day,
    Lot,
    Money,
    NonNegativeQty,
    ParcelGrams,
    PositiveQty,
    SignedQty,
    Text,
)


class _Event(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    operator: Code | None = None


class Receipt(_Event):
    """Goods arrived (at the dock or straight into a put-away location)."""

    TYPE: ClassVar[str] = "receipt"

    sku: Code
    qty: PositiveQty
    location: Code
    lot: Lot | None = None
    expiry: Day | None = None
    po: Code | None = None
    unit_cost: Money | None = None
    owner: Code | None = None  # consignment: stock that belongs to someone else

    def __post_init__(self) -> None:
        limits.check(limits.MONEY, unit_cost=self.unit_cost)


class ShipmentLine(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    sku: Code
    qty: NonNegativeQty
    location: Code
    lot: Lot | None = None
    serials: list[Lot] = []
    short: NonNegativeQty = 0  # units ordered but not shipped
    short_reason: Text | None = None


class Shipment(_Event):
    """A packed order left the bench."""

    TYPE: ClassVar[str] = "shipment"

    order: Code
    lines: list[ShipmentLine]
    weight_g: ParcelGrams | None = None
    expected_weight_g: ParcelGrams | None = None
    weight_override: bool = False
    # 1.3: times the parcel was weighed outside the tolerance before it left (each one a
    # re-weigh, or the override's). Left out when 0, so a hub older than 1.3 refuses only
    # shipments that had one: update the hub first.
    weight_mismatches: NonNegativeQty = 0

    def __post_init__(self) -> None:
        limits.check(limits.PARCEL_WEIGHT, weight_g=self.weight_g,
                     expected_weight_g=self.expected_weight_g)  # fmt: skip


class Move(_Event):
    TYPE: ClassVar[str] = "move"

    sku: Code
    qty: PositiveQty
    from_: Code = msgspec.field(name="from")
    to: Code
    lot: Lot | None = None


class Count(_Event):
    """What was physically found at a location; the hub reconciles it against the book."""

    TYPE: ClassVar[str] = "count"

    location: Code
    sku: Code
    counted: NonNegativeQty
    lot: Lot | None = None
    task: Code | None = None


AdjustmentReason = Literal["damaged", "lost", "found", "expired", "correction", "other"]


class Adjustment(_Event):
    TYPE: ClassVar[str] = "adjustment"

    sku: Code
    qty: SignedQty
    location: Code
    reason: AdjustmentReason
    lot: Lot | None = None
    note: Text | None = None


class PoClose(_Event):
    """The receiver closed a purchase order: nothing more will be received against it.

    `short` says it was closed before everything ordered arrived; not a movement.
    """

    TYPE: ClassVar[str] = "po_close"

    po: Code
    short: bool = False
    reason: Text | None = None


Verdict = Annotated[str, Meta(pattern=r"^[a-z_]{1,40}$", description="ok, or the error's name")]


class Scan(_Event):
    """Every scan and its verdict, for pick-accuracy KPIs and the order's scan log."""

    TYPE: ClassVar[str] = "scan"

    code: Text
    verdict: Verdict
    mode: Literal["pack", "receive", "count", "move", "adjust", "returns", "assemble"]
    order: Code | None = None
    po: Code | None = None
    sku: Code | None = None


EVENT_TYPES: dict[str, type[msgspec.Struct]] = {
    **{cls.TYPE: cls for cls in (Receipt, Shipment, Move, Count, Adjustment, Scan, PoClose)},
    **returns.EVENT_TYPES,
}
MOVEMENT_TYPES = frozenset({"receipt", "shipment", "move", "count", "adjustment",
                            *returns.MOVEMENT_TYPES})  # fmt: skip
