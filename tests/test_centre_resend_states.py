"""What a site hub says again when the central hub asks it to resend (hub.site_restate):
besides its movements, the state of each order the centre routed to it and its alerts that
changed since its movement before `from` (the centre's cursor). And the centre takes a
site's order states and alerts idempotently: an older one never overwrites a newer one."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from hub import alerts, orders, store
from hub.ingest import Incoming
from protocol.envelope import encode, utc_now
from protocol.events import Receipt
from protocol.messages import Alert, Order, OrderLine, OrderState, Product, ResendMovements
from protocol.topics import Topics
from tests.test_order_routing import BEARER, World, order, post, world  # noqa: F401
from tests.webapp import TOPICS, Ledger, hub_clock_at

pytestmark = pytest.mark.hub

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def routed(ledger: Ledger, order_id: str) -> None:
    """An order the centre routed to this site, as it comes over the bridge."""
    sent = Order(order=order_id, lines=[OrderLine(sku="MUG-1", qty=1)])
    ledger.ingest.process([Incoming(TOPICS.centre_orders, encode(sent))])


def changed(ledger: Ledger, order_id: str | None, alert: str, clear: bool) -> None:
    """At the site's clock: the order cancelled there, an alert raised (and cleared)."""
    with store.transaction(ledger.conn) as conn:
        now = utc_now().isoformat()
        if order_id is not None:
            orders.cancel(conn, TOPICS, order_id, now)
        alerts.raise_(conn, TOPICS, now, "station_offline", "warning", alert,
                      station=alert, dedupe=alert)  # fmt: skip
        if clear:
            alerts.clear(conn, TOPICS, alert, now)


def said_again(ledger: Ledger, from_seq: int) -> tuple[dict, dict]:
    """The orders' states and the alerts the site puts out for `centre/resend {from}`."""
    last = store.outbox_last_id(ledger.conn)
    ledger.ingest.process([Incoming(TOPICS.resend_movements,
                                    encode(ResendMovements(from_=from_seq)))])  # fmt: skip
    states, raised = {}, {}
    for _id, topic, payload, _retain in store.outbox_read(ledger.conn, last, 1000):
        if topic == TOPICS.order_state:
            state = msgspec.json.decode(payload, type=OrderState)
            states[state.order] = state.status
        elif topic == TOPICS.alerts:
            alert = msgspec.json.decode(payload, type=Alert)
            raised[alert.station] = alert.state
    return states, raised


def test_a_resend_request_says_again_what_changed_since_the_centres_cursor(ledger, monkeypatch):
    with store.transaction(ledger.conn) as conn:
        store.product_upsert(conn, "MUG-1", "MUG-1", encode(Product(sku="MUG-1", name="M")),
                             T0.isoformat())  # fmt: skip
    hub_clock_at(monkeypatch, T0)
    routed(ledger, "SO-OLD")
    changed(ledger, "SO-OLD", "old-1", clear=True)
    # An hour later the site's movement 1, which the centre has; then what it may not.
    hub_clock_at(monkeypatch, T0 + timedelta(hours=1))
    ledger.apply(Receipt(sku="MUG-1", qty=5, location="A-01", unit_cost=Decimal("1.00")))
    routed(ledger, "SO-NEW")
    routed(ledger, "SO-OPEN")
    changed(ledger, "SO-NEW", "new-1", clear=True)
    changed(ledger, None, "new-2", clear=False)
    with store.transaction(ledger.conn) as conn:  # the site's own order: not the centre's
        orders.save_order(conn, TOPICS, Order(order="OWN-1", lines=[OrderLine(sku="MUG-1",
                                                                              qty=1)]),
                          utc_now().isoformat())  # fmt: skip

    states, raised = said_again(ledger, 2)
    assert states == {"SO-NEW": "cancelled", "SO-OPEN": "open"}
    assert raised == {"new-1": "cleared", "new-2": "raised"}
    # From the start (the centre has nothing of the site): everything.
    states, raised = said_again(ledger, 1)
    assert states == {"SO-OLD": "cancelled", "SO-NEW": "cancelled", "SO-OPEN": "open"}
    assert raised == {"old-1": "cleared", "new-1": "cleared", "new-2": "raised"}


def state(site: str, order_id: str, status: str) -> Incoming:
    return Incoming(Topics(site).order_state,
                    encode(OrderState(order=order_id, status=status, ts=T0)))  # fmt: skip


def alert(site: str, alert_id: int, cleared: bool) -> Incoming:
    said = Alert(id=alert_id, kind="station_offline", message="pack-1 is offline",
                 state="cleared" if cleared else "raised", station="pack-1", ts=T0)  # fmt: skip
    return Incoming(Topics(site).alerts, encode(said))


def test_the_centre_keeps_a_sites_newest_word_whatever_comes_after_it(world):  # noqa: F811
    world.stock("s1", "MUG-1", 10)
    post(world, order("SO-1", ("MUG-1", 2)))
    world.deliver()
    assert world.where("SO-1") == ("s1", "open")
    world.centre.process([state("s1", "SO-1", "packing"), state("s1", "SO-1", "shipped")])
    # Said again, or late: an earlier status changes nothing; the same one is taken again.
    world.centre.process([state("s1", "SO-1", "open"), state("s1", "SO-1", "packing")])
    assert world.where("SO-1") == ("s1", "shipped")
    world.centre.process([state("s1", "SO-1", "shipped")])
    assert world.where("SO-1") == ("s1", "shipped")

    world.centre.process([alert("s1", 7, cleared=False), alert("s1", 8, cleared=False)])
    assert store.site_feed_counts(world.centre.conn, "s1")["alerts_open"] == 2
    world.centre.process([alert("s1", 7, cleared=True), alert("s1", 7, cleared=False)])
    assert store.site_feed_counts(world.centre.conn, "s1")["alerts_open"] == 1
    sites = world.api.get("/api/sites/reports/alerts?site=s1", headers=BEARER).json
    assert [row["id"] for row in sites["rows"]] == [8]


def test_a_state_the_bridge_lost_comes_back_when_the_centre_asks(world):  # noqa: F811
    world.stock("s1", "MUG-1", 10)
    post(world, order("SO-1", ("MUG-1", 2)))
    world.deliver()
    site = world.sites["s1"]
    with store.transaction(site.conn) as conn:
        orders.cancel(conn, Topics("s1"), "SO-1", utc_now().isoformat())
    world._drain(site.conn, "s1")  # lost on the way (fenced by a worker that lost the site)
    world.deliver()
    assert world.where("SO-1") == ("s1", "open")
    # The centre asks (a new owner of the site, or a gap): from what it has applied.
    site.process([Incoming(Topics("s1").resend_movements,
                           encode(ResendMovements(from_=1)))])  # fmt: skip
    world.deliver()
    assert world.where("SO-1") == ("s1", "cancelled")
