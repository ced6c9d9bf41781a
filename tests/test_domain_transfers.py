"""Transfers between sites (issue 15), on real SQLite ledgers: a central hub and two site
hubs (the real hub.central and hub.ingest), their outboxes carried to each other as the
bridges would. The sender's shipment puts the stock in transit at its FIFO cost (no
sale), the receiver's receipts take the sender's cost layers, and the sender books the
transit out once the centre says the transfer was received."""

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest

from hub import catalog, central_transfers, store
from hub.central import CentralIngest
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode, encode_event
from protocol.events import PoClose, Receipt, Shipment, ShipmentLine
from protocol.messages import (
    AppliedMovement,
    Order,
    ResendMovements,
    TransferLine,
    TransferOrder,
    TransferShippedLine,
)
from protocol.topics import Topics
from tests.domain_helpers import micros, open_ledger
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub

TS = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Site:
    def __init__(self, path, site: str) -> None:
        self.conn = open_ledger(path / f"{site}.db")
        self.topics = Topics(site)
        self.ingest = Ingest(self.conn, self.topics)
        self.seq = 0
        catalog.upsert_products(self.conn, self.topics, [msgspec.convert(
            {"sku": "MUG", "name": "Mug", "unit_cost": "9"}, catalog.ProductRecord)])  # fmt: skip

    def events(self, *events) -> None:
        batch = []
        for data in events:
            self.seq += 1
            payload = encode_event("st-1", "e1", self.seq, data, TS)
            batch.append(Incoming(self.topics.events("st-1"), payload))
        assert self.ingest.process(batch).dead == 0, store.dead_letters(self.conn)

    def at(self, location: str) -> tuple[int, int]:
        """(qty, FIFO value in micros) of MUG at `location`."""
        return store.layer_value(self.conn, "MUG", location, "")


class Company:
    """Two sites and the centre; `carry` moves what each published to whom the bridges
    bring it (only the topics they carry)."""

    def __init__(self, path) -> None:
        self.s1, self.s2 = Site(path, "s1"), Site(path, "s2")
        self.centre = CentralIngest(open_ledger(path / "centre.db"), Topics("hq"),
                                    ["s1", "s2"], resend_after_s=60)  # fmt: skip
        self.taken: dict[int, int] = {}
        self.held: list[Incoming] = []

    def carry(self, hold: str | None = None) -> None:
        """`hold`: a topic whose messages wait (in order) for a later carry, as a bridge
        or a gap at the centre delays one site's movements while the other's cross."""
        for _ in range(4):  # there and back again, until nothing new travels
            for site in (self.s1, self.s2):
                new = [m for m in self._new(site.conn, id(site))
                       if m.topic.endswith("/movements") or "/transfers/" in m.topic]  # fmt: skip
                waiting = self.held + [m for m in new if m.topic == hold]
                self.held = [m for m in waiting if m.topic == hold]
                self.centre.process([m for m in waiting + new
                                     if m.topic != hold and m not in self.held])  # fmt: skip
            for site in (self.s1, self.s2):
                prefix = site.topics.transfer_order("")
                mine = [m for m in self._new(self.centre.conn, id(site), peek=True)
                        if m.topic.startswith(prefix)]  # fmt: skip
                result = site.ingest.process(mine)
                assert result.dead == 0, store.dead_letters(site.conn)

    def _new(self, conn, reader: int, peek: bool = False) -> list[Incoming]:
        key = reader * 2 + peek
        rows = store.outbox_read(conn, self.taken.get(key, 0), 10_000)
        if rows:
            self.taken[key] = rows[-1][0]
        return [Incoming(topic, payload) for _id, topic, payload, _retain in rows]

    def transfer(self, qty: int) -> str:
        return self.transfer_of("MUG", qty)

    def transfer_of(self, sku: str, qty: int) -> str:
        wanted = central_transfers.TransferIn(from_site="s1", to_site="s2",
                                              lines=[TransferLine(sku=sku, qty=qty)])  # fmt: skip
        with store.transaction(self.centre.conn):
            return central_transfers.create(self.centre.conn, ["s1", "s2"], wanted,
                                            TS.isoformat())  # fmt: skip

    def centre_at(self, site: str, location: str) -> int:
        """Units of MUG the centre's replay of `site` has at `location`."""
        return sum(qty for sku, at, _lot, _owner, qty, _value in store.site_lines(
            self.centre.conn, site) if sku == "MUG" and at == location)  # fmt: skip

    def state(self, transfer: str) -> dict:
        return central_transfers.transfer_dict(store.transfer_get(self.centre.conn, transfer))


