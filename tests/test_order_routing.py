"""Orders routed by a central hub to its sites (issue 15), with the real central ingest,
the real site ingest and the real web app on real SQLite files: what the centre sends is
taken from its outbox and delivered to the site's ingest on the bridge's topic, and what
the site sends back the same way, as the Mosquitto bridge carries it (tests/test_multisite.py
does it with real brokers and processes)."""

from datetime import timedelta

import msgspec
import pytest

from hub import orders, routing, store, users
from hub.central import CentralIngest
from hub.changes import ChangeFeed
from hub.ingest import Incoming, Ingest
from hub.web import create_app
from protocol.envelope import encode, encode_event, utc_now
from protocol.events import Move, Receipt
from protocol.messages import (
    AppliedMovement,
    Order,
    OrderLine,
    OrderState,
    Product,
    Stock,
    TransferLayer,
    TransferReport,
    TransferShippedLine,
)
from protocol.topics import Topics
from tests.domain_helpers import open_ledger
from tests.postgres import ledger_target
from tests.test_central_ingest import TS
from tests.webapp import PASSWORD, TOKEN, login, page_csrf

pytestmark = pytest.mark.hub

BEARER = {"Authorization": f"Bearer {TOKEN}"}
SITES = ["s1", "s2"]


class World:
    """A central hub and two site hubs, wired by hand where the bridge would be."""

    def __init__(self, tmp_path) -> None:
        # The centre on the test run's backend (HUB_TEST_DB), the sites on SQLite.
        self.centre_path = str(ledger_target(tmp_path / "centre.db"))
        conn = open_ledger(tmp_path / "centre.db")
        self.centre = CentralIngest(conn, Topics("hq"), SITES, resend_after_s=2.0)
        self.sites: dict[str, Ingest] = {}
        self.read = {"hq": 0}
        self.seq = dict.fromkeys(SITES, 0)
        for site in SITES:
            site_conn = store.connect(tmp_path / f"{site}.db")
            store.create_schema(site_conn)
            for sku in ("MUG-1", "TEE-2"):
                store.product_upsert(site_conn, sku, sku, encode(Product(sku=sku, name=sku)),
                                     utc_now().isoformat())  # fmt: skip
            site_conn.commit()
            self.sites[site] = Ingest(site_conn, Topics(site))
            self.read[site] = 0
            # The bridge's notification: the site's link is up.
            self.centre.process([Incoming(Topics(site).centre_link, b"1")])
        app = create_app(self.centre_path, Topics("hq"), [TOKEN], changes=ChangeFeed(),
                         sites=SITES, data_dir=tmp_path)  # fmt: skip
        self.api = app.test_client()

    def stock(self, site: str, sku: str, qty: int, type_: str = "receipt", when=TS) -> None:
        """The site's movement of `qty` units (in; out if negative), as the centre gets it."""
        self.seq[site] += 1
        m = AppliedMovement(ledger_seq=self.seq[site], station="dock-1", epoch="e1",
                            seq=self.seq[site], type=type_, sku=sku, location="A-01",
                            delta=qty, ts=when, hub_ts=when, value_micros=qty * 1_000_000)  # fmt: skip
        self.centre.process([Incoming(Topics(site).movements, encode(m))])

    def movement(self, site: str, sku: str, qty: int, location: str, type_: str,
                 transfer: str | None = None) -> None:
        """One movement of the site at `location` (a receipt of `transfer`, if named)."""
        self.seq[site] += 1
        m = AppliedMovement(ledger_seq=self.seq[site], station="dock-1", epoch="e1",
                            seq=self.seq[site], type=type_, sku=sku, location=location,
                            delta=qty, ts=TS, hub_ts=TS, value_micros=qty * 1_000_000,
                            transfer=transfer)  # fmt: skip
        assert self.centre.process([Incoming(Topics(site).movements, encode(m))]).dead == 0

    def _drain(self, conn, key: str) -> list[tuple[str, bytes]]:
        rows = store.outbox_read(conn, self.read[key], 1000)
        if rows:
            self.read[key] = rows[-1][0]
        return [(topic, payload) for _id, topic, payload, _retain in rows]

    def deliver(self) -> None:
        """The bridge: the centre's orders to the sites, the sites' order states and stock
        messages back, until nothing more moves."""
        while True:
            moved = 0
            for topic, payload in self._drain(self.centre.conn, "hq"):
                for site, ingest in self.sites.items():
                    if topic == Topics(site).centre_orders:
                        ingest.process([Incoming(topic, payload)])
                        moved += 1
            for site, ingest in self.sites.items():
                for topic, payload in self._drain(ingest.conn, site):
                    if topic == Topics(site).order_state or topic.startswith(
                            Topics(site).stock("")):  # fmt: skip
                        self.centre.process([Incoming(topic, payload)])
                        moved += 1
            if not moved:
                return

    def where(self, order: str) -> tuple[str, str]:
        found = self.api.get(f"/api/sites/orders/{order}", headers=BEARER).json
        return found["site"], found["state"]

    def status_at(self, site: str, order: str) -> str | None:
        found = store.order_get(self.sites[site].conn, order)
        return found[0] if found else None


