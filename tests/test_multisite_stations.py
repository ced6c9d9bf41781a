"""Issue 15's end-to-end test, with real stations: two sites, each a broker, a hub, a dock
door and a pack bench (`python -m station` processes whose scanner and scale are
pseudo-terminals), bridged to a central broker and hub. Both sites receive and pack; a
transfer is packed at s1's bench and received at s2's dock; then the bridge is cut (both
sites go on), a site hub and the central hub are killed and restarted. Afterwards the
centre's replay equals each site (`python -m hub check --site`), no movement is lost or
doubled, and the transfer is closed on both sides."""

from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from kit.waiting import wait_until
from protocol.topics import Topics
from tests.company import PASSWORD, Company, Site
from tests.e2e_bench import Bench
from tests.mqtt_client import TestClient
from tests.test_multisite import assert_centre_equals_sites

pytestmark = pytest.mark.slow

MUG, MUG_G = "4006381333931", 340
PRODUCTS = [{"sku": "MUG-1", "name": "Mug", "gtins": [{"gtin": MUG}], "unit_weight_g": "340"}]


@dataclass
class Floor:
    """A site and its two benches, with the numbers of what they did."""

    site: Site
    dock: Bench
    pack: Bench
    made: int = 0
    boxes: dict[str, int] = field(default_factory=dict)  # order -> its box's grams

    @property
    def hub(self):
        return self.site.hub

    def number(self, kind: str) -> str:
        self.made += 1
        return f"{kind}-{self.site.id}-{self.made}"

    def purchase_order(self, qty: int, cost: str) -> str:
        po = self.number("PO")
        self.hub.api("POST", "/api/purchase-orders", {"po": po, "lines": [
            {"sku": "MUG-1", "qty": qty, "unit_cost": cost}]})  # fmt: skip
        self.dock.wait_cached("purchase-orders", po)
        return po

    def receive(self, po: str, qty: int, location: str = "A-01") -> None:
        self.dock.scan_all(f"PO:{po}", f"LOC:{location}", f"QTY:{qty}", MUG)

    def order(self, qty: int) -> str:
        order = self.number("SO")
        # Each parcel its own box weight: the scale reports a parcel as news even if the
        # station polled no empty scale in between.
        self.boxes[order] = 100 + 10 * self.made
        self.hub.api("POST", "/api/orders", {"order": order,
                                             "packaging_weight_g": str(self.boxes[order]),
                                             "lines": [{"sku": "MUG-1", "qty": qty}]})  # fmt: skip
        self.pack.wait_cached("orders", order)
        return order

    def pack_and_weigh(self, order: str, qty: int) -> None:
        """Scan the order and its mugs, put the parcel on the scale: shipped (journaled)."""
        shipped = len(self.pack.events("shipment"))
        self.pack.scan(order)
        for _ in range(qty):
            self.pack.scan(MUG)
        self.pack.scale.place(Decimal(self.boxes.get(order, 0) + qty * MUG_G))
        wait_until(lambda: len(self.pack.events("shipment")) > shipped, 30,
                   f"{order} shipped at {self.site.id}")  # fmt: skip
        self.pack.scale.remove()

    def applied(self) -> bool:
        """The site hub applied everything both benches journaled."""
        for bench in (self.dock, self.pack):
            journaled = max((seq for seq, _ in bench.station.journal()), default=0)
            rows = self.hub.query("SELECT applied FROM cursors WHERE station = ?",
                                  (bench.station.station_id,))  # fmt: skip
            if journaled != (rows[0][0] if rows else 0):
                return False
        return True

    def wait_applied(self) -> None:
        wait_until(self.applied, 60, f"site {self.site.id} applied its stations' events")

    def mugs(self) -> dict[str, int]:
        """On hand per location (zero lines left out)."""
        return {loc: qty for (sku, loc, _lot, _owner), qty in self.site.balances().items()
                if sku == "MUG-1" and qty}  # fmt: skip


def floors(company: Company, stack: ExitStack) -> dict[str, Floor]:
    made = {}
    for site in company.sites.values():
        site.hub.api("POST", "/api/products", PRODUCTS)
        benches = []
        for station, mode in (("dock-1", "receive"), ("pack-1", "pack")):
            bench = Bench.start(company.dir / f"{site.id}-{station}", site.broker, station,
                                PASSWORD.format(station), mode, site=site.id)  # fmt: skip
            stack.callback(bench.stop)
            bench.wait_ready(site.hub)
            bench.scan("OP:alex")
            benches.append(bench)
        made[site.id] = Floor(site, *benches)
    return made


def status(hub, path: str) -> str:
    return hub.api("GET", path)["status"]


