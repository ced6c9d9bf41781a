"""The topic tree under `wh/v1/{site}/`, in one place: every topic is a `Channel` here,
and the AsyncAPI documents and docs/protocol.md's table are made from this list.

station -> hub:   station/{id}/events (QoS 1), station/{id}/status (retained, last will)
hub -> station:   station/{id}/applied (retained), station/{id}/cmd/{name},
                  orders/{order}, purchase-orders/{po}, catalog/{sku},
                  station/{id}/count-tasks/{task} (retained; emptied when done or closed)
hub -> everyone:  hub/status (retained, last will), stock/{sku} (retained), alerts,
                  movements (every applied ledger movement, for ERPs and dashboards),
                  dropship/{po} (retained: dropship purchase orders for suppliers),
                  returns (every customer return as booked, for the systems that refund)
hub -> station:   returnable/{id} (retained: what may come back against an order or RMA)
others -> hub:    intake/orders (sales orders from a shop or ERP)
centre <-> site:  centre/resend (the central hub asks the site hub to republish its movements
                  from a ledger_seq, and the orders' states and alerts of the same stretch), centre/link (retained: Mosquitto's bridge notification,
                  1 up, 0 down), centre/transfers/{transfer} (retained: a transfer between
                  sites, to both), transfers/{transfer} (retained: the site shipped or
                  received it; each emptied once the transfer is closed); all cross the site's bridge (docs/multi-site.md)

Who may do what is `may_publish` / `may_read`, by the broker role of the client (the same
roles hub/brokerconf.py writes into Mosquitto's ACL, pinned to the broker's one site).
"""

import functools
from dataclasses import dataclass
from typing import Literal

ROOT = "wh/v1"

Role = Literal["hub", "station", "reader", "integration", "central"]
# "central": the central hub of a company with several sites, a client of the central
# broker, which carries every site's tree (each site's broker bridges its part there).
ROLES: tuple[Role, ...] = ("hub", "station", "reader", "integration", "central")
# The roles of a site's own broker (the central role has no user there).
SITE_ROLES: tuple[Role, ...] = ("hub", "station", "reader", "integration")


@dataclass(frozen=True)
class Channel:
    """One topic (with {parameters}) below `wh/v1/{site}/`, and who uses it."""

    name: str  # the AsyncAPI channel id
    path: str  # below wh/v1/{site}/; {station} is the publishing or receiving station
    payload: str  # a protocol.messages Struct's name, or "event" for station events
    sender: Role
    readers: tuple[Role, ...]  # who subscribes, besides the reader role (reads everything)
    retain: bool
    description: str
    clearable: bool = False  # an empty retained payload removes the topic's message


