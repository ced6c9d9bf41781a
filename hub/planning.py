"""Replenishment planning: demand statistics, reorder points, suggestions, ABC classes.

Everything here reads the per-day aggregates (daily_sku) and the current balances, never
the movement ledger. Formulas are in docs/inventory.md.
"""

import math
import sqlite3
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Annotated

import msgspec
from msgspec import Meta

from hub import store
from hub.settings import Settings
from hub.settings import load as load_settings
from protocol.types import Code, Text


class Uplift(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A contingency plan: expected demand x `factor` from `start` to `end` (inclusive)."""

    start: date
    end: date
    factor: Annotated[float, Meta(gt=0, le=100)]
    sku: Code | None = None  # None: every product
    note: Text = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("`end` is before `start`")


def add_uplift(conn: sqlite3.Connection, plan: Uplift) -> int:
    if plan.sku and not store.product_exists(conn, plan.sku):
        raise ValueError(f"unknown sku {plan.sku}")
    return store.uplift_add(conn, plan.sku, plan.start.isoformat(), plan.end.isoformat(),
                            plan.factor, plan.note)  # fmt: skip


@dataclass(frozen=True)
class Demand:
    mean: float  # units per day over the window (days without demand count as 0)
    sd: float  # population standard deviation of the daily demand
    days: int


@dataclass(frozen=True)
class LeadTime:
    days: int
    source: str  # measured, promised, supplier, default
    supplier: str | None


@dataclass(frozen=True)
class Plan:
    sku: str
    supplier: str | None
    on_hand: int
    committed: int
    on_order: int
    position: int  # on hand + on order - committed
    mean_daily_demand: float
    demand_sd: float
    lead_time_days: int
    lead_time_source: str
    demand_over_lead_time: float
    safety_stock: int
    reorder_point: int
    par_level: int | None
    due: bool  # position <= reorder point: order now
    order_qty: int
    order_by: str | None  # the last day to order so stock arrives at the reorder point
    unit_cost: int | None

    def as_dict(self) -> dict:
        return asdict(self)


def demand(conn: sqlite3.Connection, sku: str, today: date, window: int) -> Demand:
    since = today - timedelta(days=window - 1)
    by_day = store.demand_days(conn, sku, since.isoformat(), today.isoformat())
    values = [by_day.get((since + timedelta(days=i)).isoformat(), 0) for i in range(window)]
    mean = sum(values) / window
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / window)
    return Demand(mean, sd, window)


def lead_time(conn: sqlite3.Connection, sku: str, settings: Settings) -> LeadTime:
    """The preferred supplier's measured lead time, else the promised one, else the default."""
    suppliers = store.product_suppliers(conn, sku)
    if not suppliers:
        return LeadTime(settings.default_lead_time_days, "default", None)
    supplier, promised, _cost = suppliers[0]
    done = store.supplier_lead_times(conn, supplier)
    if done:
        days = [(date.fromisoformat(c) - date.fromisoformat(o)).days for o, _e, c in done]
        return LeadTime(max(1, math.ceil(sum(days) / len(days))), "measured", supplier)
    return LeadTime(max(1, promised), "promised", supplier)


def uplift(plans: list[tuple], day: date) -> float:
    """The demand factor on `day`: the largest plan covering it, else 1."""
    iso = day.isoformat()
    factors = [factor for _id, _sku, start, end, factor, _note in plans if start <= iso <= end]
    return max(factors, default=1.0)


def demand_over(conn: sqlite3.Connection, sku: str, mean: float, start: date, days: int) -> float:
    """Expected demand over `days` from `start`: the mean, raised on contingency days."""
    plans = store.uplifts(conn, sku)
    return sum(mean * uplift(plans, start + timedelta(days=i)) for i in range(days))


def plan(conn: sqlite3.Connection, sku: str, today: date, settings: Settings) -> Plan | None:
    policy = store.product_policy(conn, sku)
    if policy is None:
        return None
    d = demand(conn, sku, today, settings.demand_window_days)
    lt = lead_time(conn, sku, settings)
    over_lt = demand_over(conn, sku, d.mean, today, lt.days)
    safety = policy.safety_stock
    if safety is None:
        safety = math.ceil(settings.service_level_z * d.sd * math.sqrt(lt.days))
    point = policy.reorder_point
    if point is None:
        point = math.ceil(over_lt + safety)
    on_hand, committed, on_order = (
        store.on_hand(conn, sku), store.committed(conn, sku), store.on_order(conn, sku)
    )
    position = on_hand + on_order - committed
    due = position <= point and (point > 0 or policy.par_level is not None)
    target = policy.par_level if policy.par_level and policy.par_level > point else (
        point + max(1, math.ceil(over_lt))
    )
    return Plan(
        sku=sku, supplier=lt.supplier, on_hand=on_hand, committed=committed,
        on_order=on_order, position=position, mean_daily_demand=round(d.mean, 4),
        demand_sd=round(d.sd, 4), lead_time_days=lt.days, lead_time_source=lt.source,
        demand_over_lead_time=round(over_lt, 2), safety_stock=safety, reorder_point=point,
        par_level=policy.par_level, due=due, order_qty=max(0, target - position) if due else 0,
        order_by=_order_by(position, point, d.mean, today, due), unit_cost=policy.unit_cost,
    )  # fmt: skip


def _order_by(position: int, point: int, mean: float, today: date, due: bool) -> str | None:
    """Just in time: the day the position reaches the reorder point at the mean demand."""
    if due:
        return today.isoformat()
    if mean <= 0:
        return None
    return (today + timedelta(days=math.floor((position - point) / mean))).isoformat()


def current_reorder_point(conn: sqlite3.Connection, sku: str, today: date) -> int | None:
    """The reorder point for low-stock alerts; None when the product has no basis for one."""
    policy = store.product_policy(conn, sku)
    if policy is None:
        return None
    if policy.reorder_point is not None:
        return policy.reorder_point
    settings = load_settings(conn)
    d = demand(conn, sku, today, settings.demand_window_days)
    if d.mean <= 0:
        return None
    return plan(conn, sku, today, settings).reorder_point


def low_stock(
    conn: sqlite3.Connection, today: date, after: str, limit: int
) -> list[dict]:
    """Products whose available stock was at or below their reorder point at their last
    stock change (the state of their low-stock alert, `alerts.check_low_stock`), by sku
    after `after`: sku, name, on_hand, available, reorder_point."""
    rows = []
    for sku, name, on_hand in store.low_stock_page(conn, after, limit):
        available = on_hand - store.committed(conn, sku)
        rows.append({"sku": sku, "name": name, "on_hand": on_hand, "available": available,
                     "reorder_point": current_reorder_point(conn, sku, today)})  # fmt: skip
    return rows


def reorder_page(
    conn: sqlite3.Connection, today: date, settings: Settings, after: str, limit: int,
    due_only: bool,
) -> tuple[list[Plan], str | None]:  # fmt: skip
    """Plans by sku after `after`; returns them and the sku to continue after (or None)."""
    found: list[Plan] = []
    cursor = after
    while len(found) < limit:
        skus = store.product_skus_after(conn, cursor, 500)
        if not skus:
            return found, None
        for sku in skus:
            cursor = sku
            row = plan(conn, sku, today, settings)
            if row and (row.due or not due_only):
                found.append(row)
                if len(found) == limit:
                    break
    return found, cursor


# --- ABC --------------------------------------------------------------------------------
def classify(values: list[tuple[str, int]], a_share: float, b_share: float) -> list[tuple]:
    """(sku, class, value, cumulative share) from (sku, value) sorted by value, largest first.

    A product is A while the share *before* it is below `a_share`, B below `b_share`, else C;
    products with no consumption are C.
    """
    total = sum(v for _s, v in values)
    rows = []
    running = 0
    for sku, value in values:
        before = running / total if total else 1.0
        running += value
        cls = "C" if value <= 0 else "A" if before < a_share else "B" if before < b_share else "C"
        rows.append((sku, cls, value, running / total if total else 0.0))
    return rows


def refresh_abc(conn: sqlite3.Connection, today: date, now: str) -> int:
    """Recompute every product's class from the last 365 days of COGS (inside a transaction)."""
    settings = load_settings(conn)
    since = (today - timedelta(days=364)).isoformat()
    rows = classify(store.consumption_values(conn, since), settings.abc_a_share,
                    settings.abc_b_share)  # fmt: skip
    store.abc_replace(conn, rows, now)
    return len(rows)