@pytest.fixture
def world(tmp_path):
    world = World(tmp_path)
    yield world
    world.centre.conn.close()
    for ingest in world.sites.values():
        ingest.conn.close()


def order(order_id: str, *lines: tuple[str, int]) -> Order:
    return Order(order=order_id, lines=[OrderLine(sku=sku, qty=qty) for sku, qty in lines])


def post(world: World, *orders: Order):
    return world.api.post("/api/orders", headers=BEARER,
                          data=msgspec.json.encode(list(orders)),
                          content_type="application/json")  # fmt: skip


def test_the_site_that_fills_the_order_gets_it_else_the_most_lines_then_the_first():
    stock = {"s1": {"MUG-1": 2, "TEE-2": 9}, "s2": {"MUG-1": 10}}
    choose = routing.choose
    assert choose(order("A", ("MUG-1", 5)), stock, SITES).site == "s2"
    assert choose(order("B", ("MUG-1", 1)), stock, SITES).site == "s1"  # both: the first
    assert choose(order("B", ("MUG-1", 1)), stock, ["s2", "s1"]).site == "s2"
    most = choose(order("C", ("MUG-1", 5), ("TEE-2", 20)), stock, SITES)
    assert (most.site, most.reason) == ("s2", "it can fill 1 of 2 lines, the most of any site")
    assert choose(order("D", ("CAP-3", 1)), stock, SITES).site == "s1"  # nobody: the first


GIFT = {"GIFT": [("MUG-1", 2), ("TEE-2", 1)]}  # a gift box: two mugs and a tee


def test_a_kit_and_its_parts_own_line_are_not_both_filled_from_the_same_parts():
    # s1's parts build one box, or fill three mugs, not both (five mugs); s2 has them.
    stock = {"s1": {"MUG-1": 4, "TEE-2": 1}, "s2": {"MUG-1": 5, "TEE-2": 1}}
    gift_and_mugs = order("A", ("GIFT", 1), ("MUG-1", 3))
    assert routing.fills(gift_and_mugs.lines, stock["s1"], GIFT) == 1
    choice = routing.choose(gift_and_mugs, stock, SITES, kits=GIFT)
    assert (choice.site, choice.reason) == ("s2", "it can fill the whole order")


def test_two_kits_that_share_a_part_count_it_once():
    mugs = {"GIFT": GIFT["GIFT"], "PAIR": [("MUG-1", 2)]}
    stock = {"s1": {"MUG-1": 3, "TEE-2": 1}, "s2": {"MUG-1": 4, "TEE-2": 1}}
    both = order("B", ("GIFT", 1), ("PAIR", 1))
    assert routing.fills(both.lines, stock["s1"], mugs) == 1  # four mugs needed, three there
    assert routing.choose(both, stock, SITES, kits=mugs).site == "s2"