STATION_EVENTS = Channel(
    name="stationEvents",
    path="station/{station}/events",
    payload="event",
    sender="station",
    readers=("hub",),
    retain=False,
    description=(
        "Every journaled station event, QoS 1, in seq order per (station, epoch); re-sent "
        "from applied + 1 until the hub's applied covers it. Consumers dedupe on "
        "(station, epoch, seq)."
    ),
)
STATION_STATUS = Channel(
    name="stationStatus",
    path="station/{station}/status",
    payload="StationStatus",
    sender="station",
    readers=("hub", "central"),
    retain=True,
    description=(
        "The station's state, republished on every change (about 1.5 a second while "
        "scanning); its last will sets state offline. An offline message whose conn is "
        "below the last online one is stale."
    ),
)
APPLIED = Channel(
    name="applied",
    path="station/{station}/applied",
    payload="Applied",
    sender="hub",
    readers=("station",),
    retain=True,
    description=("Cumulative ack: every event of `epoch` up to `seq` is in the ledger."),
)
RESYNC = Channel(
    name="resync",
    path="station/{station}/cmd/resync",
    payload="Resync",
    sender="hub",
    readers=("station",),
    retain=False,
    description=("The hub saw a gap: send again from `from`."),
)
COMMAND = Channel(
    name="command",
    path="station/{station}/cmd/{name}",
    payload="Command",
    sender="hub",
    readers=("station",),
    retain=False,
    description=("identify (blink and beep), reprint (the last label), mode (args.mode)."),
)
COUNT_TASKS = Channel(
    name="countTasks",
    path="station/{station}/count-tasks/{task}",
    payload="CountTask",
    sender="hub",
    readers=("station",),
    retain=True,
    clearable=True,
    description=("A count task for one station; emptied when done or cancelled."),
)
ORDERS = Channel(
    name="orders",
    path="orders/{order}",
    payload="Order",
    sender="hub",
    readers=("station",),
    retain=True,
    clearable=True,
    description=("Sales orders that can be packed; emptied when closed."),
)
PURCHASE_ORDERS = Channel(
    name="purchaseOrders",
    path="purchase-orders/{po}",
    payload="PurchaseOrder",
    sender="hub",
    readers=("station",),
    retain=True,
    clearable=True,
    description=("Purchase orders that can be received; emptied when closed."),
)
CATALOG = Channel(
    name="catalog",
    path="catalog/{sku}",
    payload="Product",
    sender="hub",
    readers=("station",),
    retain=True,
    clearable=True,
    description=(
        "One product per topic, so a change resends only that product; emptied when removed."
    ),
)
HUB_STATUS = Channel(
    name="hubStatus",
    path="hub/status",
    payload="HubStatus",
    sender="hub",
    readers=("station", "integration", "central"),
    retain=True,
    description=("The hub's state; its last will sets state offline."),
)
STOCK = Channel(
    name="stock",
    path="stock/{sku}",
    payload="Stock",
    sender="hub",
    readers=("integration", "central"),
    retain=True,
    description=(
        "On hand per SKU and location after every change, with the ledger position "
        "(`ledger_seq`) it includes. Never clamped: may be negative."
    ),
)
ALERTS = Channel(
    name="alerts",
    path="alerts",
    payload="Alert",
    sender="hub",
    readers=("integration", "central"),
    retain=False,
    description=(
        "An alert raised (state raised) and, with the same id, when it is cleared (state cleared)."
    ),
)
MOVEMENTS = Channel(
    name="movements",
    path="movements",
    payload="AppliedMovement",
    sender="hub",
    readers=("integration", "central"),
    retain=False,
    description=(
        "Every balance change in ledger order; dedupe on ledger_seq (at least once). "
        "Published before the stock message that includes it."
    ),
)
DROPSHIP = Channel(
    name="dropship",
    path="dropship/{po}",
    payload="PurchaseOrder",
    sender="hub",
    readers=("integration",),
    retain=True,
    clearable=True,
    description=(
        "Dropship purchase orders for suppliers (the supplier ships the sales order to "
        "the customer); emptied when closed."
    ),
)
ORDER_INTAKE = Channel(
    name="orderIntake",
    path="intake/orders",
    payload="Order",
    sender="integration",
    readers=("hub",),
    retain=False,
    description=(
        "Sales orders from a shop or ERP; one that is not valid is dead-lettered with the "
        "reason, visible to supervisors."
    ),
)
RETURNABLE = Channel(
    name="returnable",
    path="returnable/{id}",
    payload="Returnable",
    sender="hub",
    readers=("station",),
    retain=True,
    clearable=True,
    description=(
        "What may come back against a shipped order (id = order) or an RMA (id = RMA "
        "number); emptied when nothing more may come back."
    ),
)
RETURNS = Channel(
    name="returns",
    path="returns",
    payload="AppliedReturn",
    sender="hub",
    readers=("integration",),
    retain=False,
    description=(
        "Every customer return as booked, with its value, for the systems that refund; "
        "dedupe on event_id (at least once)."
    ),
)

