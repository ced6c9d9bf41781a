"""Which lots and owners an outbound movement takes when the station did not say.

A shipment line, a move or a negative adjustment names a sku and a location, and maybe a
lot, but never an owner. The ledger spreads it over the stock that is there, first
expired first out, our own stock before consignment stock of the same lot; whatever the
location does not hold goes to the default line (the named lot, or '', of the product's
owner), which then falls below zero: recorded and alerted, never refused.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Take:
    lot: str
    owner: str
    qty: int


def allocate(
    stock: list[tuple[str, str, int, str | None]], qty: int, default_lot: str, default_owner: str
) -> list[Take]:
    """`stock`: (lot, owner, qty, expiry) in FEFO order (as `store.stock_at` returns it)."""
    takes: list[Take] = []
    remaining = qty
    for lot, owner, available, _expiry in stock:
        if remaining <= 0:
            break
        if available <= 0:
            continue
        take = min(available, remaining)
        takes.append(Take(lot, owner, take))
        remaining -= take
    if remaining > 0:
        takes.append(Take(default_lot, default_owner, remaining))
    return _merge(takes)


def _merge(takes: list[Take]) -> list[Take]:
    merged: dict[tuple[str, str], int] = {}
    for take in takes:
        merged[(take.lot, take.owner)] = merged.get((take.lot, take.owner), 0) + take.qty
    return [Take(lot, owner, qty) for (lot, owner), qty in merged.items()]
