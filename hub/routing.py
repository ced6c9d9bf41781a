"""A central hub routes each order to a site (docs/multi-site.md): the site that can fill
the whole order from its stock, else the one that can fill the most lines; a tie goes to
the site listed first in the centre's [[sites]]. Among those, a site whose figures are fresh
(its link up, every movement it is known to have applied) comes before one whose figures
stopped at an outage: the centre routes by what it knows, and the reason says how old the
figures of a site with stale ones were. A supervisor may choose the site (the page and the
API show each site's figures' age), or move an order not yet picked to another site: the
centre withdraws it from the first (which cancels it while nobody has picked it) and sends
it on once that site confirms.

The stock a site has is its balances as its movements made them, less what the orders
the centre routed there and that have not shipped still need: the centre does not see the
site's own orders, so a site busy with those may be offered more than it can ship.
"""

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import msgspec

from hub import store
from hub.store.connection import Connection
from protocol.envelope import encode
from protocol.messages import Order, OrderLine, OrderState
from protocol.topics import Topics

# Routed orders that still take stock at their site.
TAKING_STOCK = ("routed", "open", "packing", "withdrawing")
# What may still go to another site: nobody has started picking it.
MOVABLE = ("routed", "open", "rejected")
# A site's statuses of one order only move forward (hub/orders.py: open, packing, packed,
# then one of the closed ones): one of a lower rank is older than the one the centre has.
SITE_ORDER = {"open": 1, "packing": 2, "packed": 3, "shipped": 4, "short": 4, "cancelled": 4}


class RoutingError(ValueError):
    """A request that names something the centre does not have (a site it does not follow)."""


class RoutingConflict(ValueError):
    """The order cannot be routed now (it is being picked, shipped, or being withdrawn)."""


@dataclass(frozen=True)
class Choice:
    site: str
    reason: str


@dataclass(frozen=True)
class Figures:
    """How far the centre's figures of a site can be trusted: `fresh` when its link is up
    and every movement it is known to have is applied; else `age_s`, the seconds since
    they stopped being so (None: the centre has never heard from the site)."""

    site: str
    link: str
    fresh: bool
    age_s: int | None

    def as_dict(self) -> dict:
        return {"site": self.site, "link": self.link, "fresh": self.fresh, "age_s": self.age_s}

    def note(self) -> str:
        """What a choice made on stale figures says."""
        age = "never heard from" if self.age_s is None else f"{_age(self.age_s)} old"
        why = "its link to the centre is down" if self.link == "down" else (
            "the centre has no word of its link" if self.link != "up"
            else "the centre is behind its movements")  # fmt: skip
        return f"by figures {age} ({why})"


def figures(conn: Connection, sites: list[str], now: str) -> dict[str, Figures]:
    """Each site's `Figures`, by the centre's clock `now`."""
    links = {link.site: link for link in store.site_links(conn)}
    found = {}
    for site in sites:
        link = links.get(site)
        if link is None:
            found[site] = Figures(site, "unknown", False, None)
            continue
        stale = [t for t in (link.link_changed if link.link != "up" else None,
                             link.behind_since) if t]  # fmt: skip
        fresh = link.link == "up" and link.known <= link.applied
        age = None if fresh or not stale else _seconds(min(stale), now)
        found[site] = Figures(site, link.link, fresh, 0 if fresh else age)
    return found


def _seconds(since: str, now: str) -> int:
    return max(0, int((datetime.fromisoformat(now) - datetime.fromisoformat(since))
                      .total_seconds()))  # fmt: skip