@pytest.fixture
def company(tmp_path):
    made = Company(tmp_path)
    made.s1.events(Receipt(sku="MUG", qty=5, location="A-01", unit_cost=Decimal("2")),
                   Receipt(sku="MUG", qty=5, location="A-01", unit_cost=Decimal("3")))  # fmt: skip
    made.carry()  # the centre knows what s1 has
    yield made
    for conn in (made.s1.conn, made.s2.conn, made.centre.conn):
        conn.close()


def ship(site: Site, transfer: str, qty: int, short: int = 0) -> None:
    site.events(Shipment(order=transfer, lines=[
        ShipmentLine(sku="MUG", qty=qty, location="A-01", short=short)]))  # fmt: skip


def test_a_transfer_travels_in_transit_at_the_senders_fifo_cost_and_closes_on_both_sides(company):
    s1, s2 = company.s1, company.s2
    transfer = company.transfer(7)
    company.carry()
    packed = msgspec.json.decode(store.order_get(s1.conn, transfer)[1], type=Order)
    assert (packed.kind, packed.to_site, packed.lines[0].qty) == ("transfer", "s2", 7)
    assert store.po_get(s2.conn, transfer) is None  # nothing to receive before it ships

    ship(s1, transfer, 7)
    transit = f"transit-{transfer}"
    assert s1.at("A-01") == (3, micros("9"))
    assert s1.at(transit) == (7, micros("16"))  # 5 at 2.00, 2 at 3.00: still ours
    assert sum(d["cogs"] for d in store.daily_totals(s1.conn, "2000", "9999")) == 0  # no sale
    assert store.value_total(s1.conn) == micros("25")
    company.carry()
    assert company.state(transfer)["status"] == "in_transit"
    assert company.state(transfer)["value_shipped"] == "16.00"
    assert [line[2] for line in store.po_lines(s2.conn, transfer)] == [7]

    s2.events(Receipt(sku="MUG", qty=4, location="B-01", po=transfer),
              Receipt(sku="MUG", qty=3, location="B-01", po=transfer))  # fmt: skip
    assert s2.at("B-01") == (7, micros("16"))  # the sender's value, layer by layer
    assert [(r["qty"], r["unit_cost"]) for r in _layers(s2)] == [
        (4, "2.00"), (1, "2.00"), (2, "3.00")]  # fmt: skip
    company.carry()
    assert company.state(transfer)["status"] == "received"
    assert s1.at(transit) == (0, 0)  # booked out at the sender once received
    assert s1.at("A-01") == (3, micros("9"))
    state = msgspec.json.decode(store.transfer_get(s1.conn, transfer).payload, type=TransferOrder)
    assert state.status == "received"


def retained(conn, topic: str) -> bytes | None:
    """What the broker keeps on `topic` from this hub: its last retained message sent."""
    rows = [payload for _id, sent, payload, keep in store.outbox_read(conn, 0, 100_000)
            if sent == topic and keep]  # fmt: skip
    return rows[-1] if rows else None


def test_a_closed_transfer_leaves_no_retained_message_behind(company):
    s1, s2 = company.s1, company.s2
    transfer = company.transfer(2)
    company.carry()
    ship(s1, transfer, 2)
    company.carry()
    reports = {site: retained(site.conn, site.topics.transfer_report(transfer)) for site in (s1, s2)}
    assert b"shipped" in reports[s1] and reports[s2] is None  # under way: kept
    s2.events(Receipt(sku="MUG", qty=2, location="B-01", po=transfer))
    company.carry()
    assert company.state(transfer)["status"] == "received" and s1.at(f"transit-{transfer}")[0] == 0
    for site in (s1, s2):  # each site emptied its report and the centre's message on its
        # own broker; the centre emptied its message to each on the central broker
        assert retained(site.conn, site.topics.transfer_report(transfer)) == b""
        assert retained(site.conn, site.topics.transfer_order(transfer)) == b""
        assert retained(company.centre.conn, site.topics.transfer_order(transfer)) == b""
    # A report emptied before the transfer is received is refused (a dead letter).
    other = company.transfer(1)
    company.carry()
    result = company.centre.process([Incoming(s1.topics.transfer_report(other), b"")])
    assert result.dead == 1
    assert retained(company.centre.conn, s1.topics.transfer_order(other)) != b""


