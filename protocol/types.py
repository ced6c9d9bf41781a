"""Constrained scalar types shared by every payload."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from msgspec import Meta

from protocol import limits

# Site and station ids appear as topic levels and in ACL patterns: keep them plain.
StationId = Annotated[
    str,
    Meta(pattern=rf"^[a-z0-9-]{{1,{limits.STATION_MAX_LEN}}}$",
         description=f"[a-z0-9-], 1-{limits.STATION_MAX_LEN} chars"),
]  # fmt: skip
SiteId = StationId
# A journal incarnation: random, created with the station's journal.
Epoch = Annotated[str, Meta(pattern=rf"^[a-z0-9-]{{1,{limits.STATION_MAX_LEN}}}$")]
# SKUs, orders, purchase orders, locations: warehouse identifiers that may be topic levels.
Code = Annotated[
    str,
    Meta(pattern=rf"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{limits.CODE_MAX_LEN - 1}}}$",
         description=f"letters, digits, . _ -; 1-{limits.CODE_MAX_LEN} chars"),
]  # fmt: skip
Lot = Annotated[str, Meta(min_length=1, max_length=limits.LOT_MAX_LEN, pattern=r"^[\x21-\x7e]+$")]
Text = Annotated[str, Meta(max_length=limits.TEXT_MAX_LEN)]
# Units on one line: an event, an order line, a purchase order line.
PositiveQty = Annotated[int, Meta(gt=0, le=limits.QTY_MAX)]
SignedQty = Annotated[int, Meta(ge=-limits.QTY_MAX, le=limits.QTY_MAX)]
NonNegativeQty = Annotated[int, Meta(ge=0, le=limits.QTY_MAX)]
# Sums of many lines (on hand, committed, received): not inputs, see protocol.limits.
Balance = Annotated[int, Meta(ge=-limits.BALANCE_MAX, le=limits.BALANCE_MAX)]
NonNegativeBalance = Annotated[int, Meta(ge=0, le=limits.BALANCE_MAX)]
Seq = Annotated[int, Meta(ge=1, le=limits.SEQ_MAX)]
SeqOrZero = Annotated[int, Meta(ge=0, le=limits.SEQ_MAX)]
# A row id of the hub's (a movement, a count, an uplift), as in a URL path.
RowId = Annotated[int, Meta(ge=1, le=limits.ID_MAX)]


def _decimal(limit: limits.DecimalLimit) -> Meta:
    # msgspec cannot bound a Decimal: the structs that carry one check it in __post_init__
    # (limits.check); the pattern tells JSON Schema readers the same limit.
    return Meta(description=limit.rule(), extra_json_schema={"pattern": limit.pattern})


Money = Annotated[Decimal, _decimal(limits.MONEY)]
Grams = Annotated[Decimal, _decimal(limits.WEIGHT)]
Percent = Annotated[Decimal, _decimal(limits.PERCENT)]
ParcelGrams = Annotated[Decimal, _decimal(limits.PARCEL_WEIGHT)]


Timestamp = Annotated[datetime, Meta(tz=True, description="RFC 3339 with offset, UTC")]
Day = date