def _age(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


# A kit's parts: (component SKU, units per kit).
Bill = Sequence[tuple[str, int]]


def choose(order: Order, stock: Mapping[str, Mapping[str, int]], sites: list[str],
           fresh: Collection[str] | None = None,
           kits: Mapping[str, Bill] | None = None) -> Choice:  # fmt: skip
    """The site for `order`: it fills the whole order, else the most lines; a site in
    `fresh` (all, if None) before one whose figures are stale; ties by the order of
    `sites`. Dropship lines need no stock and count for no site. `stock`: each site's free
    units (`available`); `kits`: the bills of the order's kits (`kit_bills`)."""
    lines = [line for line in order.lines if not line.dropship]
    filled = {site: fills(lines, stock.get(site, {}), kits or {}) for site in sites}
    trusted = set(sites if fresh is None else fresh)
    best = max(sites, key=lambda site: (filled[site] == len(lines), site in trusted,
                                        filled[site], -sites.index(site)))  # fmt: skip
    if filled[best] == len(lines):
        return Choice(best, "it can fill the whole order")
    among = "site whose figures are fresh" if any(
        filled[site] > filled[best] for site in sites) else "site"  # fmt: skip
    return Choice(best, f"it can fill {filled[best]} of {len(lines)} lines, the most of any "
                        f"{among}")  # fmt: skip


def fills(lines: Sequence[OrderLine], free: Mapping[str, int], kits: Mapping[str, Bill]) -> int:
    """How many of `lines` a site with `free` units fills, each line taking what the lines
    before it left: its SKU's units, and for a kit its built kits first, then the parts for
    the rest (the bench packs a kit from its parts, as a site's own kit availability
    counts, hub/kits.py). Kits promised beyond those built (`free` below 0) take their
    parts first. The kits' lines come last, so a part's own line is never counted as
    filled from parts a kit line took; a line that cannot be filled whole takes nothing."""
    left = Counter(free)
    for kit, bill in kits.items():
        if left[kit] < 0:
            left.subtract({part: per * -left[kit] for part, per in bill})
            left[kit] = 0
    ordered = sorted(lines, key=lambda line: line.sku in kits)
    return sum(1 for line in ordered if _take(left, line.sku, line.qty, kits.get(line.sku, ())))


def _take(left: Counter[str], sku: str, qty: int, bill: Bill) -> bool:
    built = min(max(left[sku], 0), qty)
    parts = Counter({part: per * (qty - built) for part, per in bill})
    if (built < qty and not bill) or any(left[part] < need for part, need in parts.items()):
        return False
    left[sku] -= built
    left.subtract(parts)
    return True


def kit_bills(conn: Connection, order: Order) -> dict[str, Bill]:
    """The parts of each kit the order names (the centre's catalog has them)."""
    skus = sorted({line.sku for line in order.lines})
    return {sku: bill for sku in skus if (bill := store.kit_components(conn, sku))}


def available(conn: Connection, order: Order, kits: Mapping[str, Bill]) -> dict[str, Counter[str]]:
    """Per site, the stock of the order's SKUs and its `kits`' parts the centre sees, less
    what is promised: the larger of what other orders routed there and not yet shipped
    need and what the site says its open orders hold (`committed`: its own orders, which
    the centre does not see, and the routed ones it has taken). Not their sum: a routed
    order the site has taken is in both; the larger is the least that is surely promised.
    Less, too, what the site says is in its held locations (quarantine, what it sent in
    transit). A kit's figure is its built kits (below 0: promised beyond them), its parts'
    are their own: `fills` builds kits from them."""
    lines = {line.sku for line in order.lines}
    parts = {part for bill in kits.values() for part, _per in bill}
    return _free(conn, order, sorted(lines | parts))


def _free(conn: Connection, order: Order, skus: list[str]) -> dict[str, Counter[str]]:
    """Per site, on hand of `skus` less what is promised and held (see `available`)."""
    stock: dict[str, Counter[str]] = {}
    for site, sku, qty in store.site_on_hand(conn, skus):
        stock.setdefault(site, Counter())[sku] += qty
    routed: dict[str, Counter[str]] = {}
    for other in store.central_orders_in(conn, TAKING_STOCK):
        if other.order_id == order.order:
            continue
        for line in _decode(other.payload).lines:
            if line.sku in skus and not line.dropship:
                routed.setdefault(other.site, Counter())[line.sku] += line.qty
    told = {(site, sku): (committed, held)
            for site, sku, committed, held in store.site_committed(conn, skus)}  # fmt: skip
    for site in set(stock) | set(routed) | {site for site, _ in told}:
        for sku in skus:
            committed, held = told.get((site, sku), (0, 0))
            taken = max(routed.get(site, Counter())[sku], committed) + held
            if taken:
                stock.setdefault(site, Counter())[sku] -= taken
    return stock


def by_hand(site: str, sites: list[str]) -> Choice:
    """A supervisor's choice of site, checked."""
    if site not in sites:
        raise RoutingError(f"the centre follows no site {site!r} (its sites: {', '.join(sites)})")
    return Choice(site, "chosen by hand")


def route(conn: Connection, order: Order, sites: list[str], now: str,
          choice: Choice | None = None) -> store.CentralOrder:  # fmt: skip
    """Route a new order, or a replaced one (it stays at its site unless `choice` says
    otherwise), or move it to `choice`; inside the caller's transaction."""
    if order.status != "open":
        raise RoutingError(f"order {order.order}: the centre routes open orders, "
                           f"not {order.status} ones")  # fmt: skip
    existing = store.central_order_get(conn, order.order)
    if existing is not None and existing.state not in MOVABLE:
        raise RoutingConflict(f"order {order.order} is {existing.state} at site "
                              f"{existing.site}: it can no longer be routed")  # fmt: skip
    if choice is None and existing is not None and existing.state != "rejected":
        choice = Choice(existing.site, existing.reason or "")
    if choice is None:
        choice = by_stock(conn, order, sites, now)
    payload = encode(order).decode()
    created = existing.created if existing else now
    if existing is not None and existing.state != "rejected" and existing.site != choice.site:
        # Not picked there yet, as far as the centre knows: ask that site to let it go.
        record = store.CentralOrder(order.order, payload, existing.site, "withdrawing",
                                    choice.reason, choice.site, created, now)  # fmt: skip
        withdrawn = msgspec.structs.replace(order, status="cancelled")
        store.outbox_put(conn, Topics(existing.site).centre_orders, encode(withdrawn), False)
    else:
        record = store.CentralOrder(order.order, payload, choice.site, "routed", choice.reason,
                                    None, created, now)  # fmt: skip
        store.outbox_put(conn, Topics(choice.site).centre_orders, encode(order), False)
    store.central_order_put(conn, record)
    return record


def reroute(conn: Connection, order_id: str, sites: list[str], now: str,
            site: str | None) -> store.CentralOrder:  # fmt: skip
    """A supervisor's choice: `site`, or None to let the stock decide again."""
    existing = store.central_order_get(conn, order_id)
    if existing is None:
        raise LookupError(f"the centre has routed no order {order_id}")
    order = _decode(existing.payload)
    if site is not None:
        return route(conn, order, sites, now, by_hand(site, sites))
    return route(conn, order, sites, now, by_stock(conn, order, sites, now))


def by_stock(conn: Connection, order: Order, sites: list[str], now: str) -> Choice:
    """The stock's choice, fresh figures first; one made on stale figures says so."""
    known = figures(conn, sites, now)
    kits = kit_bills(conn, order)
    choice = choose(order, available(conn, order, kits), sites,
                    [site for site, f in known.items() if f.fresh], kits)  # fmt: skip
    if known[choice.site].fresh:
        return choice
    return Choice(choice.site, f"{choice.reason}, {known[choice.site].note()}")


def cancel(conn: Connection, order_id: str, now: str) -> store.CentralOrder:
    """The customer called it off: an order nobody has picked is withdrawn from its site
    (cancelled there, then here once the site says so); a rejected one is cancelled here."""
    existing = store.central_order_get(conn, order_id)
    if existing is None:
        raise LookupError(f"the centre has routed no order {order_id}")
    if existing.state not in MOVABLE:
        raise RoutingConflict(f"order {order_id} is {existing.state} at site {existing.site}: "
                              "it can no longer be cancelled from the centre")  # fmt: skip
    if existing.state == "rejected":
        _put(conn, existing, existing.site, "cancelled", existing.reason, None, now)
    else:
        withdrawn = msgspec.structs.replace(_decode(existing.payload), status="cancelled")
        store.outbox_put(conn, Topics(existing.site).centre_orders, encode(withdrawn), False)
        _put(conn, existing, existing.site, "withdrawing", "cancelled at the centre", None, now)
    return store.central_order_get(conn, order_id)


def state_from_site(conn: Connection, site: str, state: OrderState, now: str) -> bool:
    """A site's word on an order: its status there. False if the centre did not route
    that order to that site (one of the site's own, or one it has moved since). A status
    behind the one the centre has from the site is an older word (said again, or late)
    and changes nothing: the centre takes each state idempotently, in any order."""
    existing = store.central_order_get(conn, state.order)
    if existing is None or existing.site != site:
        return False
    if _older(state.status, existing.state):
        return True
    if existing.state == "withdrawing" and existing.next_site is not None:
        if state.status == "cancelled":
            order = _decode(existing.payload)
            store.outbox_put(conn, Topics(existing.next_site).centre_orders, encode(order), False)
            _put(conn, existing, existing.next_site, "routed", existing.reason, None, now)
        elif state.status not in ("open",):
            # picked meanwhile: it stays where it is
            _put(conn, existing, site, state.status, state.reason, None, now)
        return True
    reason = state.reason if state.status == "rejected" else existing.reason
    _put(conn, existing, site, state.status, reason, None, now)
    return True


def _older(status: str, known: str) -> bool:
    """Whether the site's `status` comes before `known`, the status the centre has of the
    order from that site. Neither `routed` nor `withdrawing` is a site's status: any word
    after them is news; nor is `rejected` followed by anything but a new routing."""
    return known in SITE_ORDER and SITE_ORDER.get(status, 0) < SITE_ORDER[known]


def _put(conn: Connection, was: store.CentralOrder, site: str, state: str,
         reason: str | None, next_site: str | None, now: str) -> None:  # fmt: skip
    store.central_order_put(conn, store.CentralOrder(was.order_id, was.payload, site, state,
                                                     reason, next_site, was.created, now))  # fmt: skip


def _decode(payload: str) -> Order:
    return msgspec.json.decode(payload, type=Order)
