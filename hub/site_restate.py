"""What a site hub says again, besides its movements, when the central hub asks it to
resend (`centre/resend {from}`, docs/multi-site.md): where each order the centre routed
here stands (`centre/order-state`) and its alerts (`alerts`). Neither is retained nor kept
by the centre's broker, so one that reached a central worker that had just lost the site
(it fences and acknowledges it), or came before the new owner subscribed, or was dropped
by the bridge, would otherwise be lost for good.

`from` is the centre's cursor: it has every movement before it, so it has what the site
said before the newest of those movements (one outbox, published in order, over one
bridge). The site says again the current state of every routed order and alert that
changed since that movement's time (its own clock, less a margin), up to the time of the
last movement it resends now when the centre will ask for the rest, else up to now: each
request of a catch-up covers its own stretch, none grows without bound. The centre takes
them idempotently (hub.routing.state_from_site, store.site_alert_set)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from hub import alerts, centre_orders, store
from hub.store.connection import Connection
from protocol.topics import Topics

# Clock slack: a change and a movement of the same moment may be stamped a little apart
# (a batch's time and an event's), and saying a state twice costs nothing.
MARGIN = timedelta(seconds=60)
# At most this many orders and this many alerts per request.
STATES_WINDOW = 1000


@dataclass(frozen=True)
class Window:
    since: str | None  # None: from the start
    until: str | None  # None: up to now


def window(conn: Connection, from_seq: int,
           resent: list[store.MovementRecord], last: int) -> Window:  # fmt: skip
    """The stretch of the site's time the request covers (see the module's doc)."""
    since = store.movement_hub_ts_before(conn, from_seq)
    more = bool(resent) and resent[-1].id < last  # the centre will ask for the rest
    return Window(_shift(since, -MARGIN), _shift(resent[-1].hub_ts, MARGIN) if more else None)


def republish(conn: Connection, topics: Topics, span: Window) -> tuple[int, int]:
    """Put the orders' states and the alerts of `span` in the outbox, after the
    movements: (orders, alerts) said again."""
    changed = store.from_centre_changed(conn, span.since, span.until, STATES_WINDOW)
    for order_id, status in changed:
        centre_orders.send(conn, topics, order_id, status)
    found = store.alerts_changed(conn, span.since, span.until, STATES_WINDOW)
    for row in found:
        alerts.publish_row(conn, topics, row)
    return len(changed), len(found)


def _shift(ts: str | None, by: timedelta) -> str | None:
    return None if ts is None else (datetime.fromisoformat(ts) + by).isoformat()
