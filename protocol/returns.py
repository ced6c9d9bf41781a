"""Customer returns and kit assembly: the station events and the hub's messages about them.

Kept apart from `protocol.events` and `protocol.messages` (which they extend) so that the
returns and kits contract can be read in one place:

- `Return` (station event `return`): what came back at the dock, item by item, with its
  condition, reason and where it went.
- `Assembly` (station event `assembly`): kits built at the bench, or taken apart.
- `Returnable` (hub -> station, retained on `returnable/{id}`): what may come back against
  a shipped order (id = the order) or a return authorisation (id = the RMA number).
- `AppliedReturn` (hub -> everyone on `returns`): a return as the ledger booked it, with
  its value, for the systems that refund.
"""

from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta

from protocol.types import Code, Lot, Money, NonNegativeQty, PositiveQty, Seq, Text, Timestamp

Condition = Literal["resellable", "damaged", "scrap"]
CONDITIONS: tuple[str, ...] = ("resellable", "damaged", "scrap")
ReasonCode = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="a word")]


class _Struct(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    pass


# --- station events ----------------------------------------------------------------------
class ReturnLine(_Struct):
    sku: Code
    qty: PositiveQty
    condition: Condition
    reason: ReasonCode
    # Where it went: its pick location or a returns bin (resellable), the quarantine
    # location (damaged); scrap is written off where it was received (the dock).
    location: Code
    lot: Lot | None = None
    serials: list[Lot] = []


class Return(_Struct):
    """Goods a customer sent back, received at the dock against a shipped order."""

    TYPE: ClassVar[str] = "return"

    order: Code
    lines: list[ReturnLine]
    rma: Code | None = None
    operator: Code | None = None


class AssemblyPart(_Struct):
    sku: Code
    qty: PositiveQty
    # Where it was taken from (assembly) or put back (disassembly); none: the hub books it
    # at the part's pick location (else the kit's location).
    location: Code | None = None
    lot: Lot | None = None


class Assembly(_Struct):
    """Kits built at the bench from their parts (or, `disassembly`, taken apart)."""

    TYPE: ClassVar[str] = "assembly"

    kit: Code
    qty: PositiveQty
    location: Code  # where the kits are (put, or taken from)
    parts: list[AssemblyPart]
    disassembly: bool = False
    operator: Code | None = None


# --- hub messages ------------------------------------------------------------------------
class ReturnableLine(_Struct):
    sku: Code
    qty: NonNegativeQty  # still returnable: shipped minus already returned
    shipped: NonNegativeQty
    lots: dict[str, NonNegativeQty] = {}  # lot -> units shipped of it
    serials: list[Lot] = []  # serials shipped and not yet returned
    location: Code | None = None  # where resellable units go back to: where they were picked


class Returnable(_Struct):
    """Retained on returnable/{id}: what may come back against a shipped order or an RMA.
    Emptied when nothing more may come back."""

    id: Code
    order: Code
    lines: list[ReturnableLine]
    rma: Code | None = None
    customer: Text | None = None


class AppliedReturnLine(_Struct):
    sku: Code
    qty: PositiveQty
    condition: Condition
    reason: ReasonCode
    location: Code
    value: Money  # at the FIFO cost the units left with; for scrap, the value written off
    lot: Lot | None = None
    serials: list[Lot] = []


class AppliedReturn(_Struct):
    """Published on returns for the systems that refund: one return, as booked."""

    event_id: Seq
    order: Code
    station: Code
    hub_ts: Timestamp
    lines: list[AppliedReturnLine]
    rma: Code | None = None


EVENT_TYPES: dict[str, type[msgspec.Struct]] = {cls.TYPE: cls for cls in (Return, Assembly)}
MOVEMENT_TYPES = frozenset({"return", "assembly", "disassembly"})