def test_a_transfer_picked_from_two_bins_is_shipped_in_full(company):
    s1 = company.s1
    s1.events(Receipt(sku="MUG", qty=2, location="B-01", unit_cost=Decimal("4")))
    transfer = company.transfer(5)
    company.carry()
    s1.events(Shipment(order=transfer, lines=[ShipmentLine(sku="MUG", qty=3, location="A-01"),
                                              ShipmentLine(sku="MUG", qty=2, location="B-01")]))  # fmt: skip
    company.carry()
    shown = company.state(transfer)
    assert shown["lines"] == [{"sku": "MUG", "qty": 5, "shipped": 5, "received": 0}]
    assert not shown["short_shipped"] and shown["value_shipped"] == "14.00"  # 3 x 2 + 2 x 4


def test_a_short_shipment_and_a_short_receipt_are_shown(company):
    s1, s2 = company.s1, company.s2
    transfer = company.transfer(6)
    company.carry()
    ship(s1, transfer, 4, short=2)
    company.carry()
    shown = company.state(transfer)
    assert shown["short_shipped"] and shown["lines"][0]["shipped"] == 4
    s2.events(Receipt(sku="MUG", qty=3, location="B-01", po=transfer),
              PoClose(po=transfer, short=True))  # fmt: skip
    company.carry()
    shown = company.state(transfer)
    assert shown["status"] == "received" and shown["over_short_received"]
    assert shown["lines"][0]["received"] == 3
    assert s2.at("B-01") == (3, micros("6"))


def _layers(site: Site) -> list[dict]:
    from hub import fifo

    return [layer for layer in fifo.layers(site.conn, "MUG") if layer["location"] == "B-01"]


def test_a_transfer_short_shipped_or_not_received_in_time_is_alerted_at_both_sites(company):
    from datetime import timedelta

    from hub import housekeeping

    s1, s2 = company.s1, company.s2
    transfer = company.transfer(6)
    company.carry()
    ship(s1, transfer, 4, short=2)
    company.carry()

    def late(site: Site, days_on: int) -> list[str]:
        later = datetime.now(UTC) + timedelta(days=days_on)
        housekeeping.tick(site.conn, site.topics, later, transfer_late_days=3)
        return sorted(a["message"] for a in store.alerts_open(site.conn)
                      if a["kind"] == "transfer_late")  # fmt: skip

    assert late(s2, 1) == [f"transfer {transfer} (s1 -> s2) short-shipped: MUG 4 of 6"]
    assert late(s2, 4) == [
        f"transfer {transfer} (s1 -> s2) in transit and not received after 3 days",
        f"transfer {transfer} (s1 -> s2) short-shipped: MUG 4 of 6"]  # fmt: skip
    assert len(late(s1, 4)) == 2
    s2.events(Receipt(sku="MUG", qty=4, location="B-01", po=transfer))
    company.carry()
    assert len(late(s1, 8)) == 2  # received: nothing new, the raised ones stay until cleared
    with store.transaction(s1.conn):
        for alert in store.alerts_open(s1.conn):
            store.alert_clear_id(s1.conn, alert["id"], datetime.now(UTC).isoformat())
    assert late(s1, 9) == []  # a received transfer is not alerted again


