"""Contingency plans (demand uplifts) as the supervisors manage them: each with its effect on
reorder points today, and ending one early.

A plan multiplies the expected demand of the days it covers (hub.planning): a product's
demand over its lead time, hence its computed reorder point, rises while a plan covers
part of the lead time ahead. A product with an explicit reorder point is not changed.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from hub import planning, store
from hub.settings import Settings
from hub.store.connection import Connection

EFFECT_SKUS = 10  # a plan for every product shows its effect on this many products


@dataclass(frozen=True)
class Effect:
    sku: str
    without: int  # the reorder point without this plan
    with_plan: int  # with it (and every other plan)


@dataclass(frozen=True)
class PlanView:
    id: int
    sku: str | None
    start: str
    end: str
    factor: float
    note: str
    state: str  # ahead, running, over
    effects: list[Effect]


def state(start: str, end: str, today: date) -> str:
    if today.isoformat() < start:
        return "ahead"
    return "over" if end < today.isoformat() else "running"


def listing(conn: Connection, today: date, settings: Settings) -> list[PlanView]:
    views = []
    for plan_id, sku, start, end, factor, note in store.uplifts(conn):
        skus = [sku] if sku else _demanded(conn, today, settings)
        effects = [e for e in (effect(conn, s, plan_id, today, settings) for s in skus) if e]
        views.append(PlanView(plan_id, sku, start, end, factor, note,
                              state(start, end, today), effects))  # fmt: skip
    return views


def effect(
    conn: Connection, sku: str, plan_id: int, today: date, settings: Settings
) -> Effect | None:
    """`sku`'s reorder point today without plan `plan_id` and with it."""
    plans = store.uplifts(conn, sku)
    without = [p for p in plans if p[0] != plan_id]
    before = planning.reorder_point_under(conn, sku, today, settings, without)
    if before is None:
        return None
    return Effect(sku, before, planning.reorder_point_under(conn, sku, today, settings, plans))


def _demanded(conn: Connection, today: date, settings: Settings) -> list[str]:
    """The first products (by sku) with demand in the window: a plan for every product
    shows its effect on them."""
    since = (today - timedelta(days=settings.demand_window_days - 1)).isoformat()
    sums = store.demand_sums(conn, since, today.isoformat())
    return sorted(sku for sku, (total, _squares) in sums.items() if total > 0)[:EFFECT_SKUS]


class PlanError(ValueError):
    """A plan that does not exist or cannot be ended."""


def end(conn: Connection, plan_id: int, today: date) -> str:
    """End a plan today: one still ahead is removed, a running one ends yesterday.
    Returns what was done (`removed` or `ended`)."""
    found = store.uplift_get(conn, plan_id)
    if found is None:
        raise PlanError(f"no contingency plan {plan_id}")
    _id, _sku, start, end_day, _factor, _note = found
    current = state(start, end_day, today)
    if current == "over":
        raise PlanError(f"contingency plan {plan_id} is already over (ended {end_day})")
    if start >= today.isoformat():
        store.uplift_delete(conn, plan_id)
        return "removed"
    store.uplift_set_end(conn, plan_id, (today - timedelta(days=1)).isoformat())
    return "ended"
