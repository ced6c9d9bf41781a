"""The overview as a supervisor acts on it: orders waiting and being packed, packs per
station and packer, receipts due, the hub's backlog and lag, what each station read in
its last scan and what to do about a device that is not ready. A ledger fed through the
real ingest, the real app over its test client."""

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings

from hub import catalog, orders, purchasing, store
from hub.changes import ChangeFeed
from hub.health import Heartbeats
from hub.ingest import Incoming
from hub.ownership import Ownership
from hub.web import create_app
from protocol import limits
from protocol.envelope import CLOCK_OFFSET_ENV, encode_event
from protocol.events import Receipt, Scan, Shipment, ShipmentLine
from protocol.messages import Order, OrderLine, Product, ScanRead, StationStatus
from tests.faults import wire
from tests.webapp import TOKEN, TOPICS, TS

pytestmark = pytest.mark.hub

BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def viewer(as_role):
    return as_role("viewer")


def ship(order: str, operator: str) -> Shipment:
    line = ShipmentLine(sku="MUG-1", qty=1, location="A-1")
    return Shipment(order=order, lines=[line], operator=operator)


@pytest.fixture
def floor(ledger):
    conn = ledger.conn
    catalog.upsert_products(conn, TOPICS, [Product(sku="MUG-1", name="Mug")])
    for order_id in ("SO-1", "SO-2", "SO-3", "SO-4"):
        orders.upsert_order(
            conn, TOPICS, Order(order=order_id, lines=[OrderLine(sku="MUG-1", qty=1)])
        )
    ledger.apply(Receipt(sku="MUG-1", qty=10, location="A-1"), station="dock-1")
    ledger.apply(Scan(code="ORD:SO-3", verdict="ok", mode="pack", order="SO-3", operator="kim"),
                 ship("SO-1", "kim"), ship("SO-2", "kim"))  # fmt: skip
    ledger.apply(ship("SO-4", "lee"), station="pack-2")
    today = datetime.now(UTC).date()
    for po, expected in (("PO-LATE", today - timedelta(days=2)), ("PO-TODAY", today),
                         ("PO-LATER", today + timedelta(days=3))):  # fmt: skip
        purchasing.create(conn, TOPICS, purchasing.PurchaseOrderIn(
            po=po, expected=expected, lines=[purchasing.PoLineIn(sku="MUG-1", qty=5)]),
            datetime.now(UTC).isoformat())  # fmt: skip
    return ledger


def test_the_overview_counts_orders_packs_per_station_and_packer_and_receipts_due(app, floor,
                                                                                   viewer):  # fmt: skip
    data = app.test_client().get("/api/overview", headers=BEARER).json
    assert data["orders"] == {"waiting": 0, "packing": 1}  # SO-3 scanned; the rest shipped
    assert data["kpis"]["shipments"] == 3
    stations = {p["name"]: (p["today"], p["last_hour"]) for p in data["packs"]["stations"]}
    assert stations == {"pack-1": (2, 2), "pack-2": (1, 1)}
    packers = {p["name"]: (p["today"], p["per_hour"]) for p in data["packs"]["packers"]}
    assert packers == {"kim": (2, 2.0), "lee": (1, 1.0)}  # the day's first hour counts whole
    assert [p["po"] for p in data["receipts_due"]] == ["PO-LATE", "PO-TODAY"]
    assert data["receipts_due"][0]["ordered"] == 5
    page = viewer.get("/").text
    assert 'data-kpi="orders_packing">1<' in page
    assert "Packed per packer" in page and ">kim<" in page
    assert "PO-LATE" in page and "(late)" in page and "PO-LATER" not in page


def test_receiving_against_a_due_purchase_order_shows_on_its_row(app, floor):
    floor.apply(Receipt(sku="MUG-1", qty=2, location="A-1", po="PO-TODAY"), station="dock-1")
    data = app.test_client().get("/api/overview", headers=BEARER).json
    due = {p["po"]: (p["status"], p["received"], p["ordered"]) for p in data["receipts_due"]}
    assert due["PO-TODAY"] == ("receiving", 2, 5)