def test_two_sites_with_stations_a_transfer_and_outages_end_equal_at_the_centre(tmp_path):
    with Company(tmp_path) as company, ExitStack() as stack:
        company.wait_links("up")
        s1, s2 = floors(company, stack).values()

        # Receiving and packing at both sites.
        s1.receive(s1.purchase_order(12, "2.00"), 12)
        s2.receive(s2.purchase_order(8, "3.00"), 8)
        s1.pack_and_weigh(s1.order(2), 2)
        s2.pack_and_weigh(s2.order(1), 1)
        s1.wait_applied()
        s2.wait_applied()
        # The centre makes transfers of what it knows s1 has.
        wait_until(company.caught_up, 60, "the centre applied both sites' movements")

        # A transfer: packed at s1's bench with a transfer label, received at s2's dock.
        made = company.central.api("POST", "/api/transfers", {
            "from_site": "s1", "to_site": "s2", "lines": [{"sku": "MUG-1", "qty": 3}]})  # fmt: skip
        (transfer,) = made["saved"]
        s1.pack.wait_cached("orders", transfer)
        s1.pack_and_weigh(transfer, 3)
        labels = s1.pack.printer.wait_for_jobs(2)  # the sale's label, then the transfer's
        assert len(labels) == 2 and f"TRANSFER {transfer}" in labels[1].decode()
        assert f"PO:{transfer}" in labels[1].decode()  # the barcode the receiving dock scans
        s2.dock.wait_cached("purchase-orders", transfer)
        wait_until(lambda: status(company.central, f"/api/transfers/{transfer}")
                   == "in_transit", 60, "the transfer in transit at the centre")  # fmt: skip
        s2.receive(transfer, 3, "R-01")
        wait_until(lambda: status(s1.hub, f"/api/transfers/{transfer}") == "received", 60,
                   "s1 told its transfer was received")  # fmt: skip

        # The bridge cut: the central broker is down; both sites go on receiving and packing.
        company.central_broker.stop()
        for floor in (s1, s2):
            wait_until(lambda f=floor: f.hub.api("GET", "/api/overview")["centre"]["state"]
                       == "down", 30, f"{floor.site.id} shows its link down")  # fmt: skip
        s1.receive(s1.purchase_order(5, "2.50"), 5)
        s2.pack_and_weigh(s2.order(2), 2)
        s2.receive(s2.purchase_order(4, "3.50"), 4)
        s1.pack_and_weigh(s1.order(1), 1)
        s1.wait_applied()
        s2.wait_applied()
        company.central_broker.start()

        # Site s1's hub killed: its dock and bench go on from their caches and journals.
        po, order = s1.purchase_order(6, "2.75"), s1.order(2)
        s1.hub.kill()
        s1.receive(po, 6)
        s1.pack_and_weigh(order, 2)
        s1.hub.start()

        # The central hub killed while both sites work.
        order = s2.order(1)
        company.central.kill()
        s2.pack_and_weigh(order, 1)
        s1.receive(s1.purchase_order(2, "2.00"), 2)
        company.central.start()

        s1.wait_applied()
        s2.wait_applied()
        company.wait_links("up")
        wait_until(company.caught_up, 90, "the centre applied every site's movements")
        assert_centre_equals_sites(company)

        # Nothing lost or doubled: each site's stock is exactly what its benches did.
        assert s1.mugs() == {"A-01": 12 - 2 - 3 + 5 - 1 + 6 - 2 + 2}
        assert s2.mugs() == {"A-01": 8 - 1 - 2 + 4 - 1, "R-01": 3}
        for floor in (s1, s2):
            shipped = floor.hub.query("SELECT count(*) FROM events WHERE type = 'shipment'")
            assert shipped == [(len(floor.pack.events("shipment")),)]
        # The transfer closed on both sides: received, s1's transit booked out, and s2's
        # three mugs at s1's FIFO cost (the oldest layer, 2.00).
        for hub in (company.central, s1.hub, s2.hub):
            assert status(hub, f"/api/transfers/{transfer}") == "received"
        assert s2.hub.api("GET", f"/api/purchase-orders/{transfer}")["status"] == "received"
        assert s1.site.balances()[("MUG-1", f"transit-{transfer}", "", "")] == 0
        value = company.central.query("SELECT sum(value) FROM site_balances WHERE site = 's2' "
                                      "AND location = 'R-01'")  # fmt: skip
        assert value == [(6_000_000,)]
        # Closed: no retained message of it is left on either site's broker (its report,
        # or the centre's message its bridge brought), even with the central broker
        # stopped while the emptying crossed (the site empties its own copy).
        for floor in (s1, s2):
            wait_until(lambda f=floor: retained_transfers(f.site) == [], 30,
                       f"{floor.site.id}'s broker without retained transfers")  # fmt: skip


def retained_transfers(site: Site) -> list[str]:
    """Topics of transfers retained on the site's broker, both ways. Read up to the site
    hub's retained status: one SUBSCRIBE, whose filters' retained messages come in order."""
    topics = Topics(site.id)
    watcher = TestClient(site.broker.port, "watch_site", PASSWORD.format("watch_site"))
    try:
        watcher.client.subscribe([(topics.transfer_report("+"), 1),
                                  (topics.transfer_order("+"), 1), (topics.hub_status, 1)])  # fmt: skip
        found = []
        while (message := watcher.next(timeout=10)).topic != topics.hub_status:
            found.append(message.topic)
        return found
    finally:
        watcher.close()