def test_built_kits_go_first_and_kits_promised_beyond_them_take_their_parts():
    assert routing.fills(order("C", ("GIFT", 3)).lines, {"GIFT": 2, "MUG-1": 2, "TEE-2": 1},
                         GIFT) == 1  # two built, the third from parts  # fmt: skip
    # Two boxes promised to other orders, one built: the other takes two mugs and the tee.
    promised = {"GIFT": -1, "MUG-1": 3, "TEE-2": 1}
    assert routing.fills(order("D", ("GIFT", 1)).lines, promised, GIFT) == 0
    assert routing.fills(order("E", ("MUG-1", 1)).lines, promised, GIFT) == 1
    assert routing.fills(order("F", ("MUG-1", 2)).lines, promised, GIFT) == 0


def test_stock_a_sites_own_orders_hold_is_not_routed_to_again(world):
    world.stock("s1", "MUG-1", 10)
    world.stock("s2", "MUG-1", 6)
    # s1's own shop took 7 of its 10: an order on s1's intake, which the centre never sees;
    # s1's stock message says what its orders hold.
    s1 = world.sites["s1"]
    assert s1.process([Incoming(Topics("s1").order_intake,
                                encode(order("OWN-1", ("MUG-1", 7))))]).dead == 0  # fmt: skip
    world.deliver()
    assert post(world, order("SO-1", ("MUG-1", 5))).status_code == 201
    world.deliver()
    assert world.where("SO-1") == ("s2", "open")  # s1 has 3 left that nobody holds
    # SO-1 taken at s2 is both routed there and held there: counted once, 1 left.
    assert post(world, order("SO-2", ("MUG-1", 2))).status_code == 201
    world.deliver()
    assert world.where("SO-2") == ("s1", "open")
    assert post(world, order("SO-3", ("MUG-1", 1))).status_code == 201
    world.deliver()
    assert world.where("SO-3") == ("s1", "open")  # s1: 10 - 7 - 2 = 1; s2: 6 - 5 = 1


def test_orders_at_the_centre_go_to_the_site_with_the_stock_and_report_back(world):
    world.stock("s1", "MUG-1", 2)
    world.stock("s2", "MUG-1", 10)
    assert post(world, order("SO-1", ("MUG-1", 5))).status_code == 201
    world.deliver()
    assert world.where("SO-1") == ("s2", "open")
    assert world.status_at("s2", "SO-1") == "open" and world.status_at("s1", "SO-1") is None
    # What SO-1 takes at s2 is no longer there for the next order: s2 has 5 left.
    assert post(world, order("SO-2", ("MUG-1", 6))).status_code == 201
    world.deliver()
    assert world.where("SO-2")[0] == "s1"  # neither fills it: a tie, the first site
    # On the centre's intake topic, as a shop would send it.
    world.centre.process([Incoming(Topics("hq").order_intake,
                                   encode(order("SO-3", ("MUG-1", 4))))])  # fmt: skip
    world.deliver()
    assert world.where("SO-3") == ("s2", "open")
    listed = world.api.get("/api/sites/orders?site=s2", headers=BEARER).json["orders"]
    assert [o["order"] for o in listed] == ["SO-3", "SO-1"]
    assert listed[0]["reason"] == "it can fill the whole order"


def test_a_sites_own_order_is_not_replaced_by_one_from_the_centre(world):
    with store.transaction(world.sites["s1"].conn) as conn:
        orders.save_order(conn, Topics("s1"), order("SO-7", ("TEE-2", 1)), utc_now().isoformat())
    post(world, order("SO-7", ("MUG-1", 1)))
    world.deliver()
    assert world.where("SO-7") == ("s1", "rejected")
    assert "not from the centre" in world.api.get("/api/sites/orders/SO-7", headers=BEARER).json[
        "reason"]
    assert msgspec.json.decode(store.order_get(world.sites["s1"].conn, "SO-7")[1])["lines"][0][
        "sku"] == "TEE-2"