def test_a_station_shows_what_it_read_not_the_raw_gs1_string(floor, viewer):
    raw = "]C10104006381333931" + "10L7<GS>21S9"
    read = ScanRead(kind="item", sku="MUG-1", gtin="04006381333931", lot="L7", serial="S9",
                    units=1)  # fmt: skip
    status = StationStatus(state="online", epoch="e1", last_scan=raw, last_verdict="ok",
                           last_read=read, devices={"scanner": "ready"})  # fmt: skip
    floor.status("pack-1", msgspec.json.encode(status))
    page = viewer.get("/").text
    row = page[page.index('data-station="pack-1"') :]
    row = row[: row.index("</tr>")]
    assert ">MUG-1</a>, lot L7, serial S9" in row
    assert raw not in row


def test_an_item_read_without_units_shows_its_sku(floor, viewer):
    # units is 0 by default, so left out of the JSON: the template compared a missing key.
    read = ScanRead(kind="item", sku="MUG-1")
    status = StationStatus(state="online", last_scan="X", last_verdict="ok", last_read=read)
    floor.status("pack-1", msgspec.json.encode(status))
    page = viewer.get("/")
    assert page.status_code == 200
    row = page.text[page.text.index('data-station="pack-1"') :]
    assert ">MUG-1</a>" in row[: row.index("</tr>")]


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(wire.struct(msgspec.inspect.type_info(StationStatus)))
def test_every_status_the_protocol_takes_shows_on_the_overview_and_station_page(
    floor, viewer, status
):
    floor.status("pack-1", wire.to_json({**status, "conn": limits.SEQ_MAX}))  # never stale
    for path in ("/", "/stations/pack-1", "/api/stations"):
        assert viewer.get(path).status_code == 200, path


def test_a_station_older_than_last_read_shows_its_raw_code_as_code(floor, viewer):
    status = StationStatus(state="online", last_scan="]C1ODD", last_verdict="unknown_code")
    floor.status("pack-1", msgspec.json.encode(status))
    assert "<code>]C1ODD</code>" in viewer.get("/").text


def test_a_device_that_is_not_ready_is_red_with_what_to_do(floor, viewer):
    devices = {"scanner": "missing", "scale": "ready", "zebra": "fault: paper out"}
    status = StationStatus(state="online", epoch="e1", devices=devices)
    floor.status("pack-2", msgspec.json.encode(status))
    data = viewer.get("/api/overview").json
    [station] = [s for s in data["stations"] if s["station"] == "pack-2"]
    assert [d["name"] for d in station["not_ready"]] == ["scanner", "zebra"]
    page = viewer.get("/").text
    assert '<span class="device bad">scanner: missing</span>' in page
    assert "Plug the scanner in again" in page
    assert '<span class="device bad">zebra: fault: paper out</span>' in page
    assert "Fix it at the bench (paper out)" in page
    assert '<span class="device">scale: ready</span>' in page  # ready is not red


def test_an_offline_station_says_what_to_check(floor, viewer):
    floor.status("pack-1", msgspec.json.encode(StationStatus(state="offline")))
    assert "Check the station&#39;s power and network" in viewer.get("/").text


def test_the_backlog_counts_events_at_the_stations_and_held_behind_a_gap(floor, viewer):
    # pack-1 has applied 3 and journaled 9; an event 12 came ahead of 4..11: it is held.
    floor.status("pack-1", msgspec.json.encode(StationStatus(state="online", epoch="e1", head=9)))
    late = encode_event("pack-1", "e1", 12, Scan(code="X", verdict="ok", mode="pack"), TS)
    floor.ingest.process([Incoming(TOPICS.events("pack-1"), late)])
    backlog = viewer.get("/api/overview").json["backlog"]
    assert (backlog["at_stations"], backlog["held"], backlog["failed"]) == (6, 1, 0)
    assert backlog["oldest_held"] == store.gaps(floor.conn)[0].since
    page = viewer.get("/").text
    assert 'data-backlog="at_stations">6<' in page and 'data-backlog="held">1<' in page


