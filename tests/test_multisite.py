"""Many sites and a central hub (issue 15): two site brokers and hubs bridged by Mosquitto
to a central broker and hub, all real processes. The centre applies each site's movements
exactly once by (site, ledger_seq) through a bridge cut, a site hub killed and a central
hub killed, and its replay of each site equals the site's own figures."""

import json
import os
import signal
import urllib.error
from decimal import Decimal

import msgspec
import pytest

from kit.waiting import wait_until
from protocol.events import Receipt, Shipment, ShipmentLine
from protocol.messages import ResendMovements
from protocol.topics import Topics
from tests.company import PASSWORD, SKUS, Company
from tests.mqtt_client import TestClient

pytestmark = pytest.mark.slow


def assert_centre_equals_sites(company: Company) -> None:
    own = company.check()
    assert own.returncode == 0, own.stdout + own.stderr
    assert json.loads(own.stdout)["site_mismatches"] == []
    for site in company.sites.values():
        assert company.centre_balances(site.id) == site.balances()
        count = company.central.query(
            "SELECT count(*), count(DISTINCT ledger_seq) FROM site_movements WHERE site = ?",
            (site.id,),
        )[0]
        assert count == (site.ledger_position(), site.ledger_position())
        checked = company.check(site.id)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert json.loads(checked.stdout)["differences"] == []


def test_centre_follows_both_sites_through_outages(tmp_path):
    with Company(tmp_path) as company:
        s1, s2 = company.sites["s1"], company.sites["s2"]
        company.wait_links("up")
        s1.events(20)
        s2.events(15)
        company.wait_caught_up()
        assert_centre_equals_sites(company)

        assert s1.hub.api("GET", "/api/overview")["centre"]["state"] == "up"

        # The bridge cut: the central broker stops; both sites go on working, and show it.
        company.central_broker.stop()
        wait_until(lambda: s1.hub.api("GET", "/api/overview")["centre"]["state"] == "down",
                   30, "site s1 shows its link to the centre down")  # fmt: skip
        s1.events(25)
        s2.events(10)
        s1.wait_applied()
        s2.wait_applied()
        company.central_broker.start()

        # A site hub killed while its station goes on; back later.
        s1.hub.kill()
        s1.events(10)
        s1.hub.start()

        # The central hub killed while both sites go on.
        company.central.kill()
        s1.events(5)
        s2.events(12)
        company.central.start()

        company.wait_links("up")
        company.wait_caught_up()
        assert_centre_equals_sites(company)
        # A restarted site hub says "online" again once its bridge is up (which caught_up
        # proves): what it said while the bridge was connecting may not have crossed (see
        # the next test). Only the centre's applying is waited for.
        wait_until(lambda: {r["hub"] for r in company.site_rows().values()} == {"online"}, 30,
                   "both site hubs online at the centre")  # fmt: skip
        sites = company.site_rows()
        assert all(r["lag_s"] == 0 and r["held"] == 0 for r in sites.values())
        stock = company.central.api("GET", "/api/sites/stock?site=s1")["stock"]
        assert {i["sku"]: i["on_hand"] for i in stock} == _on_hand_by_sku(s1.balances())
        total = company.central.api("GET", "/api/sites/stock")["stock"]
        both = _on_hand_by_sku(s1.balances())
        for sku, qty in _on_hand_by_sku(s2.balances()).items():
            both[sku] = both.get(sku, 0) + qty
        assert {i["sku"]: i["on_hand"] for i in total} == both