def test_a_site_that_cannot_take_an_order_rejects_it_and_the_centre_shows_why(world):
    assert post(world, order("SO-9", ("GONE-1", 1))).status_code == 201
    world.deliver()
    found = world.api.get("/api/sites/orders/SO-9", headers=BEARER).json
    assert (found["site"], found["state"]) == ("s1", "rejected")
    assert "unknown sku GONE-1" in found["reason"]
    # A rejected order may be routed again by hand; a bad site is refused.
    bad = world.api.post("/api/sites/orders/SO-9/route", headers=BEARER, json={"site": "s9"})
    assert bad.status_code == 422 and "s9" in bad.json["error"]
    missing = world.api.post("/api/sites/orders/NOPE/route", headers=BEARER, json={})
    assert missing.status_code == 404


def test_an_order_not_yet_picked_moves_to_another_site_by_hand(world):
    world.stock("s1", "MUG-1", 10)
    post(world, order("SO-1", ("MUG-1", 2)))
    world.deliver()
    assert world.where("SO-1") == ("s1", "open")
    moved = world.api.post("/api/sites/orders/SO-1/route", headers=BEARER, json={"site": "s2"})
    assert moved.status_code == 200
    assert (moved.json["state"], moved.json["next_site"]) == ("withdrawing", "s2")
    world.deliver()
    assert world.status_at("s1", "SO-1") == "cancelled"
    assert world.status_at("s2", "SO-1") == "open"
    found = world.api.get("/api/sites/orders/SO-1", headers=BEARER).json
    assert (found["site"], found["state"], found["reason"]) == ("s2", "open", "chosen by hand")


def test_an_order_cancelled_at_the_centre_is_cancelled_at_its_site(world):
    world.stock("s1", "MUG-1", 10)
    post(world, order("SO-1", ("MUG-1", 2)))
    post(world, order("SO-2", ("GONE-1", 1)))
    world.deliver()
    assert world.where("SO-2") == ("s1", "rejected")
    called_off = world.api.post("/api/sites/orders/SO-1/cancel", headers=BEARER)
    assert called_off.status_code == 200 and called_off.json["state"] == "withdrawing"
    world.deliver()
    assert world.status_at("s1", "SO-1") == "cancelled"
    assert world.where("SO-1") == ("s1", "cancelled")
    assert world.api.post("/api/sites/orders/SO-2/cancel", headers=BEARER).json["state"] == (
        "cancelled")
    again = world.api.post("/api/sites/orders/SO-1/cancel", headers=BEARER)
    assert again.status_code == 409 and "cancelled" in again.json["error"]
    assert world.api.post("/api/sites/orders/NOPE/cancel", headers=BEARER).status_code == 404


def test_an_order_picked_meanwhile_stays_and_cannot_be_moved(world):
    world.stock("s1", "MUG-1", 10)
    post(world, order("SO-1", ("MUG-1", 2)))
    world.deliver()
    # Picking starts at s1 (a good pack scan makes it packing) before the withdrawal lands.

    with store.transaction(world.sites["s1"].conn) as conn:
        orders.mark_packing(conn, Topics("s1"), "SO-1", utc_now().isoformat(), set())
    world.api.post("/api/sites/orders/SO-1/route", headers=BEARER, json={"site": "s2"})
    world.deliver()
    assert world.status_at("s1", "SO-1") == "packing" and world.status_at("s2", "SO-1") is None
    assert world.where("SO-1") == ("s1", "packing")
    again = world.api.post("/api/sites/orders/SO-1/route", headers=BEARER, json={"site": "s2"})
    assert again.status_code == 409 and "packing" in again.json["error"]
    replaced = post(world, order("SO-1", ("MUG-1", 3)))
    assert replaced.status_code == 409


