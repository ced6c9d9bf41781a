"""The topic tree under `wh/v1/{site}/`, in one place.

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
"""

from dataclasses import dataclass

ROOT = "wh/v1"


@dataclass(frozen=True)
class Topics:
    """Topic names for one site."""

    site: str

    @property
    def base(self) -> str:
        return f"{ROOT}/{self.site}"

    # station -> hub
    def events(self, station: str) -> str:
        return f"{self.base}/station/{station}/events"

    def station_status(self, station: str) -> str:
        return f"{self.base}/station/{station}/status"

    # hub -> station
    def applied(self, station: str) -> str:
        return f"{self.base}/station/{station}/applied"

    def command(self, station: str, name: str) -> str:
        return f"{self.base}/station/{station}/cmd/{name}"

    def count_task(self, station: str, task: str) -> str:
        return f"{self.base}/station/{station}/count-tasks/{task}"

    def order(self, order: str) -> str:
        return f"{self.base}/orders/{order}"

    def purchase_order(self, po: str) -> str:
        return f"{self.base}/purchase-orders/{po}"

    def product(self, sku: str) -> str:
        return f"{self.base}/catalog/{sku}"

    def returnable(self, id_: str) -> str:
        return f"{self.base}/returnable/{id_}"

    # hub -> everyone
    @property
    def hub_status(self) -> str:
        return f"{self.base}/hub/status"

    def stock(self, sku: str) -> str:
        return f"{self.base}/stock/{sku}"

    @property
    def alerts(self) -> str:
        return f"{self.base}/alerts"

    @property
    def movements(self) -> str:
        return f"{self.base}/movements"

    def dropship(self, po: str) -> str:
        return f"{self.base}/dropship/{po}"

    @property
    def returns(self) -> str:
        return f"{self.base}/returns"

    # others -> hub
    @property
    def order_intake(self) -> str:
        return f"{self.base}/intake/orders"

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
        prefix = self.base + "/"
        return topic[len(prefix) :].split("/") if topic.startswith(prefix) else []
