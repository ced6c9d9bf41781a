"""Constrained scalar types shared by every payload."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from msgspec import Meta

# Site and station ids appear as topic levels and in ACL patterns: keep them plain.
StationId = Annotated[str, Meta(pattern=r"^[a-z0-9-]{1,64}$", description="[a-z0-9-], 1-64 chars")]
SiteId = StationId
# A journal incarnation: random, created with the station's journal.
Epoch = Annotated[str, Meta(pattern=r"^[a-z0-9-]{1,64}$")]
# SKUs, orders, purchase orders, locations: warehouse identifiers that may be topic levels.
Code = Annotated[
    str,
    Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="letters, digits, . _ -"),
]
Lot = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[\x21-\x7e]+$")]
Text = Annotated[str, Meta(max_length=500)]
PositiveQty = Annotated[int, Meta(gt=0, le=1_000_000_000)]
SignedQty = Annotated[int, Meta(ge=-1_000_000_000, le=1_000_000_000)]
NonNegativeQty = Annotated[int, Meta(ge=0, le=1_000_000_000)]
Seq = Annotated[int, Meta(ge=1, le=2**63 - 1)]
# msgspec cannot bound a Decimal: the structs that carry one check it in __post_init__.
Money = Annotated[Decimal, Meta(description="non-negative decimal")]
Grams = Annotated[Decimal, Meta(description="non-negative decimal, grams")]


def check_not_negative(**values: Decimal | None) -> None:
    for name, value in values.items():
        if value is not None and (not value.is_finite() or value < 0):
            raise ValueError(f"`{name}` must be a non-negative number, got {value}")


Timestamp = Annotated[datetime, Meta(tz=True, description="RFC 3339 with offset, UTC")]
Day = date
