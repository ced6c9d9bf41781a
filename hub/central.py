"""The central hub's ingest: each site's movements applied exactly once by (site, ledger_seq).

What a site's bridge brings (docs/multi-site.md), in one transaction per batch:
- movements: `ledger_seq <= applied` is a duplicate, ignored if it is the movement the
  centre has, dead-lettered and alerted with other content; `applied + 1` is applied to
  the site's stock (balance and FIFO value), then what was held behind it; beyond it, a
  gap: held in `site_pending`, never applied early and never skipped. A receipt that
  names its transfer is noted as the transfer's (its units count once in the company).
- stock/{sku}: its `ledger_seq` says how far the site's ledger is: the centre knows it
  lags even when the movements in between never arrived; its `committed`, what the
  site's open orders hold (routing leaves it out).
- hub/status, centre/link (the bridge's notification), station status, alerts: the state
  of the site shown on GET /api/sites.
- centre/order-state: where an order the centre routed stands at its site (hub/routing.py);
  and orders on the centre's own intake/orders are routed to a site.
- transfers/{transfer}: the site shipped or received a transfer (hub.central_transfers).
  After each batch, the received transfers of the sites it touched that both sites'
  replays now hold are marked settled (the company total reads them no more).
A gap, or a site known to be ahead, is answered with `centre/resend {from: applied + 1}`
after `resync_after_s`, and again while it stays open: the site hub republishes its
movements from there (it keeps them all in its ledger).

As one of several ingest workers (`fence`, hub.ownership): a site's messages are applied
only by the worker whose lease on the site's stream the applying transaction reads, and
only that worker asks the site to resend; the others' are acknowledged and left (the new
owner asks the site to resend from what the centre has applied).
"""

import logging
import time
from dataclasses import dataclass, field

import msgspec

from hub import alerts, central_transfers, routing, store
from hub.ingest_batch import LINK_STATES, Fence, Incoming
from hub.ownership import site_stream
from hub.store.connection import Connection
from protocol.envelope import InvalidMessage, decode_message, utc_now
from protocol.messages import (
    Alert,
    AppliedMovement,
    HubStatus,
    Order,
    OrderState,
    StationStatus,
    Stock,
    TransferReport,
)
from protocol.topics import ROOT, Topics

log = logging.getLogger(__name__)

# After asking a site this many times for the same missing movement without progress,
# the centre raises `site_gap`: a silent wait would look like a quiet site.
RESENDS_BEFORE_ALERT = 3


@dataclass
class CentralResult:
    applied: int = 0
    duplicates: int = 0
    held: int = 0
    dead: int = 0
    routed: int = 0  # orders from the centre's intake, sent to a site
    not_mine: int = 0  # messages of a site another worker owns: left to it
    sites: set[str] = field(default_factory=set)


