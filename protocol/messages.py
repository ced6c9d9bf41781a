"""Messages the hub publishes: acks and commands for stations, master data they cache,
and the derived state other systems subscribe to."""

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from protocol import limits
from protocol.types import (
    Balance,
    Code,
    Epoch,
    Grams,
    Lot,
    Money,
    NonNegativeBalance,
    NonNegativeQty,
    PositiveQty,
    Seq,
    SeqOrZero,
    SiteId,
    StationId,
    Text,
    Timestamp,
)

Gtin = Annotated[str, Meta(pattern=r"^[0-9]{8,14}$", description="GTIN-8/12/13/14 digits")]


class _Msg(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    pass


class Applied(_Msg):
    """Retained on station/{id}/applied: everything up to `seq` of `epoch` is in the ledger."""

    epoch: Epoch
    seq: SeqOrZero


class ResendMovements(_Msg):
    """centre/resend: the central hub asks the site hub to publish its applied movements
    again from ledger_seq `from` (it saw a gap, the site's stock is ahead of it, or one of
    its workers has just taken the site over). `from` is also the centre's cursor for what
    is not retained: a site hub (1.6) says again the state of each routed order and each
    alert that changed since its movement before `from` (hub.site_restate)."""

    from_: Seq = msgspec.field(name="from")


class OrderState(_Msg):
    """centre/order-state: where an order the central hub routed to this site stands there
    (its status as the site hub has it), sent on each change; `rejected`: the site could
    not take it (`reason` says why, e.g. an SKU unknown there)."""

    order: Code
    status: Literal["open", "packing", "packed", "shipped", "short", "cancelled", "rejected"]
    ts: Timestamp
    reason: Text | None = None


class Resync(_Msg):
    """cmd/resync: send again from `from` of journal `epoch` (the hub saw a gap or lost
    its session). A station ignores a resync for an epoch other than its own (its
    previous journal's, say); without `epoch` (hubs before it was added) it means the
    station's current one."""

    from_: Seq = msgspec.field(name="from")
    epoch: Epoch | None = None


class Command(_Msg):
    """Any other cmd/{name} (identify, reprint, mode); `args` depend on the name."""

    args: dict[str, str] = {}


class ScanRead(_Msg):
    """What a station read in a scanned code (its own interpretation: GS1 parsed, labels
    recognised), so that a page shows "MUG-WHT, lot L1, serial 42", not the raw string.
    `kind`: item (a product: sku, units, and what the code carried), lot (a lot and/or
    expiry label without a GTIN), sscc, location, order, purchase_order, operator,
    command, quantity (`ref` names which), or unknown (`reason`)."""

    kind: Literal["item", "lot", "sscc", "location", "order", "purchase_order", "operator",
                  "command", "quantity", "return", "unknown"]  # fmt: skip
    sku: Text | None = None
    units: NonNegativeQty = 0
    gtin: Text | None = None
    lot: Text | None = None
    expiry: date | None = None
    serial: Text | None = None
    sscc: Text | None = None
    ref: Text | None = None
    reason: Text | None = None


class StationStatus(_Msg):
    """Retained on station/{id}/status; the last will sets state offline."""

    state: Literal["online", "offline"]
    conn: SeqOrZero = 0  # connection counter: an offline will older than the birth is stale
    ts: Timestamp | None = None
    epoch: Epoch | None = None
    head: SeqOrZero = 0  # last seq journaled
    mode: Text | None = None
    operator: Text | None = None
    devices: dict[str, Text] = {}
    last_scan: Text | None = None  # the code as scanned (GS1's separator shown as <GS>)
    last_verdict: Text | None = None
    last_read: ScanRead | None = None  # what the station read in last_scan (since 1.2)
    # Why the station records nothing, e.g. its journal is behind the hub's ack (restored
    # from an old copy): a supervisor must act. None when all is well.
    fault: Text | None = None


class HubStatus(_Msg):
    state: Literal["online", "offline"]
    ts: Timestamp | None = None


class GtinUnits(_Msg):
    gtin: Gtin
    units: PositiveQty = 1


class KitComponent(_Msg):
    sku: Code
    qty: PositiveQty


class Product(_Msg):
    """Retained on catalog/{sku}; an empty retained payload removes the product."""

    sku: Code
    name: Text
    gtins: list[GtinUnits] = []
    unit_weight_g: Grams | None = None
    kit: list[KitComponent] = []
    lot_tracked: bool = False
    serial_tracked: bool = False

    def __post_init__(self) -> None:
        limits.check(limits.WEIGHT, unit_weight_g=self.unit_weight_g)


class OrderLine(_Msg):
    sku: Code
    qty: PositiveQty
    lot: Lot | None = None
    # Where to pick it. The hub fills it in when it publishes the order: the location of
    # the first-expiring (then oldest) stock of the sku (and lot). None: the packing
    # station books the line out of its own [pack] location.
    location: Code | None = None
    # A kit line: where to pick each part (sku -> location) when the kit is built from its
    # parts at the bench; filled in by the hub like `location`. A part not named comes out
    # of the station's `[pack] location`.
    part_locations: dict[Code, Code] = {}
    # Shipped by the supplier straight to the customer: never sent to a pack station.
    dropship: bool = False
    supplier: Code | None = None  # for a dropship line; default: the product's preferred
    # What the customer pays per unit (a kit line: per kit), for revenue and margin and for
    # consignment owed as a share of the sale price. Optional: older publishers omit it.
    unit_price: Money | None = None

    def __post_init__(self) -> None:
        limits.check(limits.MONEY, unit_price=self.unit_price)


class Order(_Msg):
    """Retained on orders/{order} while the order can be packed; emptied when closed."""

    order: Code
    lines: list[OrderLine]
    status: Literal["open", "packing", "packed", "shipped", "short", "cancelled"] = "open"
    packaging_weight_g: Grams | None = None
    customer: Text | None = None
    # 1.4: a transfer to another site of the company (`to_site`), packed like a sale; its
    # shipment books the stock into transit, not out of the company. Left out for a sale.
    kind: Literal["sale", "transfer"] = "sale"
    to_site: SiteId | None = None

    def __post_init__(self) -> None:
        limits.check(limits.WEIGHT, packaging_weight_g=self.packaging_weight_g)


class PurchaseOrderLine(_Msg):
    sku: Code
    qty: PositiveQty
    received: NonNegativeBalance = 0
    unit_cost: Money | None = None

    def __post_init__(self) -> None:
        limits.check(limits.MONEY, unit_cost=self.unit_cost)


class PurchaseOrder(_Msg):
    """Retained on purchase-orders/{po} while it can be received; emptied when closed."""

    po: Code
    lines: list[PurchaseOrderLine]
    supplier: Code | None = None
    status: Literal["open", "receiving", "received", "closed", "cancelled"] = "open"
    expected: date | None = None
    order: Code | None = None  # dropship: the sales order the supplier ships
    customer: Text | None = None  # dropship: whom to ship to


class CountTask(_Msg):
    task: Code
    location: Code
    sku: Code | None = None  # None: count everything at the location


class StockLine(_Msg):
    location: Code
    qty: Balance
    lot: Lot | None = None
    owner: Code | None = None


class Stock(_Msg, kw_only=True):
    """Retained on stock/{sku}: on hand (may be negative: facts are never clamped).

    `ledger_seq` is the ledger position of the snapshot: every movement up to it is in
    these numbers, none after it. A subscriber that joins late takes the retained
    snapshot, then applies only the movements of the sku with a higher `ledger_seq`.
    """

    sku: Code
    on_hand: Balance
    committed: NonNegativeBalance = 0
    # 1.3: on hand in held (quarantine) locations, owned but not for sale; left out when 0.
    quarantined: Balance = 0
    available: Balance = 0  # on hand - committed - quarantined
    locations: list[StockLine] = []
    ledger_seq: SeqOrZero  # 0: the ledger is empty
    ts: Timestamp  # the hub's clock when the snapshot was taken


# Every kind of alert the hub raises (docs/inventory.md says what each means).
AlertKind = Literal[
    "negative_stock",
    "unknown_sku",
    "low_stock",
    "expiring_lot",
    "count_variance",
    "pick_errors",
    "conflicting_event",
    "station_offline",
    "unknown_po",
    "not_on_po",
    "closed_po",
    "held_old_epoch",
    "event_failed",
    "message_failed",
    "outbox_failed",
    "loop_failed",
    "return_not_shipped",
    "kit_backflushed",
    "conflicting_movement",
    "unit_cost_capped",
    "transfer_late",
    "site_gap",
]


class Alert(_Msg, kw_only=True):
    """On alerts: an alert raised (state raised), or cleared again (state cleared, the
    same id). low_stock clears when stock recovers, station_offline when the station is
    back, count_variance when the count is approved, rejected or superseded; the hub
    clears no other kind. pick_errors comes again, raised with the same id, with the day's
    new figures at each further scan error: keep the latest message per id."""

    id: Seq  # the alert's id on the hub (GET /api/alerts)
    kind: AlertKind
    message: Text
    severity: Literal["info", "warning", "critical"] = "warning"
    state: Literal["raised", "cleared"] = "raised"
    sku: Code | None = None
    station: StationId | None = None
    ts: Timestamp  # the hub's clock when it was raised or cleared


class AppliedMovement(_Msg):
    """On movements: one balance change in the ledger, in ledger order (`ledger_seq`)."""

    ledger_seq: Seq
    station: StationId
    epoch: Epoch
    seq: Seq
    type: Code
    sku: Code
    location: Code
    delta: Balance
    ts: Timestamp
    hub_ts: Timestamp
    lot: Lot | None = None
    owner: Code | None = None
    # The change of the site's FIFO stock value this movement made, in micros (millionths
    # of the currency unit: exact, and signed, which Money is not); none for someone
    # else's (consignment) stock. A central hub keeps each site's value from it.
    value_micros: Annotated[int, Meta(ge=-(10**17), le=10**17)] | None = None
    # 1.6: on a receipt of a transfer between sites (at the receiving site), the transfer
    # it booked in, so the central hub counts those units once from the moment it applies
    # the movement (not only from the receiver's final `received` report). Left out on
    # every other movement, and on receipts booked by a hub older than 1.6.
    transfer: Code | None = None


# --- transfers between sites (1.4) --------------------------------------------------------
class TransferLine(_Msg):
    sku: Code
    qty: PositiveQty


class TransferLayer(_Msg):
    """Units of a transfer at one FIFO cost: the sender's cost layer they left."""

    qty: PositiveQty
    unit_cost_micros: Annotated[int, Meta(ge=0, le=10**15)]  # millionths of the currency
    received: Annotated[str, Meta(max_length=40)]  # the layer's FIFO date at the sender


class TransferShippedLine(_Msg):
    sku: Code
    qty: NonNegativeBalance
    lot: Lot | None = None
    layers: list[TransferLayer] = []  # what the units cost the sender, oldest first
    # 1.5: a part that travelled for the transfer's line of kit `kit` (packed as its parts),
    # `per_kit` of it in one kit; every part of such a kit has a line (qty 0 if none went).
    kit: Code | None = None
    per_kit: PositiveQty | None = None


class TransferOrder(_Msg):
    """Retained on centre/transfers/{transfer} at both sites: the centre's word on a
    transfer. `open`: to be picked and packed at `from_site`; `in_transit`: shipped
    (`shipped`, with the sender's cost layers), to be received at `to_site`'s dock;
    `received`: booked in at `to_site` (`received`: per SKU, over and short as counted)."""

    transfer: Code
    from_site: SiteId
    to_site: SiteId
    lines: list[TransferLine]
    status: Literal["open", "in_transit", "received"] = "open"
    shipped: list[TransferShippedLine] = []
    received: list[TransferShippedLine] = []


class TransferReport(_Msg):
    """On transfers/{transfer}, a site hub to the centre: the sender shipped it (`lines`:
    what left, with its cost layers) or the receiver booked it in (`lines`: what came)."""

    transfer: Code
    site: SiteId
    state: Literal["shipped", "received"]
    lines: list[TransferShippedLine]
    # 1.5, `received`: the receiving site's movements (their ledger_seq) that booked the
    # transfer in. The centre counts those units once in the company's stock, whichever of
    # them and the sender's book-out of its transit it applies first. Left out when empty.
    movements: Annotated[list[Seq], Meta(max_length=10_000)] = []