def test_the_transfers_api_makes_lists_and_refuses_what_does_not_fit(tmp_path, company):
    from hub.changes import ChangeFeed
    from hub.web import create_app

    bearer = {"Authorization": "Bearer t0ken"}
    centre = create_app(ledger_target(tmp_path / "centre.db"), Topics("hq"), ["t0ken"],
                        changes=ChangeFeed(), sites=["s1", "s2"], data_dir=tmp_path).test_client()  # fmt: skip
    made = centre.post("/api/transfers", headers=bearer, json={
        "from_site": "s1", "to_site": "s2", "lines": [{"sku": "MUG", "qty": 3}]})  # fmt: skip
    assert made.status_code == 201, made.json
    (transfer,) = made.json["saved"]
    company.carry()
    ship(company.s1, transfer, 3)
    company.carry()
    listed = centre.get("/api/transfers?status=in_transit", headers=bearer).json["transfers"]
    assert [(t["transfer"], t["value_shipped"]) for t in listed] == [(transfer, "6.00")]
    assert centre.get(f"/api/transfers/{transfer}", headers=bearer).json["lines"] == [
        {"sku": "MUG", "qty": 3, "shipped": 3, "received": 0}]  # fmt: skip
    assert centre.get("/api/transfers?status=open", headers=bearer).json["transfers"] == []
    assert centre.get("/api/transfers/T-9", headers=bearer).status_code == 404
    assert centre.post("/api/transfers/T-9/resend", headers=bearer).status_code == 404
    assert centre.post(f"/api/transfers/{transfer}/resend", headers=bearer).status_code == 200
    company.carry()  # both sites take it again: nothing changes
    assert [line[2] for line in store.po_lines(company.s2.conn, transfer)] == [3]
    assert store.order_get(company.s1.conn, transfer)[0] == "shipped"
    for body, says in (({"from_site": "s1", "to_site": "s1"}, "same site"),
                       ({"from_site": "s1", "to_site": "s9"}, "unknown site 's9'"),
                       ({"from_site": "s2", "to_site": "s1"}, "s2 has never had MUG")):  # fmt: skip
        refused = centre.post("/api/transfers", headers=bearer,
                              json={**body, "lines": [{"sku": "MUG", "qty": 1}]})  # fmt: skip
        assert refused.status_code == 422 and says in refused.json["error"]
    bad = centre.post("/api/transfers", headers=bearer, json={"from_site": "s1", "to_site": "s2",
                                                              "lines": []})  # fmt: skip
    assert bad.status_code in (400, 422)
    site = create_app(ledger_target(tmp_path / "s2.db"), Topics("s2"), ["t0ken"],
                      changes=ChangeFeed(), data_dir=tmp_path).test_client()  # fmt: skip
    posed = site.post("/api/orders", headers=bearer, json={
        "order": "T-5", "kind": "transfer", "to_site": "s1", "lines": [{"sku": "MUG", "qty": 1}]})  # fmt: skip
    assert posed.status_code == 422 and "made at the central hub" in posed.json["error"]
    assert [t["status"] for t in site.get("/api/transfers", headers=bearer).json["transfers"]] \
        == ["in_transit"]
    refused = site.post("/api/transfers", headers=bearer, json={
        "from_site": "s1", "to_site": "s2", "lines": [{"sku": "MUG", "qty": 1}]})  # fmt: skip
    assert refused.status_code == 409


def test_transfers_under_way_show_on_the_centres_sites_page_and_both_sites_overviews(
    tmp_path, company
):
    from hub import users
    from hub.changes import ChangeFeed
    from hub.web import create_app
    from tests.webapp import login

    transfer = company.transfer(4)
    company.carry()
    ship(company.s1, transfer, 3, short=1)
    company.carry()
    pages = {"/sites": (tmp_path / "centre.db", Topics("hq"), ["s1", "s2"], company.centre.conn),
             "/": (tmp_path / "s1.db", Topics("s1"), [], company.s1.conn),
             "/ ": (tmp_path / "s2.db", Topics("s2"), [], company.s2.conn)}  # fmt: skip
    for path, (db, topics, sites, conn) in pages.items():
        users.add(conn, "ann", "viewer", "pass-word")
        client = create_app(ledger_target(db), topics, ["t0ken"], changes=ChangeFeed(),
                            sites=sites, data_dir=tmp_path).test_client()  # fmt: skip
        assert login(client, "ann").status_code == 302
        page = client.get(path.strip()).text
        row = page[page.index(f'data-transfer="{transfer}"'):]
        row = row[:row.index("</tr>")]
        assert "in transit" in row and "short-shipped" in row, (path, row)
        assert "MUG 4 / 3 / 0" in row and "6.00" in row, (path, row)  # 3 at 2.00
        shown = {side: page[page.index(f'data-transit="{side}">'):].split("</td>")[0]
                 for side in ("out", "in", "company") if f'data-transit="{side}">' in page}  # fmt: skip
        in_transit = {side: html.split(">", 1)[1].split("<")[0].strip()
                      for side, html in shown.items()}  # fmt: skip
        assert in_transit == {"/sites": {"out": "3", "in": "0", "company": "3"},  # s1's row first
                              "/": {"out": "3", "in": "0"}, "/ ": {"out": "0", "in": "3"}}[path]


