"""The central hub's ingest of its sites' messages (the real hub.central on a real SQLite
ledger) and what a site hub does for the centre (the real ingest): exactly once by
(site, ledger_seq), gaps held and asked for, conflicting duplicates dead-lettered and
alerted; a resend request answered from the site's ledger; the pages and API of the sites."""

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest

from hub import store
from hub.central import CentralIngest
from hub.changes import ChangeFeed
from hub.ingest import Incoming
from hub.web import create_app
from protocol.envelope import encode
from protocol.events import Adjustment, Move, Receipt
from protocol.messages import AppliedMovement, HubStatus, ResendMovements, Stock
from protocol.topics import Topics
from tests.webapp import TOKEN, TOPICS

pytestmark = pytest.mark.hub

BEARER = {"Authorization": f"Bearer {TOKEN}"}
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
S1, S2 = Topics("s1"), Topics("s2")


def movement(seq: int, sku: str = "MUG-1", delta: int = 2, value: int | None = 1_500_000,
             type_: str = "receipt", hub_ts: datetime = TS):  # fmt: skip
    return AppliedMovement(ledger_seq=seq, station="dock-1", epoch="e1", seq=seq,
                           type=type_, sku=sku, location="A-01", delta=delta, ts=TS,
                           hub_ts=hub_ts, value_micros=value)  # fmt: skip


def moved(topics: Topics, *movements: AppliedMovement) -> list[Incoming]:
    return [Incoming(topics.movements, encode(m)) for m in movements]


@pytest.fixture
def centre(tmp_path):
    conn = store.connect(tmp_path / "centre.db")
    store.create_schema(conn)
    yield CentralIngest(conn, Topics("hq"), ["s1", "s2"], resend_after_s=2.0)
    conn.close()


def balances(centre, site: str) -> dict:
    return {(sku, loc): (qty, value)
            for sku, loc, _lot, _owner, qty, value in store.site_lines(centre.conn, site)}  # fmt: skip


def test_each_movement_counts_once_and_a_gap_waits_for_its_movements(centre):
    result = centre.process(moved(S1, movement(1), movement(3), movement(4)))
    assert (result.applied, result.held) == (1, 2)
    assert balances(centre, "s1") == {("MUG-1", "A-01"): (2, 1_500_000)}
    centre.process(moved(S1, movement(1), movement(3)))  # again: nothing changes
    assert balances(centre, "s1") == {("MUG-1", "A-01"): (2, 1_500_000)}
    result = centre.process(moved(S1, movement(2)))
    assert result.applied == 3
    assert balances(centre, "s1") == {("MUG-1", "A-01"): (8, 6_000_000)}
    assert store.site_link_get(centre.conn, "s1").applied == 4
    assert store.site_pending_count(centre.conn, "s1") == 0
    assert store.check_sites(centre.conn) == []
    # The same ledger_seq at another site is another movement.
    centre.process(moved(S2, movement(1, delta=5)))
    assert balances(centre, "s2") == {("MUG-1", "A-01"): (5, 1_500_000)}


def test_a_conflicting_duplicate_is_dead_lettered_and_alerted(centre):
    centre.process(moved(S1, movement(1), movement(3)))
    result = centre.process(moved(S1, movement(1, delta=9), movement(3, sku="TEE-2")))
    assert (result.dead, result.duplicates) == (2, 0)
    assert balances(centre, "s1") == {("MUG-1", "A-01"): (2, 1_500_000)}
    alerts = store.alerts_open(centre.conn)
    assert [a["kind"] for a in alerts] == ["conflicting_movement"]
    reasons = [row["reason"] for row in store.dead_letters(centre.conn, 10)]
    assert all("conflicting duplicate: site s1 ledger_seq" in r for r in reasons)


def test_a_gap_or_a_site_ahead_is_asked_for_until_it_fills(centre):
    centre.process(moved(S1, movement(1), movement(4)))
    assert centre.due_resends(now=100.0) == []  # just seen: it may fill by itself
    assert centre.due_resends(now=103.0) == [("s1", 2)]
    assert centre.due_resends(now=104.0) == []  # asked a moment ago
    assert centre.due_resends(now=106.0) == [("s1", 2)]  # and again while it stays open
    centre.process(moved(S1, movement(2), movement(3)))
    assert centre.due_resends(now=110.0) == []
    # No movement missing in sight, but the site's stock says its ledger is further on.
    stock = Stock(sku="MUG-1", on_hand=1, ledger_seq=9, ts=TS)
    centre.process([Incoming(S2.stock("MUG-1"), encode(stock))])
    centre.due_resends(now=120.0)
    assert centre.due_resends(now=123.0) == [("s2", 1)]


def test_bad_site_messages_are_dead_lettered_and_others_sites_ignored(centre):
    result = centre.process([
        Incoming(S1.movements, b"{not json"),
        Incoming(S1.centre_link, b"up"),
        Incoming(S1.order("SO-1"), b"{}"),
    ])  # fmt: skip
    assert result.dead == 3
    assert not centre.owns(Topics("s9").movements)
    assert not centre.owns(Topics("hq").movements)


