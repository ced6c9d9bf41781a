"""The limits of every number and identifier the hub accepts, in one place.

Stations and the hub share them: the msgspec types in `protocol.types` carry them, so the
MQTT decoder, the JSON API, the CSV imports and the web forms refuse the same values with
the same reason. docs/reliability.md lists them ("Limits") and why they are what they are.

The numbers are chosen so that the ledger's arithmetic stays inside SQLite's 64-bit
integers: money is kept in micros (millionths), so one line's value is at most
QTY_MAX x MONEY_MAX x 10**6 = 10**6 x 10**5 x 10**6 = 10**17, 92 times below 2**63.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Units on one line of an event, order or purchase order (and product thresholds).
QTY_MAX = 1_000_000
# On hand of one SKU and the movements that follow it (a count's variance, a reversal) are
# sums of many lines, not inputs: the messages that carry them allow any integer other
# systems' JSON parsers read exactly.
BALANCE_MAX = 2**53 - 1
# Sequence numbers and the hub's row ids (movements, counts, uplifts): SQLite's INTEGER.
SEQ_MAX = 2**63 - 1
ID_MAX = SEQ_MAX
# Days a report or a plan may name (the hub's date arithmetic runs past them either way).
FIRST_YEAR, LAST_YEAR = 1970, 2099
DAY_PATTERN = r"^(19[7-9][0-9]|20[0-9][0-9])-"  # the year part of an ISO date
# Identifiers that can be MQTT topic levels.
CODE_MAX_LEN = 64
STATION_MAX_LEN = 64
LOT_MAX_LEN = 40
TEXT_MAX_LEN = 500


@dataclass(frozen=True)
class DecimalLimit:
    """A non-negative decimal with at most `digits` before the point and `places` after."""

    what: str
    digits: int
    places: int
    hundred: bool = False  # a percentage: at most 100 (the digits allow 999)

    @property
    def most(self) -> Decimal:
        if self.hundred:
            return Decimal(100)
        return Decimal(10) ** self.digits - Decimal(10) ** -self.places

    @property
    def pattern(self) -> str:
        """The same limit as a regular expression, for the JSON Schema of a decimal string."""
        if self.hundred:
            return rf"^(100(\.0{{1,{self.places}}})?|[0-9]{{1,2}}(\.[0-9]{{1,{self.places}}})?)$"
        return rf"^[0-9]{{1,{self.digits}}}(\.[0-9]{{1,{self.places}}})?$"

    def rule(self) -> str:
        return (f"a {self.what} from 0 to {self.most:f} "
                f"(at most {self.digits} digits before the point, {self.places} after)")  # fmt: skip

    def problem(self, value: Decimal) -> str | None:
        """Why `value` is out of this limit, or None."""
        try:
            ok = value.is_finite() and 0 <= value <= self.most
            ok = ok and value == value.quantize(Decimal(10) ** -self.places)
        except InvalidOperation:  # quantize of a value with too many digits
            ok = False
        return None if ok else f"must be {self.rule()}, got {value}"


# Unit costs and prices, in the site's currency: exact to the micro the ledger stores.
MONEY = DecimalLimit("money amount", digits=5, places=6)
# A share in percent (a consignment owner's share of the sale price), to the hundredth.
PERCENT = DecimalLimit("percentage", digits=3, places=2, hundred=True)
# A product's unit weight and an order's packaging, in grams: up to a tonne, to the mg.
WEIGHT = DecimalLimit("weight in grams", digits=6, places=3)
# What a station weighed or expected for a whole parcel: scales in oz or lb give up to 9
# decimals once in grams, and the expected weight sums unit weights x quantities.
PARCEL_WEIGHT = DecimalLimit("parcel weight in grams", digits=12, places=9)


def check(limit: DecimalLimit, **values: Decimal | None) -> None:
    """Raise ValueError naming the first field out of `limit` (msgspec reports it as the
    field's validation error, with its path)."""
    for name, value in values.items():
        problem = None if value is None else limit.problem(value)
        if problem:
            raise ValueError(f"`{name}` {problem}")
