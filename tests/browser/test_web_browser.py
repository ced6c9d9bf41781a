"""The pages in a real headless Chromium: login, live overview, stock search, product
chart, CSV download and approving a count variance."""

from pathlib import Path

import msgspec
import pytest

from hub import catalog
from protocol.events import Count, Receipt
from protocol.messages import Product, StationStatus
from tests.browser.conftest import log_in, shot
from tests.webapp import PASSWORD, TOPICS


@pytest.fixture
def stocked(ledger):
    catalog.upsert_products(ledger.conn, TOPICS, [
        Product(sku="MUG-1", name="Mug, white"), Product(sku="TEA-1", name="Earl Grey tea"),
        Product(sku="XSS-1", name="<script>document.title='owned'</script>"),
    ])  # fmt: skip
    ledger.apply(Receipt(sku="MUG-1", qty=10, location="A-03-2"),
                 Receipt(sku="TEA-1", qty=4, location="B-01"),
                 Receipt(sku="MUG-1", qty=5, location="A-03-2", lot="L7"),
                 Receipt(sku="XSS-1", qty=1, location="B-01"))  # fmt: skip
    status = StationStatus(state="online", mode="pack", operator="kim", last_scan="SO-1",
                           last_verdict="ok", devices={"scanner": "ok", "scale": "ok",
                                                       "printer": "paper low"})  # fmt: skip
    ledger.status("pack-1", msgspec.json.encode(status))
    return ledger


def test_login_with_a_wrong_then_a_right_password(page, server, ledger):
    ledger.user("sam", "supervisor")
    page.goto(server.url + "/stock")
    assert page.url.startswith(server.url + "/login")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert "Wrong name or password" in page.inner_text("#login-error")
    shot(page, "login-error")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#stock")
    assert page.url == server.url + "/stock"
    assert page.inner_text("#who") == "sam (supervisor)"


def test_the_overview_shows_a_new_movement_without_reload(page, server, stocked):
    log_in(page, server, "ann", "viewer", stocked)
    page.wait_for_selector("#movements tbody tr")
    marker = page.evaluate("() => { window.notReloaded = true; return true; }")
    stocked.apply(Receipt(sku="TEA-1", qty=7, location="C-09"))
    server.changes.bump()  # what the hub's ingest loop does after each batch
    page.wait_for_selector("#movements tbody tr:first-child >> text=C-09")
    assert marker and page.evaluate("() => window.notReloaded === true")
    assert page.inner_text("[data-kpi=receipts]") == "5"
    shot(page, "overview-live")


def test_stock_search_by_name_and_location(page, server, stocked):
    log_in(page, server, "ann", "viewer", stocked)
    page.goto(server.url + "/stock")
    page.fill("input[name=q]", "earl")
    page.click("#stock-search button")
    page.wait_for_selector("#stock >> text=TEA-1")
    assert "MUG-1" not in page.inner_text("#stock")
    page.fill("input[name=q]", "A-03-2")
    page.click("#stock-search button")
    page.wait_for_selector("#location-stock >> text=L7")
    shot(page, "stock-location")


def test_a_hostile_product_name_stays_text(page, server, stocked):
    log_in(page, server, "ann", "viewer", stocked)
    page.goto(server.url + "/products/XSS-1")
    assert "<script>" in page.inner_text("#product-name")
    assert page.title() != "owned"


def test_the_product_chart_draws_on_hand_over_time(page, server, stocked):
    log_in(page, server, "ann", "viewer", stocked)
    page.goto(server.url + "/products/MUG-1")
    page.wait_for_selector("#onhand-chart path.chart-line")
    assert page.get_attribute("#onhand-chart", "data-points") == "2"
    stocked.apply(Receipt(sku="MUG-1", qty=1, location="A-03-2"))
    server.changes.bump()
    page.wait_for_function(
        "() => document.querySelector('#onhand-chart').dataset.points === '3'")
    assert page.inner_text("#on-hand") == "16"
    shot(page, "product-chart")


def test_downloading_the_stock_csv(page, server, stocked):
    log_in(page, server, "ann", "viewer", stocked)
    page.goto(server.url + "/stock?q=MUG")
    with page.expect_download() as info:
        page.click("text=CSV")
    download = info.value
    assert download.suggested_filename == "stock.csv"
    assert Path(download.path()).read_text().splitlines()[1] == 'MUG-1,"Mug, white",15,0'


def test_approving_a_count_variance(page, server, ledger):
    ledger.apply(Receipt(sku="MUG-1", qty=100, location="A-01"),
                 Count(sku="MUG-1", location="A-01", counted=3))  # fmt: skip
    log_in(page, server, "sam", "supervisor", ledger)
    page.goto(server.url + "/counts")
    page.click("#variances button:has-text('Approve')")
    page.wait_for_selector("text=approved")
    assert "Nothing waiting" in page.inner_text("#variances")
    shot(page, "counts-approved")


def test_pages_work_under_the_content_security_policy(page, server, stocked):
    """No inline script or handler runs under the hub's CSP: the order filter, the live
    overview and the product chart must work with their scripts from /static alone."""
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None)
    log_in(page, server, "sam", "supervisor", stocked)
    page.goto(server.url + "/orders")
    page.select_option("select[name=status]", index=1)
    page.wait_for_url("**/orders?status=*")
    page.goto(server.url + "/products/MUG-1")
    page.wait_for_selector("#onhand-chart path.chart-line")
    page.goto(server.url + "/")
    assert refused == []
