"""Replenishment planning: demand statistics, reorder points, suggestions, ABC classes.

Everything here reads the per-day aggregates (daily_sku) and the current balances, never
the movement ledger. Formulas are in docs/inventory.md.
"""

import json
import math
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Annotated

import msgspec
from msgspec import Meta

from hub import store
from hub.settings import Settings
from hub.settings import load as load_settings
from hub.store.connection import Connection
from protocol.types import Code, Text


class Uplift(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A contingency plan: expected demand x `factor` from `start` to `end` (inclusive)."""

    start: date
    end: date
    factor: Annotated[float, Meta(gt=0, le=100)]
    sku: Code | None = None  # None: every product
    note: Text = ""


def add_uplift(conn: Connection, plan: Uplift) -> int:
    if plan.end < plan.start:
        raise ValueError("`end` is before `start`")
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
    position: int  # on hand + on order - committed - quarantined
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
    # On hand in held (quarantine) locations: owned, not available, so out of the position.
    # Last and defaulted: plans stored before it decode with none.
    quarantined: int = 0

    def as_dict(self) -> dict:
        # Every field is a plain value: dataclasses.asdict would deep-copy each one (about
        # 20 us a plan, 2 ms of a reorder page of 100).
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def demand(conn: Connection, sku: str, today: date, window: int) -> Demand:
    since = today - timedelta(days=window - 1)
    by_day = store.demand_days(conn, sku, since.isoformat(), today.isoformat())
    return _demand(sum(by_day.values()), sum(v * v for v in by_day.values()), window)


def _demand(total: int, squares: int, window: int) -> Demand:
    """From the window's sums (days without demand add nothing to either): one formula for a
    product planned alone and for every product at once, so both give the same figures."""
    mean = total / window
    variance = max(0, window * squares - total * total) / (window * window)
    return Demand(mean, math.sqrt(variance), window)


def lead_time(conn: Connection, sku: str, settings: Settings) -> LeadTime:
    """The preferred supplier's measured lead time, else the promised one, else the default."""
    suppliers = store.product_suppliers(conn, sku)
    if not suppliers:
        return _lead_time(None, None, settings)
    supplier, promised, _cost = suppliers[0]
    return _lead_time((supplier, promised), measured_lead_time(conn, supplier), settings)


def measured_lead_time(conn: Connection, supplier: str) -> int | None:
    """The mean days from ordered to completed of the supplier's last POs, rounded up."""
    done = store.supplier_lead_times(conn, supplier)
    if not done:
        return None
    days = [(date.fromisoformat(c) - date.fromisoformat(o)).days for o, _e, c in done]
    return max(1, math.ceil(sum(days) / len(days)))


def _lead_time(
    preferred: tuple[str, int] | None, measured: int | None, settings: Settings
) -> LeadTime:
    if preferred is None:
        return LeadTime(settings.default_lead_time_days, "default", None)
    supplier, promised = preferred
    if measured is not None:
        return LeadTime(measured, "measured", supplier)
    return LeadTime(max(1, promised), "promised", supplier)


def uplift(plans: list[tuple], day: date) -> float:
    """The demand factor on `day`: the largest plan covering it, else 1."""
    iso = day.isoformat()
    factors = [factor for _id, _sku, start, end, factor, _note in plans if start <= iso <= end]
    return max(factors, default=1.0)


def demand_over(conn: Connection, sku: str, mean: float, start: date, days: int) -> float:
    """Expected demand over `days` from `start`: the mean, raised on contingency days."""
    return _demand_over(store.uplifts(conn, sku), mean, start, days)


def _demand_over(plans: list[tuple], mean: float, start: date, days: int) -> float:
    if not plans:  # the usual case, and a day-by-day loop per product at every refresh
        return mean * days
    return sum(mean * uplift(plans, start + timedelta(days=i)) for i in range(days))


@dataclass(frozen=True)
class Inputs:
    """What a product's plan is made of, gathered one product or every product at a time."""

    policy: store.ProductPolicy
    demand: Demand
    lead_time: LeadTime
    over_lead_time: float
    on_hand: int
    committed: int
    on_order: int
    quarantined: int


def plan(conn: Connection, sku: str, today: date, settings: Settings) -> Plan | None:
    policy = store.product_policy(conn, sku)
    if policy is None:
        return None
    d = demand(conn, sku, today, settings.demand_window_days)
    lt = lead_time(conn, sku, settings)
    inputs = Inputs(
        policy, d, lt, demand_over(conn, sku, d.mean, today, lt.days), *stock_of(conn, sku),
    )  # fmt: skip
    return _plan(inputs, today, settings)[0]


def reorder_point_under(
    conn: Connection, sku: str, today: date, settings: Settings, plans: list[tuple]
) -> int | None:
    """`sku`'s reorder point today if `plans` (store.uplifts rows) were its contingency
    plans: what a plan adds shows against the same list without it."""
    policy = store.product_policy(conn, sku)
    if policy is None:
        return None
    d = demand(conn, sku, today, settings.demand_window_days)
    lt = lead_time(conn, sku, settings)
    inputs = Inputs(policy, d, lt, _demand_over(plans, d.mean, today, lt.days), 0, 0, 0, 0)
    return _plan(inputs, today, settings)[0].reorder_point


def _plan(i: Inputs, today: date, settings: Settings) -> tuple[Plan, int]:
    """The plan and its target (what an order fills up to)."""
    policy, d, lt, over_lt = i.policy, i.demand, i.lead_time, i.over_lead_time
    safety = policy.safety_stock
    if safety is None:
        safety = math.ceil(settings.service_level_z * d.sd * math.sqrt(lt.days))
    point = policy.reorder_point
    if point is None:
        point = math.ceil(over_lt + safety)
    target = (
        policy.par_level
        if policy.par_level and policy.par_level > point
        else (point + max(1, math.ceil(over_lt)))
    )
    stock = _at_position(point, policy.par_level, target, d.mean,
                         (i.on_hand, i.committed, i.on_order, i.quarantined), today)  # fmt: skip
    plan_ = Plan(
        sku=policy.sku, supplier=lt.supplier, mean_daily_demand=round(d.mean, 4),
        demand_sd=round(d.sd, 4), lead_time_days=lt.days, lead_time_source=lt.source,
        demand_over_lead_time=round(over_lt, 2), safety_stock=safety, reorder_point=point,
        par_level=policy.par_level, unit_cost=policy.unit_cost, **stock,
    )  # fmt: skip
    return plan_, target


def stock_of(conn: Connection, sku: str) -> tuple[int, int, int, int]:
    """(on hand, committed, on order, quarantined): what a plan's position is made of."""
    return (store.on_hand(conn, sku), store.committed(conn, sku), store.on_order(conn, sku),
            store.quarantined(conn, sku))  # fmt: skip


def positioned(
    base: Plan, target: int, mean: float, stock: tuple[int, int, int, int], today: date
) -> Plan:
    """`base` at the stock position (on hand, committed, on order, quarantined): due, how
    much, by when.
    The stored plans are re-read this way, so their lines follow the stock between refreshes."""
    at = _at_position(base.reorder_point, base.par_level, target, mean, stock, today)
    return replace(base, **at)


def _at_position(
    point: int, par: int | None, target: int, mean: float, stock: tuple[int, int, int, int],
    today: date,
) -> dict:  # fmt: skip
    on_hand, committed, on_order, quarantined = stock
    # Quarantined units cannot be sold: they cover no demand until released.
    position = on_hand + on_order - committed - quarantined
    due = position <= point and (point > 0 or par is not None)
    return {"on_hand": on_hand, "committed": committed, "on_order": on_order,
            "quarantined": quarantined,
            "position": position, "due": due, "order_qty": max(0, target - position) if due else 0,
            "order_by": _order_by(position, point, mean, today, due)}  # fmt: skip


def _order_by(position: int, point: int, mean: float, today: date, due: bool) -> str | None:
    """Just in time: the day the position reaches the reorder point at the mean demand; none
    when it never does at that demand, or not before the calendar ends (a million units
    of a product sold once a year: checked on every change of its stock, so it must not
    raise)."""
    if due:
        return today.isoformat()
    if mean <= 0:
        return None
    days = (position - point) / mean
    if days > (date.max - today).days:  # inf too
        return None
    return (today + timedelta(days=math.floor(days))).isoformat()


class Policies:
    """The stock policies and stored reorder plans of several products, each read in one
    statement for all of them: what `current_reorder_point` and `reposition_stored` ask
    of every SKU whose stock a change publishes (hub.stock.Read), or a page lists."""

    def __init__(self, conn: Connection, skus: list[str]) -> None:
        self.products = store.product_policies_of(conn, skus)
        self.plans = store.reorder_plans_of(conn, skus)


def current_reorder_point(
    conn: Connection, sku: str, today: date, policies: Policies
) -> int | None:
    """The reorder point for low-stock alerts; None when the product has no basis for one."""
    policy = policies.products.get(sku)
    if policy is None:
        return None
    if policy.reorder_point is not None:
        return policy.reorder_point
    settings = load_settings(conn)
    stored = _stored_plan(conn, policies.plans.get(sku), today, settings)
    if stored is not None:  # today's plan: planning it again costs ms on every stock change
        plan_, _target, mean = stored
        return plan_.reorder_point if mean > 0 else None
    d = demand(conn, sku, today, settings.demand_window_days)
    if d.mean <= 0:
        return None
    return plan(conn, sku, today, settings).reorder_point


def low_stock(conn: Connection, today: date, after: str, limit: int) -> list[dict]:
    """Products whose available stock was at or below their reorder point at their last
    stock change (the state of their low-stock alert, `alerts.check_low_stock`), by sku
    after `after`: sku, name, on_hand, quarantined, available (quarantine excluded),
    reorder_point."""
    rows = []
    page = store.low_stock_page(conn, after, limit)
    skus = [sku for sku, *_ in page]
    policies, committed = Policies(conn, skus), store.committed_of(conn, skus)
    for sku, name, on_hand, held in page:
        available = on_hand - committed.get(sku, 0) - held
        rows.append({"sku": sku, "name": name, "on_hand": on_hand, "quarantined": held,
                     "available": available,
                     "reorder_point": current_reorder_point(conn, sku, today, policies)})  # fmt: skip
    return rows


def reorder_page(
    conn: Connection, today: date, settings: Settings, after: str, limit: int,
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


# --- the stored reorder report: every product at once ------------------------------------
def reorder_params(settings: Settings) -> str:
    """The settings stored plans were made with: they answer only while these hold."""
    return json.dumps({"demand_window_days": settings.demand_window_days,
                       "service_level_z": settings.service_level_z,
                       "default_lead_time_days": settings.default_lead_time_days},
                      sort_keys=True)  # fmt: skip


_PLAN_JSON = msgspec.json.Encoder()  # encodes the dataclass itself: 100,000 a refresh


def due_plans(conn: Connection, today: date, settings: Settings) -> list[Plan]:
    """Every product's plan for `today` that is due, by sku: from the grouped reads of the
    stored report (`plan` per product took seconds at 100,000 products, inside a write)."""
    return sorted((p for p, _target, _mean in _every_plan(conn, today, settings) if p.due),
                  key=lambda p: p.sku)  # fmt: skip


def reorder_rows(conn: Connection, today: date, settings: Settings) -> list[tuple]:
    """Every product's plan for `today`, as the stored report keeps it: (sku, due, target,
    mean, plan JSON)."""
    return [(p.sku, int(p.due), target, mean, _PLAN_JSON.encode(p).decode())
            for p, target, mean in _every_plan(conn, today, settings)]  # fmt: skip


def refresh_reorder(conn: Connection, today: date, now: str) -> int:
    """Plan every product for `today` and store the plans (inside a transaction)."""
    settings = load_settings(conn)
    rows = reorder_rows(conn, today, settings)
    store.reorder_plans_replace(conn, rows)
    store.report_run_set(conn, "reorder", today.isoformat(), now, reorder_params(settings))
    return len(rows)


def _every_plan(
    conn: Connection, today: date, settings: Settings
) -> list[tuple[Plan, int, float]]:
    """(plan, target, mean) of every product from a handful of grouped reads: planning them
    one at a time costs a few ms each, minutes at 100,000 products."""
    window = settings.demand_window_days
    since = (today - timedelta(days=window - 1)).isoformat()
    sums = store.demand_sums(conn, since, today.isoformat())
    on_hand, committed = store.on_hand_by_sku(conn), store.committed_by_sku(conn)
    held = store.quarantined_by_sku(conn)
    on_order, preferred = store.on_order_by_sku(conn), store.preferred_suppliers(conn)
    uplifts = store.uplifts(conn)
    measured = {s: measured_lead_time(conn, s) for s in {s for s, _days in preferred.values()}}
    found = []
    for policy in list(store.product_policies(conn)):
        sku, pref = policy.sku, preferred.get(policy.sku)
        d = _demand(*sums.get(sku, (0, 0)), window)
        lt = _lead_time(pref, measured[pref[0]] if pref else None, settings)
        plans = [u for u in uplifts if u[1] is None or u[1] == sku]
        inputs = Inputs(policy, d, lt, _demand_over(plans, d.mean, today, lt.days),
                        on_hand.get(sku, 0), committed.get(sku, 0), on_order.get(sku, 0),
                        held.get(sku, 0))  # fmt: skip
        plan_, target = _plan(inputs, today, settings)
        found.append((plan_, target, d.mean))
    return found


def _stored_plan(
    conn: Connection, row: tuple[int, int, float, str] | None, today: date, settings: Settings
) -> tuple[Plan, int, float] | None:
    """(plan, target, mean) of a product's stored plan `row` (store.reorder_plan_get), if
    today's refresh stored it under these settings."""
    if row is None:
        return None
    run = store.report_run(conn, "reorder")
    if run is None or run[0] != today.isoformat() or run[2] != reorder_params(settings):
        return None
    _due, target, mean, stored = row
    return msgspec.json.decode(stored, type=Plan), target, mean


def reposition_stored(
    conn: Connection, sku: str, on_hand: int, committed: int, quarantined: int,
    today: date, policies: Policies,
) -> None:  # fmt: skip
    """Keep a stored plan's due flag at the stock position as it changes: a product that
    falls to its reorder point during the day is on the due page at once, not tomorrow."""
    row = policies.plans.get(sku)
    if row is None:
        return
    due, target, mean, stored = row
    stock = (on_hand, committed, store.on_order(conn, sku), quarantined)
    now_due = positioned(msgspec.json.decode(stored, type=Plan), target, mean, stock, today).due
    if now_due != bool(due):
        store.reorder_plan_set_due(conn, sku, now_due)


def stored_reorder_page(
    conn: Connection, today: date, after: str, limit: int, due_only: bool
) -> tuple[list[Plan], str | None]:
    """A page of the stored plans (by sku after `after`), each at its stock position now:
    a line ordered or received since the refresh shows it, and leaves a due-only page (which
    may then come out short; the returned sku still continues it)."""
    rows = store.reorder_plans_page(conn, after, limit, due_only)
    found = []
    for sku, target, mean, stored in rows:
        row = positioned(msgspec.json.decode(stored, type=Plan), target, mean,
                         stock_of(conn, sku), today)  # fmt: skip
        if row.due or not due_only:
            found.append(row)
    return found, rows[-1][0] if len(rows) == limit else None


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


def abc_since(today: date) -> str:
    """The first day of the year of consumption the ABC classes are made from."""
    return (today - timedelta(days=364)).isoformat()


def abc_rows(conn: Connection, today: date, settings: Settings) -> list[tuple[str, str, int, float]]:
    """Every product's class from the last 365 days of COGS (`classify`'s rows)."""
    return classify(store.consumption_values(conn, abc_since(today)), settings.abc_a_share,
                    settings.abc_b_share)  # fmt: skip


def refresh_abc(conn: Connection, today: date, now: str) -> int:
    """Recompute every product's class and store them (inside a transaction)."""
    rows = abc_rows(conn, today, load_settings(conn))
    store.abc_replace(conn, rows, now)
    return len(rows)