def test_a_bad_order_state_or_intake_order_is_a_dead_letter(world):
    result = world.centre.process([
        Incoming(Topics("s1").order_state, b'{"order": "X"}'),
        Incoming(Topics("hq").order_intake, b"not json"),
        Incoming(Topics("hq").order_intake, encode(msgspec.structs.replace(
            order("SO-5", ("MUG-1", 1)), status="shipped"))),
    ])  # fmt: skip
    assert result.dead == 3
    # A state of an order the centre did not route there changes nothing.
    state = OrderState(order="OWN-1", status="shipped", ts=TS)
    world.centre.process([Incoming(Topics("s2").order_state, encode(state))])
    assert store.central_order_get(world.centre.conn, "OWN-1") is None


def test_the_orders_page_shows_where_each_order_is_and_moves_one_by_hand(world):
    world.stock("s2", "MUG-1", 5)
    post(world, order("SO-1", ("MUG-1", 2)))
    world.deliver()
    users.add(world.centre.conn, "sue", "supervisor", PASSWORD)
    users.add(world.centre.conn, "val", "viewer", PASSWORD)
    viewer = world.api.application.test_client()
    assert login(viewer, "val").status_code == 302
    page = viewer.get("/sites/orders").text
    table = page[page.index('id="site-orders"'):]
    assert "SO-1" in table and "it can fill the whole order" in table
    assert "SO-1" not in viewer.get("/sites/orders?site=s1").text.split('id="site-orders"')[1]
    assert "SO-1" in viewer.get("/sites/orders?state=open").text.split('id="site-orders"')[1]
    assert viewer.get("/sites/orders?state=lost").status_code == 400
    refused = viewer.post("/sites/orders/SO-1/route",
                          data={"site": "s1", "csrf_token": page_csrf(viewer, "/sites/orders")})  # fmt: skip
    assert refused.status_code == 403
    sue = world.api.application.test_client()
    assert login(sue, "sue").status_code == 302
    moved = sue.post("/sites/orders/SO-1/route",
                     data={"site": "s1", "csrf_token": page_csrf(sue, "/sites/orders")})  # fmt: skip
    assert moved.status_code == 302
    world.deliver()
    assert world.where("SO-1") == ("s1", "open")
    missing = sue.post("/sites/orders/NOPE/route",
                       data={"site": "s1", "csrf_token": page_csrf(sue, "/sites/orders")})  # fmt: skip
    assert missing.status_code == 404


def test_company_reorder_moves_a_sites_surplus_before_buying(world):
    today = TS.date() + timedelta(days=30)
    world.stock("s1", "MUG-1", 100)
    for day in range(10):  # 9 a day over the last 10 days: 1 a day over the 90-day window
        world.stock("s1", "MUG-1", -9, "shipment", TS + timedelta(days=21 + day))
    world.stock("s2", "MUG-1", 30)  # no demand at s2: all but 1 (its target) is surplus
    world.stock("s2", "TEE-2", 5)

    def suggestions(query: str = "") -> list[dict]:
        return world.api.get(f"/api/sites/reorder?today={today}{query}",
                             headers=BEARER).json["suggestions"]  # fmt: skip

    (row,) = suggestions()
    assert (row["sku"], row["site"], row["on_hand"], row["mean_daily_demand"]) == (
        "MUG-1", "s1", 10, 1.0)
    assert (row["reorder_point"], row["target"], row["need"]) == (32, 46, 36)
    assert (row["move"], row["buy"]) == ([{"from": "s2", "qty": 29}], 7)
    (short,) = suggestions("&lead_days=7")
    assert (short["need"], short["move"], short["buy"]) == (17, [{"from": "s2", "qty": 17}], 0)
    # An order routed to s2 takes 20 of its surplus.
    world.api.post("/api/orders", headers=BEARER, json={"order": "SO-1", "lines": [
        {"sku": "MUG-1", "qty": 20}]})  # fmt: skip
    assert world.where("SO-1")[0] == "s2"
    (row,) = suggestions()
    assert (row["move"], row["buy"]) == ([{"from": "s2", "qty": 9}], 27)
    assert suggestions("&site=s2") == []
    assert world.api.get("/api/sites/reorder?site=s9", headers=BEARER).status_code == 404
    users.add(world.centre.conn, "val", "viewer", PASSWORD)
    viewer = world.api.application.test_client()
    assert login(viewer, "val").status_code == 302
    page = viewer.get(f"/sites/reorder?lead_days=7&today={today}").text
    assert "9 from s2" in page.split('id="site-reorder"')[1]