def test_a_site_hub_back_while_its_bridge_connects_is_online_at_the_centre(tmp_path):
    """What a site publishes while its bridge to the centre is connecting never crosses:
    Mosquitto takes the local retained messages when an attempt starts (here the killed
    hub's will, offline) and forwards what comes once it is connected. A site hub that
    comes back in that window (a loaded machine makes the TLS handshake slow; here the
    central broker is stopped in it) says online again when its bridge is up."""
    with Company(tmp_path, site_ids=("s1",)) as company:
        site = company.sites["s1"]
        company.wait_links("up")
        site.events(3)
        company.wait_caught_up()
        company.central_broker.stop()
        wait_until(lambda: site.hub.api("GET", "/api/overview")["centre"]["state"] == "down",
                   30, "site s1 shows its link to the centre down")  # fmt: skip
        site.hub.kill()  # its will, offline, is the site broker's retained status now
        log = site.broker.layout.dir / "mosquitto.log"
        tries = log.read_text().count("Connecting bridge (step 2)")
        company.central_broker.start()
        central = company.central_broker.process.pid
        os.kill(central, signal.SIGSTOP)  # the bridge's next attempt hangs in its handshake
        try:
            # Within the bridge's restart_timeout (30 s at most between attempts).
            wait_until(lambda: log.read_text().count("Connecting bridge (step 2)") > tries, 60,
                       "the bridge trying the central broker again")  # fmt: skip
            site.hub.start()  # online, while the bridge is connecting
        finally:
            os.kill(central, signal.SIGCONT)
        site.events(2)
        company.wait_links("up")
        company.wait_caught_up()
        wait_until(lambda: company.site_rows()["s1"]["hub"] == "online", 30,
                   "the site hub online at the centre")  # fmt: skip


def _on_hand_by_sku(balances: dict) -> dict[str, int]:
    found: dict[str, int] = {}
    for (sku, *_rest), qty in balances.items():
        found[sku] = found.get(sku, 0) + qty
    return found


def test_a_gap_asks_the_site_to_resend_and_is_filled(tmp_path):
    """Movements dropped on the way (published straight to the central broker with a hole
    in ledger_seq) are held; the centre asks the site, whose hub republishes them."""
    with Company(tmp_path, site_ids=("s1",)) as company:
        site = company.sites["s1"]
        company.wait_links("up")
        site.events(12)
        company.wait_caught_up()
        # Stop the bridge's deliveries reaching the centre for a while: stop the site's
        # bridge by cutting the central broker, then make movements at the site...
        company.central_broker.stop()
        site.events(8)
        site.wait_applied()
        # ...and lose them: the site broker's queue for the bridge goes with its
        # persistence (the worst case of mosquitto#2415: a bridge that drops its queue).
        subscribed = site.hub.proc.log_since_start().count("hub subscribed")
        site.broker.kill()
        (site.broker.layout.data / "mosquitto.db").unlink(missing_ok=True)
        site.broker.start()
        company.central_broker.start()
        wait_until(lambda: site.hub.proc.log_since_start().count("hub subscribed") > subscribed,
                   30, "the site hub back on its broker")  # fmt: skip
        site.events(3)  # after the hole: held at the centre until the resend fills it
        watcher = TestClient(site.broker.port, "watch_site", PASSWORD.format("watch_site"))
        watcher.subscribe(Topics("s1").resend_movements)
        try:
            request = watcher.next(Topics("s1").resend_movements, timeout=60)
        finally:
            watcher.close()
        assert msgspec.json.decode(request.payload, type=ResendMovements).from_ > 1
        company.wait_caught_up()
        assert_centre_equals_sites(company)


def test_orders_entered_at_the_centre_reach_a_sites_stations_and_move_by_hand(tmp_path):
    """An order posted to the central hub goes over the bridge to the site whose stock
    fills it; the site's stations get it on orders/{order} as any order; its state comes
    back to the centre; moved by hand, the first site cancels it and the other takes it."""
    with Company(tmp_path) as company:
        s1, s2 = company.sites["s1"], company.sites["s2"]
        for site in (s1, s2):
            site.hub.api("POST", "/api/products", [{"sku": sku, "name": sku} for sku in SKUS])
        company.wait_links("up")
        s1.events(3)
        s2.events(12)
        company.wait_caught_up()
        stock = {i["sku"]: {p["site"]: p["on_hand"] for p in i["sites"]}
                 for i in company.central.api("GET", "/api/sites/stock")["stock"]}  # fmt: skip
        sku, parts = max(stock.items(), key=lambda item: item[1].get("s2", 0))
        assert parts["s2"] > parts.get("s1", 0)  # only s2 fills it
        watcher = TestClient(s2.broker.port, "watch_site", PASSWORD.format("watch_site"))
        watcher.subscribe(Topics("s2").order("SO-1"))
        try:
            company.central.api("POST", "/api/orders",
                                {"order": "SO-1", "lines": [{"sku": sku, "qty": parts["s2"]}]})  # fmt: skip
            seen = watcher.next(Topics("s2").order("SO-1"), timeout=60)
        finally:
            watcher.close()
        assert json.loads(seen.payload)["lines"][0]["sku"] == sku  # as the pack stations see it
        wait_until(lambda: _routed(company, "SO-1") == ("s2", "open"), 60, "SO-1 open at s2")
        assert s2.hub.api("GET", "/api/orders/SO-1")["status"] == "open"

        company.central.api("POST", "/api/sites/orders/SO-1/route", {"site": "s1"})
        wait_until(lambda: _routed(company, "SO-1") == ("s1", "open"), 60, "SO-1 moved to s1")
        assert s2.hub.api("GET", "/api/orders/SO-1")["status"] == "cancelled"
        assert s1.hub.api("GET", "/api/orders/SO-1")["status"] == "open"


