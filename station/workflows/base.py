"""The types every workflow shares."""

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import msgspec

from protocol.messages import Order, Product, PurchaseOrder


@dataclass(frozen=True)
class Verdict:
    """The judgement of one input, shown at once on the kiosk and by buzzer and LED."""

    name: str  # "ok", or the error's name: not_in_order, too_many, unknown_barcode, ...
    message: str  # in the packer's words, shown large on the kiosk
    pattern: str = "ok"  # feedback pattern: ok, error, complete, attention

    @property
    def ok(self) -> bool:
        return self.name == "ok"


@dataclass(frozen=True)
class Label:
    """A label to print: which kind, and the fields its template needs."""

    kind: str  # shipping, putaway, bin
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    state: object
    events: tuple[msgspec.Struct, ...] = ()
    verdict: Verdict | None = None
    labels: tuple[Label, ...] = ()


class Lookups(Protocol):
    """Read-only view of what the station has cached from the hub."""

    def product(self, sku: str) -> Product | None: ...

    def product_by_gtin(self, gtin: str) -> tuple[Product, int] | None:
        """The product a GTIN stands for, and how many units (a case GTIN stands for N)."""
        ...

    def order(self, order: str) -> Order | None: ...

    def purchase_order(self, po: str) -> PurchaseOrder | None: ...

    def today(self) -> date: ...