def test_company_reorder_counts_what_each_site_has_available(world):
    """A site's own orders hold part of its stock and part of it sits in quarantine: its
    stock messages say so, and the company reorder leaves both out, at the site that
    needs and at the site that gives."""
    today = TS.date() + timedelta(days=30)
    world.stock("s1", "MUG-1", 100)
    for day in range(10):  # 1 a day over the 90-day window: reorder point 32, target 46
        world.stock("s1", "MUG-1", -9, "shipment", TS + timedelta(days=21 + day))
    world.stock("s2", "MUG-1", 30)
    s1, s2 = world.sites["s1"], world.sites["s2"]
    # s1's shop takes 4 of its 10; s2's takes 5 of its 30 and 6 more went into quarantine.
    for site, own in ((s1, order("OWN-1", ("MUG-1", 4))), (s2, order("OWN-2", ("MUG-1", 5)))):
        assert site.process([Incoming(site.topics.order_intake, encode(own))]).dead == 0
    for site, qty in ((s1, 10), (s2, 30)):
        site.process([Incoming(site.topics.events("dock-1"), encode_event(
            "dock-1", "e1", 1, Receipt(sku="MUG-1", qty=qty, location="A-01"), TS))])  # fmt: skip
    with store.transaction(s2.conn):
        store.location_hold(s2.conn, "Q-1", "damaged, to inspect", TS.isoformat())
    s2.process([Incoming(s2.topics.events("dock-1"), encode_event(
        "dock-1", "e1", 2, Move(sku="MUG-1", qty=6, from_="A-01", to="Q-1"), TS))])  # fmt: skip
    world.deliver()

    (row,) = world.api.get(f"/api/sites/reorder?today={today}", headers=BEARER).json[
        "suggestions"]  # fmt: skip
    assert (row["site"], row["on_hand"], row["committed"], row["quarantined"]) == (
        "s1", 10, 4, 0)
    assert (row["position"], row["need"]) == (6, 40)
    # s2: 30 - 5 held by its orders - 6 in quarantine = 19 available, 18 over its target 1.
    assert (row["move"], row["buy"]) == ([{"from": "s2", "qty": 18}], 22)