def _routed(company: Company, order: str) -> tuple[str, str]:
    found = company.central.api("GET", f"/api/sites/orders/{order}")
    return found["site"], found["state"]


def test_a_transfer_goes_from_one_site_to_the_other_and_closes_on_both(tmp_path):
    """Made at the centre, it crosses both bridges: packed and shipped at s1 (in transit
    at its FIFO cost), received at s2 at s1's cost while the centre is out of reach, booked
    out at s1 once the line is back; the centre's replay still equals each site."""
    with Company(tmp_path) as company:
        s1, s2 = company.sites["s1"], company.sites["s2"]
        company.wait_links("up")
        for site in (s1, s2):
            site.hub.api("POST", "/api/products", [{"sku": "MUG-1", "name": "Mug"}])
        s1.publish(Receipt(sku="MUG-1", qty=4, location="A-01", unit_cost=Decimal("2.00")))
        s1.publish(Receipt(sku="MUG-1", qty=6, location="A-01", unit_cost=Decimal("3.00")))
        company.wait_caught_up()  # the centre makes transfers of what it knows a site has
        made = company.central.api("POST", "/api/transfers", {
            "from_site": "s1", "to_site": "s2", "lines": [{"sku": "MUG-1", "qty": 7}]})  # fmt: skip
        (transfer,) = made["saved"]
        wait_until(lambda: _status(s1.hub, f"/api/orders/{transfer}") == "open", 60,
                   "the transfer's order at s1")  # fmt: skip
        s1.publish(Shipment(order=transfer, lines=[
            ShipmentLine(sku="MUG-1", qty=7, location="A-01")]))  # fmt: skip
        wait_until(lambda: _status(s2.hub, f"/api/purchase-orders/{transfer}") == "open", 60,
                   "the transfer to receive at s2")  # fmt: skip
        shown = company.central.api("GET", f"/api/transfers/{transfer}")
        assert (shown["status"], shown["value_shipped"]) == ("in_transit", "17.00")
        assert s2.hub.api("GET", "/api/transfers")["transfers"][0]["status"] == "in_transit"
        # Received while the line to the centre is down: the report waits in s2's bridge.
        company.central_broker.stop()
        wait_until(lambda: s2.hub.api("GET", "/api/overview")["centre"]["state"] == "down",
                   30, "site s2 shows its link to the centre down")  # fmt: skip
        s2.publish(Receipt(sku="MUG-1", qty=7, location="R-01", po=transfer))
        s2.wait_applied()
        assert s2.hub.api("GET", f"/api/purchase-orders/{transfer}")["status"] == "received"
        assert _status(s1.hub, f"/api/transfers/{transfer}") == "in_transit"
        company.central_broker.start()
        wait_until(lambda: _status(s1.hub, f"/api/transfers/{transfer}") == "received", 60,
                   "s1 told the transfer was received")  # fmt: skip
        company.wait_caught_up()
        assert_centre_equals_sites(company)
        transit = ("MUG-1", f"transit-{transfer}", "", "")
        assert s1.balances()[transit] == 0  # booked out at the sender
        assert s1.balances()[("MUG-1", "A-01", "", "")] == 3
        assert s2.balances()[("MUG-1", "R-01", "", "")] == 7
        value = {(site, sku): qty_value for site, sku, *qty_value in company.central.query(
            "SELECT site, sku, sum(qty), sum(value) FROM site_balances GROUP BY site, sku")}  # fmt: skip
        assert value[("s2", "MUG-1")] == [7, 17_000_000]  # the sender's FIFO value
        assert value[("s1", "MUG-1")] == [3, 9_000_000]


def _status(hub, path: str) -> str | None:
    try:
        return hub.api("GET", path)["status"]
    except urllib.error.HTTPError:
        return None