def test_the_hub_lag_is_its_ingest_loops_last_turn_and_a_stall_is_named(ledger):
    now = [100.0]
    heartbeats = Heartbeats({"ingest": 5.0, "outbox": 5.0}, clock=lambda: now[0])
    app = create_app(ledger.path, TOPICS, [TOKEN], changes=ChangeFeed(), heartbeats=heartbeats,
                     data_dir=ledger.dir)
    client = app.test_client()
    heartbeats.beat("ingest")
    now[0] += 0.5
    backlog = client.get("/api/overview", headers=BEARER).json["backlog"]
    assert (backlog["ingest_lag_s"], backlog["stalled"]) == (0.5, [])
    now[0] += 12
    backlog = client.get("/api/overview", headers=BEARER).json["backlog"]
    assert (backlog["ingest_lag_s"], backlog["stalled"]) == (12.5, ["ingest", "outbox"])


def test_today_on_the_overview_is_the_sites_day_not_utcs(ledger, monkeypatch):
    """Kiritimati is UTC+14: at 12:00 UTC on 1 June it is already 02:00 on 2 June there. A
    shipment at 09:00 UTC was yesterday evening for the site; one at 11:30 UTC is today's;
    a purchase order expected on 2 June is due today."""
    def hub_clock_at(moment: datetime) -> None:
        offset = (moment - datetime.now(UTC)).total_seconds()
        monkeypatch.setenv(CLOCK_OFFSET_ENV, str(offset))

    catalog.upsert_products(ledger.conn, TOPICS, [Product(sku="MUG-1", name="Mug")])
    noon = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    hub_clock_at(noon - timedelta(hours=3))
    ledger.apply(ship("SO-1", "kim"))
    hub_clock_at(noon - timedelta(minutes=30))
    ledger.apply(ship("SO-2", "kim"))
    for po, expected in (("PO-2JUN", date(2030, 6, 2)), ("PO-3JUN", date(2030, 6, 3))):
        purchasing.create(ledger.conn, TOPICS, purchasing.PurchaseOrderIn(
            po=po, expected=expected, lines=[purchasing.PoLineIn(sku="MUG-1", qty=5)]),
            noon.isoformat())  # fmt: skip
    hub_clock_at(noon)
    app = create_app(ledger.path, TOPICS, [TOKEN], changes=ChangeFeed(),
                     timezone="Pacific/Kiritimati", data_dir=ledger.dir)  # fmt: skip
    data = app.test_client().get("/api/overview", headers=BEARER).json
    assert data["today"] == "2030-06-02"
    assert data["kpis"]["shipments"] == 1
    assert [(p["name"], p["today"]) for p in data["packs"]["packers"]] == [("kim", 1)]
    assert [p["po"] for p in data["receipts_due"]] == ["PO-2JUN"]


def test_the_hub_processes_are_listed_with_their_stations_and_duties(floor, viewer):
    assert viewer.get("/api/overview").json["workers"] == []  # the single process: none
    ingest = Ownership(store.connect(floor.path), "ingest", lease_s=30.0)
    web = Ownership(store.connect(floor.path), "web", lease_s=30.0)
    ingest.start()  # the stations the ledger knows get a lease row
    for worker in (ingest, web, ingest):
        worker.tick()
    listed = {w["id"]: w for w in viewer.get("/api/overview").json["workers"]}
    assert listed[ingest.id]["role"] == "ingest" and listed[web.id]["role"] == "web"
    assert listed[ingest.id]["stations"] == 3  # dock-1, pack-1, pack-2
    assert sorted(listed[ingest.id]["duties"]) == ["housekeeping", "outbox"]
    page = viewer.get("/").text
    assert f'data-worker="{ingest.id}">ingest on ' in page and "3 stations, " in page
    ingest.stop()
    assert [w["role"] for w in viewer.get("/api/overview").json["workers"]] == ["web"]
