"""The company's reorder suggestions on a central hub (docs/multi-site.md): per SKU and
site, what the site needs and, side by side, how much of it another site's surplus can
cover by a move and how much must be bought.

Each site's reorder point comes from its own movements, as a site hub makes its own
(docs/inventory.md) but with what the centre has: the daily demand is the site's shipments
over the centre's `demand_window_days` (days without any count as 0), the lead time is the
centre's `default_lead_time_days` (the sites' suppliers and their lead times stay at the
sites), safety stock = z x sd x sqrt(lead time), reorder point = demand over the lead
time + safety stock, target = reorder point + demand over the lead time. A site's position
is what it has available, as a site hub's own reorder counts it: its stock less what is
promised (the larger of what the orders the centre routed there still need and what its
open orders hold, `committed` of its stock messages: a routed order the site has taken is
in both; what transfers not yet shipped will take from it counts as the centre's routed
orders do) and less what sits in its held locations (quarantine, and what it sent in
transit; `quarantined` of its stock messages), plus what is on its way to it (`inbound`:
transfers to it ordered and not shipped, and shipped units its dock has not yet scanned
in; hub.central_transfers.inbound). A site at or below its reorder point needs up to its
target; a site above its target has the difference as surplus (no more than it has
available now: units still on their way are not moved on), moved to the sites that need
it, the largest surplus first. So a move made into a transfer is not suggested again:
the receiver has it inbound, the sender has it promised.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import msgspec

from hub import central_transfers, routing, store
from hub.settings import Settings
from hub.store.connection import Connection


@dataclass
class SitePlan:
    site: str
    sku: str
    on_hand: int
    committed: int  # promised: routed orders' needs or the site's own word, the larger
    quarantined: int  # in held locations: owned, not available
    inbound: int  # on its way to the site by transfer
    position: int  # on hand - committed - quarantined + inbound
    mean_daily_demand: float
    reorder_point: int
    target: int
    need: int = 0
    moves: list[dict] = field(default_factory=list)  # {"from": site, "qty": n}
    buy: int = 0

    @property
    def surplus(self) -> int:
        """Above its target, of what it has available now (not what is still coming)."""
        return max(0, min(self.position - self.target, self.position - self.inbound))


def suggestions(conn: Connection, sites: list[str], today: date,
                settings: Settings, lead_days: int | None = None) -> list[dict]:  # fmt: skip
    """Per SKU and site that needs stock: its figures, the moves that cover it, the rest to
    buy; in SKU then site order."""
    lead = lead_days or settings.default_lead_time_days
    window = settings.demand_window_days
    shipped: dict[tuple[str, str], list[int]] = defaultdict(list)
    since = today - timedelta(days=window - 1)
    for site, sku, day, units in store.site_daily_shipped(conn, since.isoformat()):
        if day <= today.isoformat():
            shipped[(site, sku)].append(units)
    on_hand = {(site, sku): qty for site, sku, qty in store.site_sku_on_hand(conn)}
    taken = _routed_needs(conn)
    for key, qty in central_transfers.promised(conn).items():
        taken[key] += qty  # a transfer's order the site has taken is in `committed` too
    coming = central_transfers.inbound(conn)
    told = {(site, sku): (committed, held)
            for site, sku, committed, held in store.site_not_available(conn)}  # fmt: skip
    by_sku: dict[str, list[SitePlan]] = defaultdict(list)
    for site, sku in sorted({*on_hand, *shipped, *coming}, key=lambda key: (key[1], key[0])):
        if site not in sites:
            continue
        committed, held = told.get((site, sku), (0, 0))
        stock = Stock(on_hand.get((site, sku), 0), max(committed, taken.get((site, sku), 0)),
                      held, coming.get((site, sku), 0))  # fmt: skip
        by_sku[sku].append(_plan(site, sku, stock, shipped.get((site, sku), []), window, lead,
                                 settings))  # fmt: skip
    rows = []
    for plans in by_sku.values():
        _cover(plans, sites)
        rows += [_row(p, lead) for p in plans if p.need > 0]
    return rows


def _routed_needs(conn: Connection) -> dict[tuple[str, str], int]:
    taken: dict[tuple[str, str], int] = defaultdict(int)
    for order in store.central_orders_in(conn, routing.TAKING_STOCK):
        for line in msgspec.json.decode(order.payload)["lines"]:
            if not line.get("dropship"):
                taken[(order.site, line["sku"])] += line["qty"]
    return taken


@dataclass(frozen=True)
class Stock:
    on_hand: int
    committed: int
    quarantined: int
    inbound: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.committed - self.quarantined


def _plan(site: str, sku: str, stock: Stock, days: list[int], window: int, lead: int,
          settings: Settings) -> SitePlan:  # fmt: skip
    mean = sum(days) / window
    sd = math.sqrt(sum((d - mean) ** 2 for d in days) / window
                   + (window - len(days)) * mean**2 / window)  # fmt: skip
    over_lead = mean * lead
    point = math.ceil(over_lead + settings.service_level_z * sd * math.sqrt(lead))
    target = point + max(1, math.ceil(over_lead))
    position = stock.available + stock.inbound
    plan = SitePlan(site, sku, stock.on_hand, stock.committed, stock.quarantined, stock.inbound,
                    position, round(mean, 4), point, target)  # fmt: skip
    if position <= point and mean > 0:
        plan.need = target - position
    return plan


def _cover(plans: list[SitePlan], sites: list[str]) -> None:
    """Moves from the sites with surplus to those that need, the largest surplus first;
    what no surplus covers is bought."""
    spare = {p.site: p.surplus for p in plans if p.surplus > 0}
    for plan in sorted((p for p in plans if p.need > 0), key=lambda p: sites.index(p.site)):
        left = plan.need
        for donor in sorted(spare, key=lambda s: (-spare[s], sites.index(s))):
            qty = min(left, spare[donor])
            if qty > 0:
                plan.moves.append({"from": donor, "qty": qty})
                spare[donor] -= qty
                left -= qty
        plan.buy = left


def _row(p: SitePlan, lead: int) -> dict:
    return {"sku": p.sku, "site": p.site, "on_hand": p.on_hand, "committed": p.committed,
            "quarantined": p.quarantined, "inbound": p.inbound, "position": p.position,
            "mean_daily_demand": p.mean_daily_demand, "lead_time_days": lead,
            "reorder_point": p.reorder_point, "target": p.target, "need": p.need,
            "move": p.moves, "buy": p.buy}  # fmt: skip