RESEND_MOVEMENTS = Channel(
    name="resendMovements",
    path="centre/resend",
    payload="ResendMovements",
    sender="central",
    readers=("hub",),
    retain=False,
    description=(
        "The central hub saw a gap in the site's movements (or lags behind the site's "
        "stock, or has just taken the site's stream over from another of its workers): "
        "the site hub publishes its movements again from ledger_seq `from`, a window at "
        "a time, then (hubs since 1.6) the current centre/order-state of each order the "
        "centre routed to it and the alerts that changed in the same stretch of its time "
        "(since the movement before `from`, up to the last one resent, or now). Arrives "
        "over the site's bridge."
    ),
)
CENTRE_LINK = Channel(
    name="centreLink",
    path="centre/link",
    payload="LinkState",
    sender="hub",
    readers=("central",),
    retain=True,
    description=(
        "Mosquitto's bridge notification, published by the site broker's bridge on both "
        "brokers: 1 while the bridge to the centre is connected, 0 (its last will on the "
        "central broker) once it is not."
    ),
)
CENTRE_ORDERS = Channel(
    name="centreOrders",
    path="centre/orders",
    payload="Order",
    sender="central",
    readers=("hub",),
    retain=False,
    description=(
        "An order the central hub routed to this site: the site hub takes it as from its "
        "own intake (created, or replaced while open). With status cancelled: the centre "
        "withdraws it (to route it elsewhere); the site cancels it if not yet picked."
    ),
)
ORDER_STATE = Channel(
    name="orderState",
    path="centre/order-state",
    payload="OrderState",
    sender="hub",
    readers=("central",),
    retain=False,
    description=(
        "The status of an order the centre routed here, on each change (rejected, with the "
        "reason, when the site cannot take it): the centre shows where each order is."
    ),
)

TRANSFER_ORDERS = Channel(
    name="transferOrders",
    path="centre/transfers/{transfer}",
    payload="TransferOrder",
    sender="central",
    readers=("hub",),
    retain=True,
    description=(
        "1.4: a transfer between two sites of the company, as the central hub knows it, "
        "at both the sending and the receiving site (over their bridges): to pack, in "
        "transit with the sender's cost layers, received; once received, emptied by each "
        "site hub on its own broker and by the centre on the central broker when that "
        "site has emptied its report (the site is done with the transfer)."
    ),
    clearable=True,
)
TRANSFER_REPORTS = Channel(
    name="transferReports",
    path="transfers/{transfer}",
    payload="TransferReport",
    sender="hub",
    readers=("central",),
    retain=True,
    description=(
        "1.4: a site hub tells the centre it shipped a transfer (with the cost layers that "
        "left) or received it (what came); crosses the site's bridge. Emptied by the site "
        "once the centre says the transfer was received (the sender has then booked its "
        "transit out): the centre then empties its own message to that site."
    ),
    clearable=True,
)

CHANNELS: tuple[Channel, ...] = (
    STATION_EVENTS, STATION_STATUS, APPLIED, RESYNC, COMMAND, COUNT_TASKS, ORDERS,
    PURCHASE_ORDERS, CATALOG, HUB_STATUS, STOCK, ALERTS, MOVEMENTS, DROPSHIP, ORDER_INTAKE,
    RETURNABLE, RETURNS, RESEND_MOVEMENTS, CENTRE_LINK, CENTRE_ORDERS, ORDER_STATE,
    TRANSFER_ORDERS, TRANSFER_REPORTS,
)  # fmt: skip


def may_publish(role: Role, channel: Channel) -> bool:
    """The documented right: the hub writes all of its site, others only what they send
    (a station only under its own id)."""
    return role == "hub" or channel.sender == role


def may_read(role: Role, channel: Channel) -> bool:
    """The documented right: hub and reader read all of their site, others what they use
    (a station only under its own id)."""
    return role in ("hub", "reader") or role in channel.readers


