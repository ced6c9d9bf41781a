"""Money as integer millionths ("micros") in the database: sums in SQL stay exact."""

from decimal import ROUND_HALF_EVEN, Decimal

MICROS = Decimal(1_000_000)


def to_micros(value: Decimal | int | str | None) -> int | None:
    if value is None:
        return None
    return int((Decimal(value) * MICROS).to_integral_value(ROUND_HALF_EVEN))


def from_micros(micros: int | None) -> Decimal | None:
    """Exact, with at least two decimals (so money reads as money)."""
    if micros is None:
        return None
    value = (Decimal(micros) / MICROS).normalize()
    return value.quantize(Decimal("0.01")) if value.as_tuple().exponent > -2 else value


def text(micros: int | None) -> str | None:
    value = from_micros(micros)
    return None if value is None else f"{value:f}"
