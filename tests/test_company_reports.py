"""A central hub's reports of its sites (issue 15): valuation, ABC, dead stock, surplus and
open alerts, per site and for the company, as pages, CSV and JSON (/api/sites/reports).

Two real site hubs (the real ingest, on the run's backend) receive, ship and transfer
over several days of their clocks; their outboxes are carried to a real central hub as the
bridges would. Each site's figures at the centre must equal the site hub's own report of
them (computed by hub.reports from its cost layers and daily aggregates, which the
centre does not have), and the company's the sums worked out here by hand."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from hub import catalog, central_transfers, reports, store
from hub.central import CentralIngest
from hub.changes import ChangeFeed
from hub.ingest import Incoming, Ingest
from hub.web import close_app, create_app
from protocol.envelope import encode_event
from protocol.events import Receipt, Shipment, ShipmentLine
from protocol.messages import TransferLine
from protocol.topics import Topics
from tests.domain_helpers import open_ledger
from tests.postgres import ledger_target
from tests.webapp import TOKEN, hub_clock_at, login

pytestmark = pytest.mark.hub

BEARER = {"Authorization": f"Bearer {TOKEN}"}
TODAY = date(2026, 6, 30)
OLD, MID, RECENT = TODAY - timedelta(days=200), TODAY - timedelta(days=60), TODAY - timedelta(days=2)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


class Site:
    def __init__(self, path, site: str, skus: list[str]) -> None:
        self.conn = open_ledger(path / f"{site}.db")
        self.topics = Topics(site)
        self.ingest = Ingest(self.conn, self.topics)
        self.seq = 0
        self.add(*skus)

    def add(self, *skus: str) -> None:
        catalog.upsert_products(self.conn, self.topics, [msgspec.convert(
            {"sku": sku, "name": sku.title(), "unit_cost": "1"}, catalog.ProductRecord)
            for sku in skus])  # fmt: skip

    def events(self, *events) -> None:
        batch = []
        for data in events:
            self.seq += 1
            batch.append(Incoming(self.topics.events("st-1"),
                                  encode_event("st-1", "e1", self.seq, data, at(TODAY))))  # fmt: skip
        assert self.ingest.process(batch).dead == 0, store.dead_letters(self.conn)

    def report(self, name: str) -> list[dict]:
        """The site hub's own report, computed from its ledger (no stored rows)."""
        return reports.REPORTS[name](self.conn, reports.Query(today=TODAY, limit=1000)).rows


class Company:
    """Two site hubs and the centre; `carry` takes what each site published over the
    bridge (movements, alerts, transfer reports) and brings the centre's transfers back."""

    def __init__(self, path) -> None:
        self.s1 = Site(path, "s1", ["MUG", "TEE", "CAP"])
        self.s2 = Site(path, "s2", ["MUG", "TEE", "CAP"])
        self.path = str(ledger_target(path / "centre.db"))
        self.centre = CentralIngest(open_ledger(path / "centre.db"), Topics("hq"), ["s1", "s2"],
                                    resend_after_s=60)  # fmt: skip
        self.taken: dict[str, int] = {}
        self.held: list[Incoming] = []

    def carry(self, hold: str | None = None) -> None:
        """`hold`: a topic whose messages wait for a later carry (a bridge that is slow)."""
        for _ in range(3):
            for site in (self.s1, self.s2):
                bridged = (site.topics.movements, site.topics.alerts,
                           site.topics.transfer_report(""))  # fmt: skip
                new = [m for m in self._new(site.conn, site.topics.site)
                       if m.topic.startswith(bridged)]  # fmt: skip
                waiting = self.held + new
                self.held = [m for m in waiting if m.topic == hold]
                assert self.centre.process([m for m in waiting if m.topic != hold]).dead == 0
            for site in (self.s1, self.s2):
                prefix = site.topics.transfer_order("")
                mine = [m for m in self._new(self.centre.conn, f"to-{site.topics.site}")
                        if m.topic.startswith(prefix)]  # fmt: skip
                assert site.ingest.process(mine).dead == 0, store.dead_letters(site.conn)

    def _new(self, conn, reader: str) -> list[Incoming]:
        rows = store.outbox_read(conn, self.taken.get(reader, 0), 10_000)
        if rows:
            self.taken[reader] = rows[-1][0]
        return [Incoming(topic, payload) for _id, topic, payload, _retain in rows]

    def transfer(self, from_site: str, to_site: str, sku: str, qty: int) -> str:
        wanted = central_transfers.TransferIn(from_site=from_site, to_site=to_site,
                                              lines=[TransferLine(sku=sku, qty=qty)])  # fmt: skip
        with store.transaction(self.centre.conn):
            made = central_transfers.create(self.centre.conn, ["s1", "s2"], wanted,
                                            at(TODAY).isoformat())  # fmt: skip
        self.carry()
        return made

    def close(self) -> None:
        for conn in (self.s1.conn, self.s2.conn, self.centre.conn):
            conn.close()


