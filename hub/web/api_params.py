"""The query strings and paths the JSON API's operations share, as msgspec Structs: their
contracts (hub/web/contract.py) validate requests with them and document them."""

from datetime import date
from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta

from protocol import limits
from protocol.types import Code, RowId, StationId, Text

Limit = Annotated[int, Meta(ge=1, le=1000, description="rows per page")]
Offset = Annotated[int, Meta(ge=0, le=10**9, description="rows to skip")]
Key = Annotated[str, Meta(max_length=200, description="the last key of the previous page")]
Flag = Annotated[bool, Meta(description="true or 1 to enable")]
Day = Annotated[date, Meta(description=f"a day, {limits.FIRST_YEAR} to {limits.LAST_YEAR}",
                           extra_json_schema={"pattern": limits.DAY_PATTERN})]  # fmt: skip


def check_days(**days: date | None) -> None:
    """The range Day's pattern says, checked (msgspec cannot bound a date)."""
    for name, day in days.items():
        if day is not None and not limits.FIRST_YEAR <= day.year <= limits.LAST_YEAR:
            raise ValueError(f"`{name}` must be a day from {limits.FIRST_YEAR} to "
                             f"{limits.LAST_YEAR}, got {day}")  # fmt: skip


class _Query(msgspec.Struct, kw_only=True):
    """Unknown query parameters are ignored, as browsers and proxies add their own."""


class LimitQuery(_Query):
    limit: Limit = 100


class PageQuery(_Query):
    limit: Limit = 100
    offset: Offset = 0


class KeysetQuery(_Query):
    limit: Limit = 100
    after: Key = ""


class BackQuery(_Query):
    """Newest first: `before` (a movement id) pages back."""

    limit: Limit = 50
    before: RowId | None = None


class DryRunQuery(_Query):
    dry_run: Flag = False


OrderStatus = Literal["open", "packing", "packed", "shipped", "short", "cancelled"]
PoStatus = Literal["open", "receiving", "received", "closed", "cancelled"]
CountStatus = Literal["posted", "pending", "approved", "rejected"]
TaskStatus = Literal["open", "done"]


class OrderPageQuery(PageQuery):
    status: OrderStatus | None = None


class PoPageQuery(PageQuery):
    status: PoStatus | None = None


class CountPageQuery(PageQuery):
    status: CountStatus | None = None


class TaskQuery(_Query):
    status: TaskStatus | None = None


class ReportQuery(_Query):
    KEEP_EMPTY: ClassVar[tuple[str, ...]] = ("owner",)  # owner= is our own stock

    limit: Annotated[int, Meta(ge=1, le=10_000)] = 100
    offset: Offset = 0
    after: Key = ""
    sku: Code | None = None
    location: Code | None = None
    owner: Annotated[str, Meta(pattern=r"^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] | None = None
    since: Day | None = None
    until: Day | None = None
    today: Day | None = None
    all: Flag = False
    kind: Code | None = None

    def __post_init__(self) -> None:
        check_days(since=self.since, until=self.until, today=self.today)


class SkuPath(msgspec.Struct):
    sku: Code


class OrderPath(msgspec.Struct):
    order_id: Code


class PoPath(msgspec.Struct):
    po: Code


class SupplierPath(msgspec.Struct):
    supplier: Code


class LocationPath(msgspec.Struct):
    location: Code


class RmaPath(msgspec.Struct):
    rma: Code


class RunPath(msgspec.Struct):
    run: Code


class MovementPath(msgspec.Struct):
    movement_id: RowId


class CountPath(msgspec.Struct):
    count_id: RowId


class UpliftPath(msgspec.Struct):
    uplift_id: RowId


class StationPath(msgspec.Struct):
    station: StationId


class By(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Who decided (default "api")."""

    by: Text = "api"


class Saved(msgspec.Struct):
    """What a create-or-replace saved: the records' keys."""

    saved: list[str]


class SavedIds(msgspec.Struct):
    """The new rows' ids."""

    saved: list[int]


class PeriodQuery(_Query):
    """`from` and `to`: days, inclusive (default: this month so far)."""

    since: Day | None = msgspec.field(default=None, name="from")
    until: Day | None = msgspec.field(default=None, name="to")

    def __post_init__(self) -> None:
        check_days(**{"from": self.since, "to": self.until})


class SettlementQuery(_Query):
    owner: Code | None = None
    until: Day | None = None

    def __post_init__(self) -> None:
        check_days(until=self.until)


class SettlementsQuery(LimitQuery):
    owner: Code | None = None


class SettlementIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An owner paid everything owed on days up to `until` (not in the future)."""

    owner: Code
    until: Day
    note: Annotated[str, Meta(max_length=500)] = ""

    def __post_init__(self) -> None:
        check_days(until=self.until)
