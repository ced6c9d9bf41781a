"""The reports, the KPIs and the contingency plans count "today" as the site's day (the
`[web] timezone`), as the overview does: a site far from UTC would otherwise see its day
cut in two. Kiritimati is UTC+14: at 12:00 UTC on 1 June it is 02:00 on 2 June there."""

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from hub import catalog, planning, purchasing, store
from hub.changes import ChangeFeed
from hub.web import create_app
from protocol.events import Count, Receipt, Scan
from protocol.messages import Product
from tests.webapp import TOKEN, TOPICS, Ledger, hub_clock_at, login, page_csrf

pytestmark = pytest.mark.hub

KIRITIMATI = "Pacific/Kiritimati"
NOON_UTC = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)  # 02:00 on 2 June at the site
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A Kiritimati site's ledger (its ingest counts the site's days) and app, at NOON_UTC."""
    hub_clock_at(monkeypatch, NOON_UTC)
    ledger = Ledger(tmp_path / "ledger.db", zone=ZoneInfo(KIRITIMATI))
    app = create_app(ledger.path, TOPICS, [TOKEN], changes=ChangeFeed(), timezone=KIRITIMATI,
                     data_dir=ledger.dir)
    app.config["TESTING"] = True
    yield ledger, app
    ledger.conn.close()


def logged_in(ledger: Ledger, app, role: str):
    ledger.user(role, role)
    client = app.test_client()
    assert login(client, role).status_code == 302
    return client


def test_the_kpis_api_and_page_end_on_the_sites_today(site):
    ledger, app = site
    ledger.apply(*[Scan(code="C", verdict="ok", mode="pack") for _ in range(3)])  # at 02:00
    report = app.test_client().get("/api/reports/kpis", headers=BEARER).json
    assert report["summary"] == {"since": "2030-05-04", "until": "2030-06-02"}
    assert {row["kpi"]: row["value"] for row in report["rows"]}["scans"] == 3
    page = logged_in(ledger, app, "viewer").get("/reports/kpis").text
    assert "2030-06-02" in page or "2 Jun" in page
    assert "2030-06-01" not in page and "1 Jun" not in page


def test_the_reports_page_refuses_since_after_the_sites_today(site):
    """`since` is checked against the default `until`, the site's today: 2 June is not
    after it (at UTC's 1 June it would be)."""
    ledger, app = site
    client = logged_in(ledger, app, "viewer")
    assert client.get("/reports/kpis?since=2030-06-02").status_code == 200
    assert client.get("/reports/kpis?since=2030-06-03").status_code == 400


def test_contingency_plans_run_and_end_on_the_sites_day(site):
    """Plan 1 starts on 2 June: running at the site (ahead on UTC's 1 June). Plan 2 started
    on 1 June: ending it today ends it on the site's yesterday (on UTC's day it would be
    removed as a plan that starts today)."""
    ledger, app = site
    catalog.upsert_products(ledger.conn, TOPICS, [Product(sku="MUG", name="Mug")])
    with store.transaction(ledger.conn):
        for start in (date(2030, 6, 2), date(2030, 6, 1)):
            planning.add_uplift(ledger.conn, planning.Uplift(
                sku="MUG", start=start, end=date(2030, 6, 8), factor=2))  # fmt: skip
    client = logged_in(ledger, app, "supervisor")
    page = client.get("/uplifts").text
    assert "Today is 2030-06-02." in page
    row = re.search(r'<tr data-uplift="1">(.*?)</tr>', page, re.S).group(1)
    assert "running" in row and "ahead" not in row
    ended = client.post("/uplifts/2/end", data={"csrf_token": page_csrf(client, "/uplifts")},
                        follow_redirects=True)  # fmt: skip
    assert "Contingency plan 2 ended" in ended.text
    assert store.uplift_get(ledger.conn, 2)[3] == "2030-06-01"


def test_a_purchase_order_closed_through_the_api_counts_on_the_sites_day(site):
    """Its receiving accuracy lands on the site's 2 June, with the day's other KPIs."""
    ledger, app = site
    catalog.upsert_products(ledger.conn, TOPICS, [Product(sku="MUG", name="Mug")])
    with store.transaction(ledger.conn):
        purchasing.create(ledger.conn, TOPICS, purchasing.PurchaseOrderIn(
            po="PO-1", lines=[purchasing.PoLineIn(sku="MUG", qty=5)]),
            "2030-05-20T08:00:00+00:00")  # fmt: skip
    closed = app.test_client().post("/api/purchase-orders/PO-1/close", headers=BEARER)
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    days = store.daily_totals(ledger.conn, "2030-05-31", "2030-06-03")
    assert [(d["day"], d["po_lines"], d["po_lines_exact"]) for d in days] == [
        ("2030-06-02", 1, 0)]


def test_the_consignment_settlement_runs_to_the_sites_today(site):
    _ledger, app = site
    report = app.test_client().get("/api/consignment/settlement", headers=BEARER).json
    assert report["until"] == "2030-06-02"


def test_the_accounting_export_takes_the_sites_days_and_still_ties(site):
    """A receipt at 02:00 on the site's 2 June (1 June in UTC) is a posting of 2 June,
    where the day's stored value change counts it: opening + postings = closing."""
    ledger, app = site
    catalog.upsert_products(ledger.conn, TOPICS, [Product(sku="MUG", name="Mug")])
    ledger.apply(Receipt(sku="MUG", qty=5, location="A-1", unit_cost=Decimal(3)))
    client = app.test_client()
    rows = client.get("/api/reports/accounting.csv?from=2030-06-02&to=2030-06-02",
                      headers=BEARER).get_data(as_text=True)  # fmt: skip
    postings = [r for r in csv.DictReader(io.StringIO(rows)) if r["movement"]]
    assert [(r["date"], r["type"], r["value"]) for r in postings] == [
        ("2030-06-02", "receipt", "15.00")]
    summary = client.get("/api/reports/accounting?from=2030-06-02&to=2030-06-02",
                         headers=BEARER).json  # fmt: skip
    assert summary["balanced"] is True and summary["closing_value"] == "15.00"


def test_a_cycle_count_falls_due_on_the_sites_day(site, monkeypatch):
    """Counted on the site's 2 June 2029 (a product without a class: every 365 days), the
    line is due on the site's 2 June 2030: now, though UTC's day is still 1 June."""
    ledger, app = site
    catalog.upsert_products(ledger.conn, TOPICS, [Product(sku="MUG", name="Mug")])
    hub_clock_at(monkeypatch, datetime(2029, 6, 1, 11, 0, tzinfo=UTC))  # 01:00 on 2 June
    ledger.apply(Receipt(sku="MUG", qty=5, location="A-1"),
                 Count(sku="MUG", location="A-1", counted=5))  # fmt: skip
    hub_clock_at(monkeypatch, NOON_UTC)
    due = app.test_client().get("/api/counts/due", headers=BEARER).json["due"]
    assert [(d["sku"], d["last_count"], d["due"]) for d in due] == [
        ("MUG", "2029-06-02", "2030-06-02")]