def test_the_sites_api_and_page_show_links_lag_and_the_company_stock(tmp_path, centre, as_role):
    centre.process(moved(S1, movement(1), movement(2, sku="TEE-2", delta=3), movement(5)))
    centre.process(moved(S2, movement(1, delta=4, value=None)))
    centre.process([Incoming(S1.centre_link, b"1"), Incoming(S2.centre_link, b"0"),
                    Incoming(S1.hub_status, encode(HubStatus(state="online")))])  # fmt: skip
    app = create_app(str(tmp_path / "centre.db"), Topics("hq"), [TOKEN], changes=ChangeFeed(),
                     sites=["s1", "s2"])  # fmt: skip
    client = app.test_client()
    sites = {r["site"]: r for r in client.get("/api/sites", headers=BEARER).json["sites"]}
    assert (sites["s1"]["link"], sites["s1"]["hub"], sites["s1"]["applied"]) == ("up", "online", 2)
    assert (sites["s1"]["lag_movements"], sites["s1"]["held"]) == (3, 1)
    assert sites["s1"]["lag_s"] >= 0
    assert (sites["s2"]["link"], sites["s2"]["lag_movements"]) == ("down", 0)
    total = client.get("/api/sites/stock", headers=BEARER).json["stock"]
    assert [(i["sku"], i["on_hand"], i["value"]) for i in total] == [
        ("MUG-1", 6, "1.50"), ("TEE-2", 3, "1.50")]
    assert [(p["site"], p["on_hand"]) for p in total[0]["sites"]] == [("s1", 2), ("s2", 4)]
    one = client.get("/api/sites/stock?site=s2", headers=BEARER).json["stock"]
    assert [(i["sku"], i["on_hand"]) for i in one] == [("MUG-1", 4)]
    missing = client.get("/api/sites/stock?site=s9", headers=BEARER)
    assert missing.status_code == 404 and "s9" in missing.json["error"]


def test_the_sites_page_filters_by_site_with_the_company_total(tmp_path, centre, ledger):
    centre.process(moved(S1, movement(1)))
    centre.process(moved(S2, movement(1, delta=4)))
    app = create_app(str(tmp_path / "centre.db"), Topics("hq"), [TOKEN], changes=ChangeFeed(),
                     sites=["s1", "s2"])  # fmt: skip
    from hub import users
    from tests.webapp import login

    users.add(centre.conn, "ann", "viewer", "pass-word")
    client = app.test_client()
    assert login(client, "ann").status_code == 302
    page = client.get("/sites").text
    assert "Company total" in page and ">s1</a>" in page and ">s2</a>" in page
    assert 'href="/sites"' in client.get("/").text  # in the menu of a central hub
    assert 'id="central-stock"' in client.get("/stock").text
    one = client.get("/sites?site=s2").text
    assert "Stock at s2" in one and "Company total" not in one
    assert client.get("/sites?site=s9").status_code == 404


def test_a_site_hub_republishes_its_movements_with_their_value_when_asked(ledger):
    ledger.apply(Receipt(sku="MUG-1", qty=10, location="A-01", unit_cost=Decimal("2.50")),
                 Move(sku="MUG-1", qty=4, from_="A-01", to="B-02"),
                 Adjustment(sku="MUG-1", qty=-1, location="B-02", reason="damaged"))  # fmt: skip
    live = [msgspec.json.decode(p, type=AppliedMovement)
            for _id, topic, p, _r in store.outbox_read(ledger.conn, 0, 1000)
            if topic == TOPICS.movements]  # fmt: skip
    assert [(m.ledger_seq, m.delta, m.value_micros) for m in live] == [
        (1, 10, 25_000_000), (2, -4, -10_000_000), (3, 4, 10_000_000), (4, -1, -2_500_000)]
    last = store.outbox_read(ledger.conn, 0, 1000)[-1][0]
    ledger.ingest.process([Incoming(TOPICS.resend_movements,
                                    encode(ResendMovements(from_=2)))])  # fmt: skip
    again = [msgspec.json.decode(p, type=AppliedMovement)
             for _id, topic, p, _r in store.outbox_read(ledger.conn, last, 1000)
             if topic == TOPICS.movements]  # fmt: skip
    assert again == live[1:]


def test_a_site_hub_keeps_its_bridge_state_for_the_overview(ledger, app):
    ledger.ingest.process([Incoming(TOPICS.centre_link, b"1", retained=True)])
    overview = app.test_client().get("/api/overview", headers=BEARER).json
    assert overview["centre"]["state"] == "up"
    result = ledger.ingest.process([Incoming(TOPICS.centre_link, b"maybe"),
                                    Incoming(TOPICS.resend_movements, b'{"from": 0}')])  # fmt: skip
    assert result.dead == 2
    ledger.ingest.process([Incoming(TOPICS.centre_link, b"0", retained=True)])
    assert app.test_client().get("/api/overview", headers=BEARER).json["centre"]["state"] == "down"