def test_units_in_transit_show_on_both_sides_and_once_in_the_company_total(tmp_path, company):
    from hub.changes import ChangeFeed
    from hub.web import create_app

    bearer = {"Authorization": "Bearer t0ken"}
    apps = {site: create_app(ledger_target(tmp_path / f"{site}.db"), Topics(site), ["t0ken"],
                             changes=ChangeFeed(), sites=followed,
                             data_dir=tmp_path).test_client()
            for site, followed in (("centre", ["s1", "s2"]), ("s1", []), ("s2", []))}  # fmt: skip

    def seen() -> dict:
        listed = apps["centre"].get("/api/sites", headers=bearer).json
        return {"centre": {row["site"]: row["in_transit"] for row in listed["sites"]},
                "company": listed["company"]["in_transit"],
                **{site: apps[site].get("/api/overview", headers=bearer).json["in_transit"]
                   for site in ("s1", "s2")}}  # fmt: skip

    nothing = {"units": 0, "value": "0.00"}
    transfer = company.transfer(4)
    company.carry()
    assert seen()["company"] == nothing  # made, not shipped: still on s1's shelves
    ship(company.s1, transfer, 4)
    company.carry()
    moving = {"units": 4, "value": "8.00"}  # 4 of the oldest layer, at 2.00
    assert seen() == {
        "centre": {"s1": {"out": moving, "in": nothing}, "s2": {"out": nothing, "in": moving}},
        "company": moving,
        "s1": {"out": moving, "in": nothing}, "s2": {"out": nothing, "in": moving}}  # fmt: skip
    company.s2.events(Receipt(sku="MUG", qty=4, location="B-01", po=transfer))
    company.carry()
    assert seen() == {
        "centre": {"s1": {"out": nothing, "in": nothing}, "s2": {"out": nothing, "in": nothing}},
        "company": nothing,
        "s1": {"out": nothing, "in": nothing}, "s2": {"out": nothing, "in": nothing}}  # fmt: skip
    assert apps["s1"].get("/api/sites", headers=bearer).json == {"sites": [], "company": None}
    assert apps["centre"].get("/api/overview", headers=bearer).json["in_transit"] is None


def test_a_transfer_a_site_cannot_take_is_a_dead_letter_and_an_alert(company):
    from protocol.envelope import encode

    s2 = company.s2
    for order in (TransferOrder(transfer="T-9", from_site="s3", to_site="s4",
                                lines=[TransferLine(sku="MUG", qty=1)]),
                  TransferOrder(transfer="T-8", from_site="s1", to_site="s2", status="in_transit",
                                lines=[TransferLine(sku="NOPE", qty=1)],
                                shipped=[TransferShippedLine(sku="NOPE", qty=1)])):  # fmt: skip
        result = s2.ingest.process([Incoming(s2.topics.transfer_order(order.transfer),
                                             encode(order))])  # fmt: skip
        assert result.dead == 1
    said = sorted(a["message"] for a in store.alerts_open(s2.conn) if a["kind"] == "message_failed")
    assert len(said) == 2
    assert "T-8 could not be taken" in said[0] and "unknown sku NOPE" in said[0]
    assert "T-9 could not be taken" in said[1] and "not this site (s2)" in said[1]
    assert store.po_get(s2.conn, "T-8") is None and store.transfer_get(s2.conn, "T-9") is None


def company_mugs(company: Company) -> tuple[int, str]:
    """The centre's company total of MUG: (units, value)."""
    from hub.web import site_views

    [row] = site_views.stock_rows(company.centre.conn, None, "MUG", 10, "")
    kpis = site_views.kpi_rows(company.centre.conn, ["s1", "s2"], store.SiteFilter())
    assert (kpis["company"]["on_hand"]["units"], kpis["company"]["on_hand"]["value"]) == (
        row["on_hand"], row["value"])  # the KPIs' stock on hand says the same
    return row["on_hand"], row["value"]


