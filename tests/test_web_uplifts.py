"""The contingency plans page: list, add and end plans with the forms (CSRF, roles), and
each plan's effect on today's reorder point, through the real app."""

import re
from datetime import date, timedelta

import pytest

from hub import catalog, settings
from protocol.events import Receipt, Shipment, ShipmentLine
from protocol.messages import Product
from tests.webapp import TOPICS, page_csrf

pytestmark = pytest.mark.hub

@pytest.fixture
def today() -> date:
    """Read as each test starts (the app reads its own at each request): read once at
    import, it was a day behind for a run that reached this module after midnight."""
    return date.today()


@pytest.fixture
def demand(ledger):
    """10 MUG shipped today over a 10-day window: mean 1/day, sd 3; lead time 14 days (the
    default); safety stock ⌈1.65 × 3 × √14⌉ = 19; reorder point 14 + 19 = 33."""
    catalog.upsert_products(ledger.conn, TOPICS, [Product(sku="MUG", name="Mug")])
    settings.save(ledger.conn, settings.Settings(demand_window_days=10))
    ledger.apply(Receipt(sku="MUG", qty=20, location="A-1"),
                 Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=10, location="A-1")]))
    return ledger


def _effect(html: str, plan: int) -> str:
    row = re.search(rf'<tr data-uplift="{plan}">(.*?)</tr>', html, re.S).group(1)
    return re.search(r'data-effect="MUG">([^<]*)<', row).group(1)


def test_a_supervisor_adds_a_plan_sees_its_effect_and_ends_it(as_role, demand, today):
    client = as_role("supervisor")
    form = {"csrf_token": page_csrf(client, "/uplifts"), "sku": "MUG", "factor": "2",
            "start": (today - timedelta(days=1)).isoformat(),
            "end": (today + timedelta(days=6)).isoformat(), "note": "spring promotion"}  # fmt: skip
    added = client.post("/uplifts", data=form, follow_redirects=True)
    assert "Contingency plan 1 added" in added.text
    # Days today..today+13 of the lead time: 7 of them doubled: 21 + 19 = 40.
    assert _effect(added.text, 1) == "MUG: 33 → 40" and "spring promotion" in added.text
    ended = client.post("/uplifts/1/end", data={"csrf_token": form["csrf_token"]},
                        follow_redirects=True)  # fmt: skip
    assert "Contingency plan 1 ended" in ended.text
    assert _effect(ended.text, 1) == "MUG: 33 → 33"
    again = client.post("/uplifts/1/end", data={"csrf_token": form["csrf_token"]},
                        follow_redirects=True)  # fmt: skip
    assert "already over" in again.text


@pytest.mark.parametrize("change, reason", [
    ({"factor": "0"}, "factor"),
    ({"sku": "NOPE"}, "unknown sku NOPE"),
    ({"end": "2000-01-01"}, "`end` is before `start`"),
])  # fmt: skip
def test_a_bad_plan_is_refused_with_the_reason_and_nothing_added(as_role, demand, change, reason,
                                                                today):
    client = as_role("supervisor")
    form = {"csrf_token": page_csrf(client, "/uplifts"), "sku": "MUG", "factor": "2",
            "start": today.isoformat(), "end": today.isoformat(), **change}  # fmt: skip
    page = client.post("/uplifts", data=form, follow_redirects=True)
    assert "The plan was not added" in page.text and reason in page.text
    assert "No contingency plans." in page.text


def test_a_viewer_sees_the_plans_but_cannot_change_them(as_role, demand, today):
    supervisor = as_role("supervisor")
    supervisor.post("/uplifts", data={"csrf_token": page_csrf(supervisor, "/uplifts"),
                                      "factor": "1.5", "start": today.isoformat(),
                                      "end": today.isoformat()})  # fmt: skip
    viewer = as_role("viewer")
    page = viewer.get("/uplifts")
    assert "every product" in page.text and "End today" not in page.text
    assert _effect(page.text, 1) == "MUG: 33 → 34"  # today's demand × 1.5: 14.5 + 19
    refused = viewer.post("/uplifts/1/end", data={"csrf_token": page_csrf(viewer, "/uplifts")})
    assert refused.status_code == 403
    forged = supervisor.post("/uplifts/1/end", data={})
    assert forged.status_code in (400, 403)