def ship(site: Site, order: str, sku: str, qty: int) -> None:
    site.events(Shipment(order=order, lines=[ShipmentLine(sku=sku, qty=qty, location="A-01")]))


@pytest.fixture
def company(tmp_path, monkeypatch):
    """s1: MUG 10 at 2.00 and 10 at 3.00, TEE 5 at 4.00, CAP 8 at 1.00 long ago; one TEE
    shipped long ago, 6 MUG two days ago, 3 MUG (at 2.00) in transit to s2 since
    yesterday. s2: MUG 4 at 5.00 and CAP 2 at 1.00 long ago, TEE 10 at 4.00 and ODD-9
    (unknown to its catalog then: an open alert) 60 days ago, 8 TEE shipped yesterday."""
    made = Company(tmp_path)
    s1, s2 = made.s1, made.s2
    hub_clock_at(monkeypatch, at(OLD))
    s1.events(Receipt(sku="MUG", qty=10, location="A-01", unit_cost=Decimal("2")),
              Receipt(sku="MUG", qty=10, location="A-01", unit_cost=Decimal("3")),
              Receipt(sku="TEE", qty=5, location="A-01", unit_cost=Decimal("4")),
              Receipt(sku="CAP", qty=8, location="A-01", unit_cost=Decimal("1")))  # fmt: skip
    ship(s1, "SO-1", "TEE", 1)
    s2.events(Receipt(sku="MUG", qty=4, location="A-01", unit_cost=Decimal("5")),
              Receipt(sku="CAP", qty=2, location="A-01", unit_cost=Decimal("1")))  # fmt: skip
    hub_clock_at(monkeypatch, at(MID))
    s2.events(Receipt(sku="TEE", qty=10, location="A-01", unit_cost=Decimal("4")),
              Receipt(sku="ODD-9", qty=1, location="A-01", unit_cost=Decimal("7")))  # fmt: skip
    s2.add("ODD-9")
    hub_clock_at(monkeypatch, at(RECENT))
    ship(s1, "SO-2", "MUG", 6)
    hub_clock_at(monkeypatch, at(TODAY - timedelta(days=1)))
    ship(s2, "SO-3", "TEE", 8)
    made.carry()
    transfer = made.transfer("s1", "s2", "MUG", 3)
    ship(s1, transfer, "MUG", 3)
    made.carry()
    hub_clock_at(monkeypatch, at(TODAY))
    yield made
    made.close()


@pytest.fixture
def client(company, tmp_path):
    app = create_app(company.path, Topics("hq"), [TOKEN], changes=ChangeFeed(),
                     sites=["s1", "s2"], data_dir=tmp_path)  # fmt: skip
    yield app.test_client()
    close_app(app)


def api(client, name: str, **args) -> dict:
    found = client.get(f"/api/sites/reports/{name}", headers=BEARER,
                       query_string={"today": TODAY.isoformat(), "limit": 1000, **args})  # fmt: skip
    assert found.status_code == 200, found.text
    return found.json


def rows(answer: dict, *columns: str) -> list[tuple]:
    return [tuple(row[c] for c in columns) for row in answer["rows"]]


VALUED = ("sku", "own_qty", "consigned_qty", "value", "unit_cost")


def test_valuation_per_site_is_the_sites_own_and_the_company_counts_transit_once(company, client):
    for site in (company.s1, company.s2):
        centre = api(client, "valuation", site=site.topics.site)
        assert rows(centre, *VALUED) == [tuple(r[c] for c in VALUED)
                                         for r in site.report("valuation")]  # fmt: skip
    s1 = api(client, "valuation", site="s1")
    assert rows(s1, "sku", "in_transit_qty", "in_transit_value") == [
        ("CAP", 0, "0.00"), ("MUG", 3, "6.00"), ("TEE", 0, "0.00")]  # 3 MUG at 2.00 on the way
    assert s1["summary"]["total_value"] == "62.00" and s1["summary"]["coming_in_units"] == 0
    s2 = api(client, "valuation", site="s2")
    assert (s2["summary"]["coming_in_units"], s2["summary"]["coming_in_value"]) == (3, "6.00")

    company_ = api(client, "valuation")
    assert company_["columns"][-2:] == ["value_s1", "value_s2"]
    assert rows(company_, "sku", "own_qty", "in_transit_qty", "value", "in_transit_value",
                "value_s1", "value_s2") == [
        ("CAP", 10, 0, "10.00", "0.00", "8.00", "2.00"),
        ("MUG", 18, 3, "58.00", "6.00", "38.00", "20.00"),
        ("ODD-9", 1, 0, "7.00", "0.00", None, "7.00"),
        ("TEE", 6, 0, "24.00", "0.00", "16.00", "8.00")]  # fmt: skip
    assert company_["summary"] == {"total_value": "99.00", "in_transit_units": 3,
                                   "in_transit_value": "6.00"}  # fmt: skip
    books = sum(store.value_total(site.conn) for site in (company.s1, company.s2))
    assert Decimal(company_["summary"]["total_value"]) * 10**6 == books