def test_the_company_counts_a_transfers_units_once_whichever_sites_movements_come_first(
        company):  # fmt: skip
    s1, s2 = company.s1, company.s2
    assert company_mugs(company) == (10, "25.00")
    first = company.transfer(7)
    company.carry()
    ship(s1, first, 7)
    company.carry()
    assert company_mugs(company) == (10, "25.00")  # 7 of them at s1's transit
    # The receiver's receipts reach the centre before the sender's book-out of its transit.
    s2.events(Receipt(sku="MUG", qty=7, location="B-01", po=first))
    company.carry(hold=s1.topics.movements)
    assert company.state(first)["status"] == "received" and s1.at(f"transit-{first}")[0] == 0
    assert company.centre_at("s1", f"transit-{first}") == 7  # not booked out at the centre yet
    assert company_mugs(company) == (10, "25.00")
    company.carry()
    assert company.centre_at("s1", f"transit-{first}") == 0
    assert company_mugs(company) == (10, "25.00")

    # The other way round: the sender's book-out first, the receiver's receipts later.
    second = company.transfer(3)
    company.carry()
    ship(s1, second, 3)
    company.carry()
    s2.events(Receipt(sku="MUG", qty=3, location="B-01", po=second))
    company.carry(hold=s2.topics.movements)
    assert company.state(second)["status"] == "received"
    assert company.centre_at("s1", f"transit-{second}") == 0  # booked out, and applied
    assert company.centre_at("s2", "B-01") == 7  # the receipt of 3 not yet
    assert company_mugs(company) == (10, "25.00")
    company.carry()
    assert company.centre_at("s2", "B-01") == 10
    assert company_mugs(company) == (10, "25.00")


def published_movements(site: Site) -> list[AppliedMovement]:
    return [msgspec.json.decode(payload, type=AppliedMovement) for _id, topic, payload, _r
            in store.outbox_read(site.conn, 0, 10_000) if topic == site.topics.movements]  # fmt: skip


def test_units_being_scanned_in_count_once_before_the_receivers_report(company):
    """The dock scans a transfer in over a while; the receiver reports `received` only at
    the end. Each receipt movement names its transfer (live and resent), so the company
    total counts its units at the receiver from the moment the centre applies it, and
    no longer also at the sender's transit; in either order of the two sites' movements."""
    s1, s2 = company.s1, company.s2
    transfer = company.transfer(7)
    company.carry()
    ship(s1, transfer, 7)
    company.carry()
    s2.events(Receipt(sku="MUG", qty=4, location="B-01", po=transfer))
    company.carry()
    assert company.state(transfer)["status"] == "in_transit"  # 3 still to scan: no report
    assert company.centre_at("s1", f"transit-{transfer}") == 7
    assert company.centre_at("s2", "B-01") == 4
    assert company_mugs(company) == (10, "25.00")  # 3 + 7 at the transit, 4 of them at s2
    # Still on the way: 3 of the 7, the newest of the layers (1 at 2.00, 2 at 3.00).
    moving = central_transfers.in_transit(company.centre.conn)
    assert central_transfers.transit_total(moving) == {"units": 3, "value": "8.00"}
    receipts = [m for m in published_movements(s2) if m.type == "receipt"]
    assert [(m.delta, m.transfer) for m in receipts] == [(4, transfer)]
    # Asked again by the centre, the site resends the same movement (not a conflict).
    s2.ingest.process([Incoming(s2.topics.resend_movements,
                                encode(ResendMovements(from_=1)))])  # fmt: skip
    assert published_movements(s2)[-1] == receipts[0]
    company.carry()
    assert store.dead_letters(company.centre.conn) == []
    s2.events(Receipt(sku="MUG", qty=3, location="B-01", po=transfer))
    company.carry()
    assert company.state(transfer)["status"] == "received"
    assert company_mugs(company) == (10, "25.00")

    # The receiver's receipts applied before the sender's shipment: counted at s1's shelf.
    second = company.transfer(2)
    company.carry()
    ship(s1, second, 2)
    company.carry(hold=s1.topics.movements)
    s2.events(Receipt(sku="MUG", qty=1, location="B-01", po=second))
    company.carry(hold=s1.topics.movements)
    assert company.centre_at("s1", f"transit-{second}") == 0
    assert company.centre_at("s2", "B-01") == 8
    assert company_mugs(company) == (10, "25.00")
    company.carry()
    assert company.centre_at("s1", f"transit-{second}") == 2
    assert company_mugs(company) == (10, "25.00")


