"""The types every workflow shares."""

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import msgspec

from protocol.labels import RETURN_REASONS
from protocol.messages import CountTask, Order, Product, PurchaseOrder
from protocol.returns import Returnable
from station.workflows.verdicts import next_step as _next_step


@dataclass(frozen=True)
class Verdict:
    """The judgement of one input, shown at once on the kiosk and by buzzer and LED."""

    name: str  # "ok", or the error's name: not_in_order, too_many, unknown_barcode, ...
    message: str  # in the packer's words, shown large on the kiosk
    pattern: str = "ok"  # feedback pattern: ok, error, complete, attention
    next_step: str | None = None  # what to do now, in a few words (every kind but ok has one)

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

    def returnable(self, id_: str) -> Returnable | None:
        """What may come back against a shipped order or an RMA number."""
        ...

    def count_tasks(self) -> list[CountTask]:
        """Open count tasks the hub sent this station."""
        ...

    def today(self) -> date: ...


@dataclass(frozen=True, kw_only=True)
class WorkflowSettings:
    """The tolerances and places the workflows need (from the station config)."""

    bench_location: str = "PACK"  # where packed stock is taken from
    dock_location: str = "DOCK"  # where receipts go unless a put-away location is scanned
    weight_tolerance_g: float = 50.0
    weight_tolerance_pct: float = 5.0
    default_packaging_g: float = 0.0
    verify_weight: bool = True
    over_receipt_tolerance_pct: float = 0.0
    quarantine_location: str = "QUARANTINE"  # where damaged returns go
    returns_location: str | None = None  # a returns bin; None: back where it was picked
    return_reasons: tuple[str, ...] = RETURN_REASONS


@dataclass(frozen=True)
class Context:
    """What a workflow may read besides its own state: the cache, who scans, the settings."""

    lookups: Lookups
    operator: str | None
    settings: WorkflowSettings


def verdict(
    name: str, message: str, pattern: str | None = None, then: str | None = None
) -> Verdict:
    """A verdict whose feedback pattern follows from its name unless given, and whose next
    step is `then` or, for any kind but ok, the one `verdicts.NEXT_STEPS` gives."""
    pattern = pattern or ("ok" if name == "ok" else "error")
    return Verdict(name, message, pattern, _next_step(name, then))


def plural(count: int, word: str) -> str:
    """"1 item", "2 items"."""
    return f"{count} {word if count == 1 else word + 's'}"