@dataclass(frozen=True)
class Topics:
    """Topic names for one site."""

    site: str

    @property
    def base(self) -> str:
        return f"{ROOT}/{self.site}"

    def address(self, channel: Channel, **params: str) -> str:
        return f"{self.base}/{channel.path.format(**params)}"

    # station -> hub
    def events(self, station: str) -> str:
        return self.address(STATION_EVENTS, station=station)

    def station_status(self, station: str) -> str:
        return self.address(STATION_STATUS, station=station)

    # hub -> station
    def applied(self, station: str) -> str:
        return self.address(APPLIED, station=station)

    def command(self, station: str, name: str) -> str:
        return self.address(COMMAND, station=station, name=name)

    def count_task(self, station: str, task: str) -> str:
        return self.address(COUNT_TASKS, station=station, task=task)

    def order(self, order: str) -> str:
        return self.address(ORDERS, order=order)

    def purchase_order(self, po: str) -> str:
        return self.address(PURCHASE_ORDERS, po=po)

    def product(self, sku: str) -> str:
        return self.address(CATALOG, sku=sku)

    def returnable(self, id_: str) -> str:
        return self.address(RETURNABLE, id=id_)

    # hub -> everyone
    @property
    def hub_status(self) -> str:
        return self.address(HUB_STATUS)

    def stock(self, sku: str) -> str:
        return self.address(STOCK, sku=sku)

    @property
    def alerts(self) -> str:
        return self.address(ALERTS)

    @property
    def movements(self) -> str:
        return self.address(MOVEMENTS)

    def dropship(self, po: str) -> str:
        return self.address(DROPSHIP, po=po)

    @property
    def returns(self) -> str:
        return self.address(RETURNS)

    # others -> hub
    @property
    def order_intake(self) -> str:
        return self.address(ORDER_INTAKE)

    # centre <-> site (over the site's bridge)
    @property
    def resend_movements(self) -> str:
        return self.address(RESEND_MOVEMENTS)

    @property
    def centre_link(self) -> str:
        return self.address(CENTRE_LINK)

    @property
    def centre_orders(self) -> str:
        return self.address(CENTRE_ORDERS)

    @property
    def order_state(self) -> str:
        return self.address(ORDER_STATE)

    def transfer_order(self, transfer: str) -> str:
        return self.address(TRANSFER_ORDERS, transfer=transfer)

    def transfer_report(self, transfer: str) -> str:
        return self.address(TRANSFER_REPORTS, transfer=transfer)

    # subscriptions
    @property
    def all_station_events(self) -> str:
        return f"{self.base}/station/+/events"

    @property
    def all_station_status(self) -> str:
        return f"{self.base}/station/+/status"

    def station_subscriptions(self, station: str) -> list[str]:
        """What a station listens to: its acks, commands, tasks, and the shared data."""
        return [
            self.applied(station),
            f"{self.base}/station/{station}/cmd/+",
            f"{self.base}/station/{station}/count-tasks/+",
            f"{self.base}/orders/+",
            f"{self.base}/purchase-orders/+",
            f"{self.base}/catalog/+",
            f"{self.base}/returnable/+",
            self.hub_status,
        ]

    def station_of(self, topic: str) -> str | None:
        """The station id in `.../station/{id}/...`, or None for any other topic."""
        parts = topic.split("/")
        prefix = self.base.split("/")
        if parts[: len(prefix)] != prefix or len(parts) < len(prefix) + 3:
            return None
        if parts[len(prefix)] != "station":
            return None
        return parts[len(prefix) + 1]

    def leaf(self, topic: str) -> list[str]:
        """The levels after `wh/v1/{site}/`, e.g. ['orders', 'SO-1']."""
        return list(_levels(self._prefix, topic))

    @functools.cached_property
    def _prefix(self) -> str:
        return self.base + "/"


# A hub asks this of every message it takes, several times: a few topics (one per station
# and kind) come again and again, and splitting each anew was 3-5 % of its ingest thread.
@functools.lru_cache(maxsize=4096)
def _levels(prefix: str, topic: str) -> tuple[str, ...]:
    return tuple(topic[len(prefix) :].split("/")) if topic.startswith(prefix) else ()