def test_a_receipt_naming_a_transfer_of_another_site_counts_for_nothing_there(company):
    """A receipt movement whose transfer is not one its site receives is applied as any
    receipt: its units count at that site, and nothing is taken off a transfer."""
    transfer = company.transfer(3)
    company.carry()
    ship(company.s1, transfer, 3)
    company.carry()
    seq = store.site_link_get(company.centre.conn, "s1").applied + 1
    stray = AppliedMovement(ledger_seq=seq, station="st-1", epoch="e1", seq=9, type="receipt",
                            sku="MUG", location="A-02", delta=2, ts=TS, hub_ts=TS,
                            value_micros=4_000_000, transfer=transfer)  # fmt: skip
    company.centre.process([Incoming(company.s1.topics.movements, encode(stray))])
    assert store.transfer_receipts(company.centre.conn, transfer) == []
    assert company_mugs(company) == (12, "29.00")


def test_a_settled_transfer_is_no_longer_read_and_the_total_stays_right(company):
    s1, s2 = company.s1, company.s2
    transfer = company.transfer(7)
    company.carry()
    ship(s1, transfer, 7)
    company.carry()
    s2.events(Receipt(sku="MUG", qty=7, location="B-01", po=transfer))
    company.carry(hold=s1.topics.movements)  # the sender's book-out not applied yet
    unsettled = [r.transfer for r in store.transfers_unsettled(company.centre.conn, 100)]
    assert unsettled == [transfer]
    assert company_mugs(company) == (10, "25.00")
    company.carry()
    assert store.transfers_unsettled(company.centre.conn, 100) == []
    assert company.centre.conn.execute("SELECT settled FROM transfers WHERE transfer = ?",
                                       (transfer,)).fetchone()[0] == 1  # fmt: skip
    # Not read any more: a payload no one could decode changes nothing.
    with store.transaction(company.centre.conn):
        company.centre.conn.execute("UPDATE transfers SET payload = 'unreadable' "
                                    "WHERE transfer = ?", (transfer,))  # fmt: skip
    assert company_mugs(company) == (10, "25.00")
    assert store.transfers_unsettled(company.centre.conn, 100) == []


def test_a_centre_that_starts_settles_what_was_received_before_it_marked_transfers(
        tmp_path, company):  # fmt: skip
    transfer = company.transfer(2)
    company.carry()
    ship(company.s1, transfer, 2)
    company.carry()
    company.s2.events(Receipt(sku="MUG", qty=2, location="B-01", po=transfer))
    company.carry()
    conn = company.centre.conn
    with store.transaction(conn):  # as a centre before migration 8 left it
        conn.execute("UPDATE transfers SET settled = 0")
    assert [r.transfer for r in store.transfers_unsettled(conn, 100)] == [transfer]
    CentralIngest(conn, Topics("hq"), ["s1", "s2"], resend_after_s=60)
    assert store.transfers_unsettled(conn, 100) == []
    assert company_mugs(company) == (10, "25.00")


def add_products(conn, topics, *records: dict) -> None:
    catalog.upsert_products(conn, topics, [msgspec.convert(r, catalog.ProductRecord)
                                           for r in records])  # fmt: skip


GIFT = {"sku": "GIFT", "name": "Gift box", "kit": [{"sku": "MUG", "qty": 2},
                                                   {"sku": "LID", "qty": 1}]}  # fmt: skip


def gift_transfer(company) -> str:
    """Both sites and the centre know the GIFT kit (two mugs and a lid); the first site has
    5 lids at 1.00 besides its mugs; a transfer of 2 GIFTs to the second, carried."""
    lid = {"sku": "LID", "name": "Lid", "unit_cost": "1"}
    for site in (company.s1, company.s2):
        add_products(site.conn, site.topics, lid, GIFT)
    company.s1.events(Receipt(sku="LID", qty=5, location="A-01", unit_cost=Decimal("1")))
    add_products(company.centre.conn, Topics("hq"), {"sku": "MUG", "name": "Mug"}, lid, GIFT)
    company.carry()
    transfer = company.transfer_of("GIFT", 2)
    company.carry()
    return transfer