def test_a_transfer_received_before_the_senders_book_out_counts_once(company, client):
    s1, s2 = company.s1, company.s2
    transfer = store.transfers_unfinished(company.centre.conn, 10)[0].transfer
    s2.events(Receipt(sku="MUG", qty=3, location="B-01", po=transfer))
    # The centre applies s2's receipt, but s1's book-out of its transit waits on the bridge.
    company.carry(hold=s1.topics.movements)
    assert company.held, "s1's book-out should be held"
    company_ = api(client, "valuation")
    mug = next(r for r in company_["rows"] if r["sku"] == "MUG")
    assert (mug["own_qty"], mug["value"], mug["in_transit_qty"]) == (18, "58.00", 0)
    assert (mug["value_s1"], mug["value_s2"]) == ("38.00", "26.00")  # each site's own books
    company.carry()  # the bridge delivers: the same company figures
    mug = next(r for r in api(client, "valuation")["rows"] if r["sku"] == "MUG")
    assert (mug["own_qty"], mug["value"], mug["value_s1"]) == (18, "58.00", "32.00")
    site_values = [store.value_total(site.conn) for site in (s1, s2)]
    assert Decimal(api(client, "valuation")["summary"]["total_value"]) * 10**6 == sum(site_values)


ABC = ("rank", "sku", "class", "annual_value", "cumulative_share")


def test_abc_per_site_is_the_sites_own_and_the_companys_from_every_sites_shipments(company, client):
    for site in (company.s1, company.s2):
        assert rows(api(client, "abc", site=site.topics.site), *ABC) == [
            tuple(r[c] for c in ABC) for r in site.report("abc")]  # fmt: skip
    # COGS of the year: TEE 1 x 4.00 at s1 + 8 x 4.00 at s2 = 36, MUG 6 x 2.00 = 12 (the
    # transfer is no sale), CAP and ODD-9 none: 48 in all.
    company_ = api(client, "abc")
    assert rows(company_, "sku", "class", "annual_value", "cumulative_share", "class_s1",
                "class_s2") == [
        ("TEE", "A", "36.00", 0.75, "A", "A"),
        ("MUG", "A", "12.00", 1.0, "A", "C"),
        ("CAP", "C", "0.00", 1.0, "C", "C"),
        ("ODD-9", "C", "0.00", 1.0, None, "C")]  # fmt: skip


def test_dead_stock_and_surplus_per_site_are_the_sites_own_and_add_up_for_the_company(
    company, client
):
    for site in (company.s1, company.s2):
        for name in ("dead-stock", "surplus"):
            centre = api(client, name, site=site.topics.site)
            assert centre["rows"] == site.report(name), (site.topics.site, name)
    # The company: MUG shipped two days ago (s1), TEE yesterday (s2): neither is dead;
    # CAP (8 + 2) and ODD-9 never shipped anywhere.
    dead = api(client, "dead-stock")
    assert rows(dead, "sku", "on_hand", "last_outbound", "on_hand_s1", "on_hand_s2") == [
        ("CAP", 10, None, 8, 2), ("ODD-9", 1, None, 0, 1)]  # fmt: skip
    assert dead["summary"]["days"] == 180
    # Demand over the 90 days: MUG 6 (s1), TEE 8 (s2). MUG: 18 on hand (3 in transit) is
    # 270 days of supply, 12 kept for 180 days; TEE: 6 is 67.5 days, no surplus.
    surplus = api(client, "surplus")
    assert rows(surplus, "sku", "on_hand", "days_of_supply", "surplus_qty", "on_hand_s1",
                "on_hand_s2") == [
        ("CAP", 10, None, 10, 8, 2), ("MUG", 18, 270.0, 6, 14, 4),
        ("ODD-9", 1, None, 1, 0, 1)]  # fmt: skip