def test_company_reorder_counts_transfers_on_their_way_and_does_not_move_a_surplus_twice(
        world):  # fmt: skip
    """A move the reorder suggests, made into a transfer, is inbound at the receiver and
    promised at the sender from the moment it is made: the next suggestion neither moves
    that surplus again nor buys what is coming; the figures stay so while it is shipped and
    while the receiver's dock scans it in, until it is all there."""
    today = TS.date() + timedelta(days=30)
    world.stock("s1", "MUG-1", 100)
    for day in range(10):  # 1 a day over the 90-day window: reorder point 32, target 46
        world.stock("s1", "MUG-1", -9, "shipment", TS + timedelta(days=21 + day))
    world.stock("s2", "MUG-1", 30)  # no demand at s2: 29 over its target of 1

    def row() -> dict:
        (found,) = world.api.get(f"/api/sites/reorder?today={today}", headers=BEARER).json[
            "suggestions"]  # fmt: skip
        return found

    assert (row()["inbound"], row()["move"], row()["buy"]) == (0, [{"from": "s2", "qty": 29}], 7)
    made = world.api.post("/api/transfers", headers=BEARER, json={
        "from_site": "s2", "to_site": "s1", "lines": [{"sku": "MUG-1", "qty": 20}]})  # fmt: skip
    (transfer,) = made.json["saved"]
    # s1: 10 on hand + 20 coming = 30, needs 16; s2: 30 - 20 promised = 10, 9 to spare.
    expected = {"on_hand": 10, "inbound": 20, "position": 30, "need": 16,
                "move": [{"from": "s2", "qty": 9}], "buy": 7}  # fmt: skip
    assert {key: row()[key] for key in expected} == expected

    # s2 ships it: 20 leave its shelf for its transit (held: its stock message says so).
    world.movement("s2", "MUG-1", -20, "A-01", "shipment")
    world.movement("s2", "MUG-1", 20, f"transit-{transfer}", "shipment")
    stock = Stock(sku="MUG-1", on_hand=30, quarantined=20, available=10,
                  ledger_seq=world.seq["s2"], ts=TS)  # fmt: skip
    world.centre.process([Incoming(Topics("s2").stock("MUG-1"), encode(stock))])
    shipped = TransferReport(transfer=transfer, site="s2", state="shipped", lines=[
        TransferShippedLine(sku="MUG-1", qty=20, layers=[
            TransferLayer(qty=20, unit_cost_micros=1_000_000, received=TS.isoformat())])])  # fmt: skip
    world.centre.process([Incoming(Topics("s2").transfer_report(transfer), encode(shipped))])
    assert world.api.get(f"/api/transfers/{transfer}", headers=BEARER).json["status"] == (
        "in_transit")
    assert {key: row()[key] for key in expected} == expected

    # s1's dock scans 12 of them in: on hand now, no longer inbound.
    world.movement("s1", "MUG-1", 12, "R-01", "receipt", transfer)
    expected |= {"on_hand": 22, "inbound": 8}
    assert {key: row()[key] for key in expected} == expected
    users.add(world.centre.conn, "val", "viewer", PASSWORD)
    viewer = world.api.application.test_client()
    assert login(viewer, "val").status_code == 302
    table = viewer.get(f"/sites/reorder?today={today}").text.split('id="site-reorder"')[1]
    head = table.split("</thead>")[0]
    cells = table.split("<tbody>")[1].split("</tr>")[0].split("<td")
    column = ["SKU", "Site", "On hand", "Committed", "Quarantined", "Inbound", "Position"]
    assert all(f"<th>{name}</th>" in head for name in column)
    assert ">8<" in cells[column.index("Inbound") + 1] and ">30<" in cells[column.index("Position") + 1]


def test_a_kit_order_goes_to_the_site_whose_parts_build_it_as_the_centres_catalog_defines(
        world):  # fmt: skip
    """The centre learns a kit's parts from its catalog import (the company's catalog file,
    as imported at the sites); a site that has no kit built but the parts for it fills a
    kit order, as its bench packs a kit from its parts."""
    imported = world.api.post("/api/products.csv", headers=BEARER, content_type="text/csv",
                              data="sku,name,kit\nMUG-1,Mug,\nTEE-2,Tee,\n"
                                   "GIFT,Gift box,MUG-1*2;TEE-2\n")  # fmt: skip
    assert imported.status_code == 201, imported.json
    world.stock("s1", "MUG-1", 10)  # mugs, but no tee: no gift box at s1
    world.stock("s2", "MUG-1", 4)
    world.stock("s2", "TEE-2", 1)  # parts of one gift box (mugs for two)
    assert post(world, order("SO-1", ("GIFT", 1))).status_code == 201
    assert world.where("SO-1") == ("s2", "routed")
    found = world.api.get("/api/sites/orders/SO-1", headers=BEARER).json
    assert found["reason"] == "it can fill the whole order"
    # Two boxes: s2's parts build one only; the kit routed there already takes it.
    assert post(world, order("SO-2", ("GIFT", 1))).status_code == 201
    assert world.where("SO-2")[0] == "s1"  # neither fills it: the first site
    world.stock("s1", "TEE-2", 3)  # s1 builds 3, one of them for SO-2: 2 more
    assert post(world, order("SO-3", ("GIFT", 2))).status_code == 201
    found = world.api.get("/api/sites/orders/SO-3", headers=BEARER).json
    assert (found["site"], found["reason"]) == ("s1", "it can fill the whole order")
    assert post(world, order("SO-4", ("GIFT", 3))).status_code == 201
    assert world.api.get("/api/sites/orders/SO-4", headers=BEARER).json["reason"] != (
        "it can fill the whole order")