class CentralIngest:
    def __init__(
        self,
        conn: Connection,
        topics: Topics,
        sites: list[str],
        resend_after_s: float,
        fence: Fence | None = None,
    ) -> None:
        """`topics`: the centre's own site (its alerts); `sites`: the sites it follows;
        `fence`: an ingest worker's leases (None: the single process owns every site)."""
        self.conn = conn
        self.topics = topics
        self.sites = tuple(sites)
        self.resend_after_s = resend_after_s
        self.fence = fence
        self._behind: dict[str, tuple[int, float]] = {}  # site -> (applied, since)
        self._asked: dict[str, float] = {}
        self._asks: dict[str, tuple[int, int]] = {}  # site -> (applied, requests for it)
        # Sites whose site_gap alert may be open (after a restart: all, cleared once).
        self._gap_alerted: set[str] = set(self.sites)
        with store.transaction(conn):
            for site in self.sites:
                store.site_link_ensure(conn, site)
            central_transfers.settle(conn, self.sites)  # those received before migration 8

    def subscriptions(self) -> list[str]:
        """What the centre reads of each site (what the sites' bridges bring)."""
        return [topic for site in self.sites for topic in site_topics(site)]

    def owns(self, topic: str) -> bool:
        """A message of one of the sites, or an order for the centre to route (the rest
        of the centre's own tree is its own hub's)."""
        return self._site(topic) is not None or topic == self.topics.order_intake

    def _site(self, topic: str) -> str | None:
        parts = topic.split("/")
        if len(parts) < 4 or "/".join(parts[:2]) != ROOT or parts[2] not in self.sites:
            return None
        return parts[2]

    def process(self, batch: list[Incoming]) -> CentralResult:
        result = CentralResult()
        now = utc_now().isoformat()
        with store.transaction(self.conn):
            mine: dict[str, bool] = {}  # site -> its lease read once in this transaction
            for message in batch:
                site = self._site(message.topic)
                if message.topic == self.topics.order_intake:
                    self._intake(message, now, result)
                elif site is not None and not self._owned(site, mine):
                    result.not_mine += 1
                elif site is not None:
                    self._one(site, message, now, result)
            # A transfer whose both sides the replay now holds needs no more correcting.
            central_transfers.settle(self.conn, result.sites)
        return result

    def _owned(self, site: str, mine: dict[str, bool]) -> bool:
        """Inside the applying transaction: whether this worker's lease on the site holds
        (always, for the single process)."""
        if self.fence is None:
            return True
        if site not in mine:
            mine[site] = self.fence.fence(self.conn, site_stream(site))
        return mine[site]

    def _one(self, site: str, message: Incoming, now: str, result: CentralResult) -> None:
        levels = Topics(site).leaf(message.topic)
        result.sites.add(site)
        if levels == ["movements"]:
            self._movement(site, message, now, result)
        elif len(levels) == 2 and levels[0] == "stock":
            self._stock(site, message, now, result)
        elif levels == ["hub", "status"]:
            self._hub_status(site, message, now, result)
        elif levels == ["centre", "link"]:
            self._link(site, message, now, result)
        elif len(levels) == 3 and levels[0] == "station" and levels[2] == "status":
            self._station_status(site, levels[1], message, now, result)
        elif levels == ["alerts"]:
            self._alert(site, message, now, result)
        elif levels == ["centre", "order-state"]:
            self._order_state(site, message, now, result)
        elif len(levels) == 2 and levels[0] == "transfers":
            self._transfer(site, levels[1], message, now, result)
        else:
            self._dead(site, message, "the centre has no handler for this topic", now, result)

    # --- movements ------------------------------------------------------------------
    def _movement(self, site: str, message: Incoming, now: str, result: CentralResult) -> None:
        try:
            movement = decode_message(message.payload, AppliedMovement, "movement")
        except InvalidMessage as exc:
            self._dead(site, message, str(exc), now, result)
            return
        payload = message.payload.decode()
        seq = movement.ledger_seq
        link = store.site_link_get(self.conn, site)
        if seq <= link.applied:
            self._duplicate(site, message, movement,
                            store.site_movement_payload(self.conn, site, seq), now, result)  # fmt: skip
        elif seq > link.applied + 1:
            held = store.site_pending_get(self.conn, site, seq)
            if held is None:
                store.site_pending_put(self.conn, site, seq, payload, now)
                store.site_known_raise(self.conn, site, seq, now)
                result.held += 1
            else:
                self._duplicate(site, message, movement, held, now, result)
        else:
            self._apply_run(site, movement, payload, now, result)

    def _duplicate(self, site: str, message: Incoming, movement: AppliedMovement,
                   stored: str | None, now: str, result: CentralResult) -> None:  # fmt: skip
        if stored is None or _decode(stored) == movement:
            result.duplicates += 1
            return
        key = f"site {site} ledger_seq {movement.ledger_seq}"
        self._dead(site, message, f"conflicting duplicate: {key} has other content", now,
                   result)  # fmt: skip
        alerts.raise_(
            self.conn, self.topics, now, "conflicting_movement", "critical",
            f"{key} came again with other content: the site's ledger went back (restored?); "
            "the centre keeps the first, the other is in the dead letters",
            dedupe=f"conflicting_movement:{site}",
        )  # fmt: skip

    def _apply_run(self, site: str, movement: AppliedMovement, payload: str, now: str,
                   result: CentralResult) -> None:  # fmt: skip
        """Apply `movement`, then every held one that follows it without a gap."""
        while True:
            store.site_movement_add(self.conn, _site_movement(site, movement), payload, now)
            if movement.transfer is not None:
                central_transfers.receipt_applied(self.conn, site, movement.transfer,
                                                  movement.ledger_seq)  # fmt: skip
            result.applied += 1
            applied = movement.ledger_seq
            held = store.site_pending_take(self.conn, site, applied + 1)
            if held is None:
                break
            payload, movement = held, _decode(held)
        store.site_pending_drop_applied(self.conn, site, applied)
        store.site_applied_set(self.conn, site, applied, now)

    # --- the site's state -----------------------------------------------------------
    def _stock(self, site: str, message: Incoming, now: str, result: CentralResult) -> None:
        try:
            stock = decode_message(message.payload, Stock, "stock")
        except InvalidMessage as exc:
            self._dead(site, message, str(exc), now, result)
            return
        store.site_known_raise(self.conn, site, stock.ledger_seq, now)
        # What the site's own orders hold, which the centre routes around (hub/routing.py),
        # and what is in its held locations: neither is available (hub/company_reorder.py).
        store.site_committed_set(self.conn, site, stock.sku, stock.committed, stock.quarantined,
                                 stock.ledger_seq)  # fmt: skip

    def _hub_status(self, site: str, message: Incoming, now: str, result: CentralResult) -> None:
        try:
            status = decode_message(message.payload, HubStatus, "hub status")
        except InvalidMessage as exc:
            self._dead(site, message, str(exc), now, result)
            return
        store.site_hub_state_set(self.conn, site, status.state)

    def _link(self, site: str, message: Incoming, now: str, result: CentralResult) -> None:
        state = LINK_STATES.get(message.payload)
        if state is None:
            self._dead(site, message, "centre link: expected the bridge's 1 or 0", now, result)
            return
        store.site_link_set(self.conn, site, state, now)

    def _station_status(self, site: str, station: str, message: Incoming, now: str,
                        result: CentralResult) -> None:  # fmt: skip
        if not message.payload:
            return  # a cleared retained status
        try:
            status = decode_message(message.payload, StationStatus, "status")
        except InvalidMessage as exc:
            self._dead(site, message, str(exc), now, result)
            return
        store.site_feed_set(self.conn, site, f"station/{station}/status", status.state,
                            message.payload.decode(), now)  # fmt: skip

    def _alert(self, site: str, message: Incoming, now: str, result: CentralResult) -> None:
        try:
            alert = decode_message(message.payload, Alert, "alert")
        except InvalidMessage as exc:
            self._dead(site, message, str(exc), now, result)
            return
        # By id, cleared for good: a `raised` said again after the clearing changes nothing.
        store.site_alert_set(self.conn, site, alert.id, alert.state, message.payload.decode(),
                             now)  # fmt: skip

    # --- orders routed to the sites ------------------------------------------------
    def _intake(self, message: Incoming, now: str, result: CentralResult) -> None:
        """An order from a shop or ERP on the centre's intake: routed to a site."""
        try:
            order = decode_message(message.payload, Order, "order")
        except InvalidMessage as exc:
            self._dead(self.topics.site, message, str(exc), now, result)
            return
        try:
            with store.savepoint(self.conn, "routing"):
                routing.route(self.conn, order, list(self.sites), now)
        except (routing.RoutingError, routing.RoutingConflict) as exc:
            self._dead(self.topics.site, message, str(exc), now, result)
            return
        result.routed += 1

    def _order_state(self, site: str, message: Incoming, now: str, result: CentralResult) -> None:
        try:
            state = decode_message(message.payload, OrderState, "order state")
        except InvalidMessage as exc:
            self._dead(site, message, str(exc), now, result)
            return
        routing.state_from_site(self.conn, site, state, now)

    def _transfer(self, site: str, transfer: str, message: Incoming, now: str,
                  result: CentralResult) -> None:  # fmt: skip
        """A site shipped or received a transfer: the centre tells both sites. An emptied
        report: the site is done with it."""
        if not message.payload:
            refused = central_transfers.site_done(self.conn, site, transfer)
            if refused is not None:
                self._dead(site, message, refused, now, result)
            return
        try:
            report = decode_message(message.payload, TransferReport, "transfer report")
        except InvalidMessage as exc:
            self._dead(site, message, str(exc), now, result)
            return
        refused = central_transfers.apply_report(self.conn, site, report, now)
        if refused is not None:
            self._dead(site, message, refused, now, result)

    def _dead(self, site: str, message: Incoming, reason: str, now: str,
              result: CentralResult) -> None:  # fmt: skip
        log.warning("dead letter on %s: %s", message.topic, reason)
        store.dead_letter(self.conn, message.topic, message.payload, reason, now, f"site {site}")
        result.dead += 1

    def set_aside(self, message: Incoming, exc: Exception) -> None:
        """A message that failed alone: a dead letter with the cause, and an alert."""
        now, site = utc_now().isoformat(), self._site(message.topic) or "?"
        with store.transaction(self.conn):
            dead = store.dead_letter(self.conn, message.topic, message.payload,
                                     f"central ingest failed: {exc!r}", now, f"site {site}")  # fmt: skip
            alerts.raise_(self.conn, self.topics, now, "message_failed", "critical",
                          f"a message on {message.topic} failed: {exc!r} (dead letter {dead})",
                          dedupe=f"message_failed:{message.topic}")  # fmt: skip

    # --- asking again ---------------------------------------------------------------
    def due_resends(self, now: float | None = None) -> list[tuple[str, int]]:
        """(site, from) for each site the centre has been behind for `resend_after_s`
        without progress (a gap, or a site whose stock is ahead), asked again as long as
        it stays so."""
        now = time.monotonic() if now is None else now
        due = []
        for link in store.site_links(self.conn):
            if link.site not in self.sites:
                continue
            if self.fence is not None and not self.fence.owns(site_stream(link.site)):
                self._behind.pop(link.site, None)  # the owner asks; timed anew if it comes back
                self._asks.pop(link.site, None)
                continue
            if link.known <= link.applied:
                self._behind.pop(link.site, None)
                self._gap_filled(link.site)
                continue
            applied, since = self._behind.get(link.site, (link.applied, now))
            if applied != link.applied:
                since = now  # progress: wait again before asking
                self._gap_filled(link.site)
            self._behind[link.site] = (link.applied, since)
            asked = self._asked.get(link.site)
            if now - since >= self.resend_after_s and (
                asked is None or now - asked >= self.resend_after_s
            ):
                due.append((link.site, link.applied + 1))
                self._asked[link.site] = now
                self._count_ask(link)
        return due

    def _count_ask(self, link: store.SiteLink) -> None:
        """One more request for the same movement; at RESENDS_BEFORE_ALERT, the alert.
        Requests over a link that is down are not counted: they cannot be answered."""
        if link.link == "down":
            return
        applied, asks = self._asks.get(link.site, (link.applied, 0))
        asks = asks + 1 if applied == link.applied else 1
        self._asks[link.site] = (link.applied, asks)
        if asks != RESENDS_BEFORE_ALERT:
            return
        missing, now = link.applied + 1, utc_now().isoformat()
        with store.transaction(self.conn):
            held = store.site_pending_count(self.conn, link.site)
            alerts.raise_(
                self.conn, self.topics, now, "site_gap", "critical",
                f"site {link.site}: its movement ledger_seq {missing} has not come after "
                f"{asks} requests to resend ({held} later ones wait behind it; the site's "
                f"ledger is at {link.known} at least): its stock here stays behind. Check "
                "that the site hub runs; if its `hub check` lists ledger_seq holes, that "
                "number will never come (docs/multi-site.md)",
                dedupe=f"site_gap:{link.site}",
            )  # fmt: skip
        self._gap_alerted.add(link.site)

    def _gap_filled(self, site: str) -> None:
        """The centre moved on for `site`: its site_gap alert, if any, is cleared."""
        self._asks.pop(site, None)
        if site not in self._gap_alerted:
            return
        with store.transaction(self.conn):
            alerts.clear(self.conn, self.topics, f"site_gap:{site}", utc_now().isoformat())
        self._gap_alerted.discard(site)


def site_topics(site: str) -> list[str]:
    """What the centre reads of one site: all of it comes to the worker owning the site."""
    base = Topics(site).base
    return [f"{base}/movements", f"{base}/stock/+", f"{base}/hub/status",
            f"{base}/centre/link", f"{base}/station/+/status", f"{base}/alerts",
            f"{base}/centre/order-state", f"{base}/transfers/+"]  # fmt: skip


def _decode(payload: str) -> AppliedMovement:
    return msgspec.json.decode(payload, type=AppliedMovement)


def _site_movement(site: str, m: AppliedMovement) -> store.SiteMovement:
    return store.SiteMovement(site, m.ledger_seq, m.type, m.sku, m.location, m.lot or "",
                              m.owner or "", m.delta, m.value_micros or 0,
                              m.hub_ts.isoformat())  # fmt: skip