def test_open_alerts_per_site(company, client):
    # Each site's own open alerts, newest first: s2's TEE fell low yesterday, ODD-9 came
    # in unknown 60 days ago; s1 has none.
    for site in (company.s1, company.s2):
        own = [(a["id"], a["kind"], a["sku"]) for a in store.alerts_open(site.conn)]
        centre = api(client, "alerts", site=site.topics.site)
        assert sorted(rows(centre, "id", "kind", "sku")) == sorted(own)
    company_ = api(client, "alerts")
    assert rows(company_, "site", "kind", "sku") == [
        ("s2", "low_stock", "TEE"), ("s2", "unknown_sku", "ODD-9")]  # fmt: skip
    assert company_["summary"] == {"open": 2, "open_at_s1": 0, "open_at_s2": 2}
    assert rows(api(client, "alerts", kind="unknown_sku"), "sku") == [("ODD-9",)]
    assert api(client, "alerts", kind="negative_stock")["rows"] == []


def test_csv_paging_and_bad_parameters(company, client):
    csv = client.get("/api/sites/reports/valuation.csv?site=s1", headers=BEARER)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.text.splitlines()
    assert lines[0] == "sku,own_qty,consigned_qty,in_transit_qty,value,in_transit_value,unit_cost"
    assert lines[2].startswith("MUG,14,0,3,38.00,6.00,")
    first = api(client, "valuation", limit=2)
    assert [r["sku"] for r in first["rows"]] == ["CAP", "MUG"] and first["next"] == {"offset": 2}
    rest = api(client, "valuation", limit=2, offset=2)
    assert [r["sku"] for r in rest["rows"]] == ["ODD-9", "TEE"] and rest["next"] is None
    for query, named in (("limit=0", "limit"), ("offset=-1", "offset"), ("today=2026-13-01",
                         "today"), ("kind=nonsense", "kind"), ("site=S_1", "site"),
                         ("today=1066-10-14", "today")):  # fmt: skip
        bad = client.get(f"/api/sites/reports/alerts?{query}", headers=BEARER)
        assert bad.status_code == 400 and named in bad.json["error"], (query, bad.json)
    unknown = client.get("/api/sites/reports/returns", headers=BEARER)
    assert unknown.status_code == 404 and "valuation" in unknown.json["error"]
    elsewhere = client.get("/api/sites/reports/valuation?site=s9", headers=BEARER)
    assert elsewhere.status_code == 404 and "s9" in elsewhere.json["error"]
    assert client.get("/api/sites/reports/valuation").status_code == 401


def test_the_openapi_document_covers_the_reports_of_the_sites(client):
    document = client.get("/api/openapi.json").json
    operation = document["paths"]["/api/sites/reports/{name}"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"name", "site", "limit", "offset", "today", "kind"} <= names
    assert {"200", "400", "404"} <= set(operation["responses"])


def test_the_pages_filter_by_site_and_download_csv(company, client):
    from hub import users

    users.add(company.centre.conn, "ann", "viewer", "pass-word")
    assert login(client, "ann").status_code == 302
    index = client.get("/sites/reports").text
    assert 'id="site-report-list"' in index and 'id="site-reports-missing"' in index
    assert "Returns" in index and "Quarantine" in index
    assert 'href="/sites/reports"' in client.get("/reports").text
    assert "/sites/reports?site=s2" in client.get("/sites?site=s2").text
    page = client.get(f"/sites/reports/valuation?today={TODAY}").text
    assert "Valuation: the company" in page and "Value at s2" in page
    table = page[page.index('id="site-report"'):]
    assert "58.00" in table and "ODD-9" in table
    one = client.get(f"/sites/reports/valuation?site=s1&today={TODAY}").text
    table = one[one.index('id="site-report"'):]
    assert "Valuation at s1" in one and "ODD-9" not in table and "Value at s2" not in one
    for name in ("abc", "dead-stock", "surplus", "alerts"):
        shown = client.get(f"/sites/reports/{name}?today={TODAY}")
        assert shown.status_code == 200 and 'id="site-report"' in shown.text, name
    assert 'id="pareto-chart"' in client.get("/sites/reports/abc").text
    alerts = client.get("/sites/reports/alerts?site=s2").text
    assert "ODD-9" in alerts[alerts.index('id="site-report"'):]
    csv = client.get(f"/sites/reports/dead-stock.csv?today={TODAY}")
    assert csv.status_code == 200 and csv.text.splitlines()[1] == "CAP,10,,8,2"
    assert client.get("/sites/reports/surplus?site=s9").status_code == 404
    assert client.get("/sites/reports/returns").status_code == 404
    assert client.get("/sites/reports/alerts?kind=nonsense").status_code == 400
    assert client.get("/sites/reports/valuation?limit=0").status_code == 400