def test_routing_prefers_sites_with_fresh_figures_and_says_how_old_the_others_are(world):
    world.stock("s1", "MUG-1", 10)
    world.stock("s2", "MUG-1", 10)
    world.stock("s1", "TEE-2", 5)
    # s1's bridge went down: the centre knows its stock as of then, and says so.
    world.centre.process([Incoming(Topics("s1").centre_link, b"0")])
    assert post(world, order("SO-1", ("MUG-1", 3))).status_code == 201
    found = world.api.get("/api/sites/orders/SO-1", headers=BEARER).json
    # Both fill it; s1 comes first in [[sites]], but only s2's figures are fresh.
    assert (found["site"], found["reason"]) == ("s2", "it can fill the whole order")
    figures = {f["site"]: f for f in found["figures"]}
    assert (figures["s2"]["fresh"], figures["s2"]["link"]) == (True, "up")
    assert (figures["s1"]["fresh"], figures["s1"]["link"]) == (False, "down")
    assert figures["s1"]["age_s"] >= 0
    # Only s1 has the TEE-2: routed there by what is known, and the reason says so.
    assert post(world, order("SO-2", ("TEE-2", 2))).status_code == 201
    found = world.api.get("/api/sites/orders/SO-2", headers=BEARER).json
    assert found["site"] == "s1"
    assert found["reason"].startswith("it can fill the whole order, by figures ")
    assert found["reason"].endswith(" old (its link to the centre is down)")
    listed = world.api.get("/api/sites/orders", headers=BEARER).json
    assert {f["site"]: f["fresh"] for f in listed["figures"]} == {"s1": False, "s2": True}
    # Where a supervisor moves an order by hand, the page says it too.
    users.add(world.centre.conn, "sue", "supervisor", PASSWORD)
    sue = world.api.application.test_client()
    assert login(sue, "sue").status_code == 302
    page = sue.get("/sites/orders").text
    assert "s1 by figures" in page.split('id="stale-figures"')[1].split("</p>")[0]
    assert "(its link to the centre is down))</option>" in page


def test_stock_a_site_holds_in_quarantine_is_not_routed_to(world):
    # s1's movements as the centre gets them: a receipt, then 8 moved (out, and in at Q-1).
    for qty in (10, -8, 8):
        world.stock("s1", "MUG-1", qty)
    world.stock("s2", "MUG-1", 6)
    s1 = world.sites["s1"]
    with store.transaction(s1.conn):
        store.location_hold(s1.conn, "Q-1", "damaged, to inspect", TS.isoformat())
    s1.process([Incoming(s1.topics.events("dock-1"), encode_event("dock-1", "e1", seq, data, TS))
                for seq, data in ((1, Receipt(sku="MUG-1", qty=10, location="A-01")),
                                  (2, Move(sku="MUG-1", qty=8, from_="A-01", to="Q-1")))])  # fmt: skip
    world.deliver()  # s1's stock message: 8 of its 10 quarantined
    assert post(world, order("SO-1", ("MUG-1", 5))).status_code == 201
    world.deliver()
    assert world.where("SO-1") == ("s2", "open")  # s1 comes first, but has 2 to sell