def test_the_centres_check_finds_a_balance_off_its_movements_and_a_hole(centre):
    centre.process(moved(S1, movement(1), movement(2)))
    assert store.check_sites(centre.conn) == []
    centre.conn.execute("UPDATE site_balances SET value = value + 1 WHERE site = 's1'")
    centre.conn.execute("DELETE FROM site_movements WHERE site = 's1' AND ledger_seq = 1")
    found = store.check_sites(centre.conn)
    assert [(f["site"], f.get("sku")) for f in found] == [("s1", "MUG-1"), ("s1", None)]
    assert found[1] == {"site": "s1", "applied": 2, "movements": 1, "max_ledger_seq": 2}


def test_kpis_and_movements_per_site_with_the_company_total(tmp_path, centre):
    later = datetime(2026, 1, 5, 23, 59, tzinfo=UTC)
    centre.process(moved(S1, movement(1, delta=10, value=20_000_000),
                         movement(2, delta=-3, value=-6_000_000, type_="shipment"),
                         movement(3, delta=-1, value=-2_000_000, type_="adjustment",
                                  hub_ts=later)))  # fmt: skip
    centre.process(moved(S2, movement(1, sku="TEE-2", delta=5, value=5_000_000),
                         movement(2, sku="TEE-2", delta=-2, value=-2_000_000,
                                  type_="shipment", hub_ts=later)))  # fmt: skip
    app = create_app(str(tmp_path / "centre.db"), Topics("hq"), [TOKEN], changes=ChangeFeed(),
                     sites=["s1", "s2"])  # fmt: skip
    client = app.test_client()
    kpis = client.get("/api/sites/kpis", headers=BEARER).json
    s1, s2 = kpis["sites"]
    assert (s1["site"], s1["received"], s1["shipped"], s1["adjusted"]) == (
        "s1", {"units": 10, "value": "20.00"}, {"units": 3, "value": "6.00"},
        {"units": -1, "value": "-2.00"})
    assert s1["on_hand"] == {"skus": 1, "units": 6, "value": "12.00"}
    company = kpis["company"]
    assert (company["received"]["units"], company["shipped"], company["movements"]) == (
        15, {"units": 5, "value": "8.00"}, 5)
    assert company["on_hand"] == {"skus": 2, "units": 9, "value": "15.00"}
    # The period is the site hub's day: day 5 holds s1's adjustment and s2's shipment.
    day5 = client.get("/api/sites/kpis?since=2026-01-05&until=2026-01-05", headers=BEARER).json
    assert [(k["site"], k["movements"]) for k in day5["sites"]] == [("s1", 1), ("s2", 1)]
    assert day5["company"]["shipped"] == {"units": 2, "value": "2.00"}
    only = client.get("/api/sites/kpis?site=s2&until=2026-01-04", headers=BEARER).json
    assert [k["site"] for k in only["sites"]] == ["s2"] and only["company"]["shipped"]["units"] == 0
    bad = client.get("/api/sites/kpis?since=2026-01-05&until=2026-01-01", headers=BEARER)
    assert bad.status_code == 422 and "until" in bad.json["error"]
    assert client.get("/api/sites/kpis?site=s9", headers=BEARER).status_code == 404

    listed = client.get("/api/sites/movements?limit=2", headers=BEARER).json
    assert [(m["site"], m["ledger_seq"]) for m in listed["movements"]] == [("s2", 2), ("s2", 1)]
    older = client.get(f"/api/sites/movements?limit=2&before={listed['next']['before']}",
                       headers=BEARER).json  # fmt: skip
    assert [(m["site"], m["ledger_seq"]) for m in older["movements"]] == [("s1", 3), ("s1", 2)]
    shipped = client.get("/api/sites/movements?site=s1&type=shipment", headers=BEARER).json
    assert [(m["delta"], m["value"]) for m in shipped["movements"]] == [(-3, "-6.00")]
    assert shipped["next"] is None


def test_the_sites_pages_show_kpis_and_movements_filtered_by_site(tmp_path, centre):
    centre.process(moved(S1, movement(1, delta=7)))
    centre.process(moved(S2, movement(1, sku="TEE-2", delta=4)))
    app = create_app(str(tmp_path / "centre.db"), Topics("hq"), [TOKEN], changes=ChangeFeed(),
                     sites=["s1", "s2"])  # fmt: skip
    from hub import users
    from tests.webapp import login

    users.add(centre.conn, "ann", "viewer", "pass-word")
    client = app.test_client()
    assert login(client, "ann").status_code == 302
    page = client.get("/sites").text
    assert 'id="site-kpis"' in page and "Company total" in page
    assert 'id="central-reports"' in client.get("/reports").text
    one = client.get("/sites?site=s2&since=2026-01-01").text
    kpis = one[one.index('id="site-kpis"'):one.index('id="site-stock"')]
    assert ">s2</a>" in kpis and ">s1</a>" not in kpis and "Company total" not in kpis
    assert client.get("/sites?until=2026-01-01&since=2026-02-01").status_code == 400
    moves = client.get("/sites/movements?site=s1").text
    table = moves[moves.index('id="site-movements"'):]
    assert "MUG-1" in table and "TEE-2" not in table
    assert client.get("/sites/movements?site=s9").status_code == 404