def test_a_kit_on_a_transfer_travels_as_its_parts_and_the_transfer_closes_in_full(company):
    from datetime import timedelta

    from hub import housekeeping

    s1, s2 = company.s1, company.s2
    transfer = gift_transfer(company)
    # The bench packs the kits from their parts, and ships the parts (station/workflows/pack.py).
    s1.events(Shipment(order=transfer, lines=[ShipmentLine(sku="MUG", qty=4, location="A-01"),
                                              ShipmentLine(sku="LID", qty=2, location="A-01")]))  # fmt: skip
    company.carry()
    shown = company.state(transfer)
    assert shown["lines"] == [{"sku": "GIFT", "qty": 2, "shipped": 2, "received": 0, "parts": [
        {"sku": "LID", "per_kit": 1, "shipped": 2, "received": 0},
        {"sku": "MUG", "per_kit": 2, "shipped": 4, "received": 0}]}]  # fmt: skip
    assert not shown["short_shipped"]
    assert shown["value_shipped"] == "10.00"  # each part at its FIFO cost: 4 x 2 + 2 x 1
    later = datetime.now(UTC) + timedelta(days=1)
    for site in (s1, s2):
        housekeeping.tick(site.conn, site.topics, later, transfer_late_days=3)
        assert [a for a in store.alerts_open(site.conn) if a["kind"] == "transfer_late"] == []
    # The receiving dock gets the parts to receive, at the sender's cost of each.
    assert sorted((line[1], line[2]) for line in store.po_lines(s2.conn, transfer)) == [
        ("LID", 2), ("MUG", 4)]  # fmt: skip
    s2.events(Receipt(sku="MUG", qty=4, location="B-01", po=transfer),
              Receipt(sku="LID", qty=2, location="B-01", po=transfer))  # fmt: skip
    company.carry()
    shown = company.state(transfer)
    assert shown["status"] == "received" and not shown["over_short_received"]
    assert (shown["lines"][0]["shipped"], shown["lines"][0]["received"]) == (2, 2)
    assert s1.at(f"transit-{transfer}") == (0, 0)
    assert s2.at("B-01") == (4, micros("8"))
    # One part missing at the dock: a kit short, and the part says which.
    other = company.transfer_of("GIFT", 1)
    company.carry()
    s1.events(Shipment(order=other, lines=[ShipmentLine(sku="MUG", qty=2, location="A-01"),
                                           ShipmentLine(sku="LID", qty=1, location="A-01")]))  # fmt: skip
    company.carry()
    s2.events(Receipt(sku="MUG", qty=2, location="B-01", po=other), PoClose(po=other, short=True))
    company.carry()
    shown = company.state(other)
    assert shown["status"] == "received" and shown["over_short_received"]
    assert (shown["lines"][0]["shipped"], shown["lines"][0]["received"]) == (1, 0)
    assert shown["lines"][0]["parts"][0] == {"sku": "LID", "per_kit": 1, "shipped": 1,
                                             "received": 0}  # fmt: skip


def test_a_kit_the_centre_does_not_know_is_refused_naming_the_fix(company):
    with pytest.raises(central_transfers.TransferError, match="add it with its parts"):
        company.transfer_of("GIFT", 1)


def test_a_kit_shipped_whole_without_kit_stock_is_built_from_its_parts_on_the_way_out(company):
    """The bench packed a kit whole for a transfer while the books hold no such kit: as
    for a sale, the kit was built at the bench, so its assembly is booked (parts out at
    their FIFO cost, a `kit_backflushed` warning) and the kit travels at that cost; the
    sender's kit stock never goes negative, and the receiver gets the kit."""
    s1, s2 = company.s1, company.s2
    transfer = gift_transfer(company)
    s1.events(Shipment(order=transfer, lines=[ShipmentLine(sku="GIFT", qty=2, location="A-01")]))
    assert store.layer_value(s1.conn, "GIFT", "A-01", "") == (0, 0)
    assert store.layer_value(s1.conn, "GIFT", f"transit-{transfer}", "") == (2, micros("10"))
    assert s1.at("A-01") == (6, micros("17"))  # 4 mugs at 2.00 went into the kits
    assert store.layer_value(s1.conn, "LID", "A-01", "") == (3, micros("3"))
    assert [a["kind"] for a in store.alerts_open(s1.conn)] == ["kit_backflushed"]
    company.carry()
    shown = company.state(transfer)
    assert (shown["status"], shown["value_shipped"]) == ("in_transit", "10.00")
    assert shown["lines"] == [{"sku": "GIFT", "qty": 2, "shipped": 2, "received": 0}]
    s2.events(Receipt(sku="GIFT", qty=2, location="B-01", po=transfer))
    company.carry()
    assert company.state(transfer)["status"] == "received"
    assert store.layer_value(s2.conn, "GIFT", "B-01", "") == (2, micros("10"))
    assert store.layer_value(s1.conn, "GIFT", f"transit-{transfer}", "") == (0, 0)
