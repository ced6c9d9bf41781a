"""Every page as a person reads it, on a desk (1366 px) and on a phone (390 px): nothing
wider than the screen, no field names or ISO timestamps in the text, every alert links to
its fix, axe-core finds no serious accessibility violation, and the pages run under a
Content-Security-Policy without inline script. Each page is photographed at both sizes."""

import re
from decimal import Decimal

import msgspec
import pytest

from hub import catalog, counts, daily_refresh, orders, purchasing, store
from protocol.envelope import utc_now
from protocol.events import Count, Receipt, Scan
from protocol.messages import Order, OrderLine, StationStatus
from tests.browser.conftest import log_in
from tests.chromium import ARTIFACTS, AXE, OVERFLOW, axe_serious
from tests.webapp import TOPICS

pytestmark = pytest.mark.slow

SIZES = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}
# What the hub will send (issue 17): scripts from the hub itself only, none inline.
CSP = "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'"
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d([T ]\d\d:\d\d)?")
FIELD_NAME = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
PAGES = [
    "/", "/stock", "/stock?q=A-03-2", "/stock?filter=low", "/products/MUG-1",
    "/locations/A-03-2", "/orders", "/orders/SO-9", "/purchase-orders",
    "/purchase-orders/PO-7", "/counts", "/counts/full/FC-0001", "/reports",
    "/reports/stock", "/reports/valuation", "/reports/reorder", "/reports/reorder?columns=all",
    "/reports/abc", "/reports/dead-stock", "/reports/surplus", "/reports/kpis",
    "/reports/alerts", "/stations", "/stations/pack-1", "/alerts", "/labels",
    "/labels/locations", "/import", "/users",
]  # fmt: skip

# The text of a page a person reads: not barcodes and payloads (<code>), not scripts.
PAGE_TEXT = """() => {
  const skip = "code, script, style, textarea, noscript, title";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement.closest(skip)) parts.push(node.textContent);
  }
  return parts.join(" ");
}"""


@pytest.fixture
def warehouse(ledger):
    """A little of everything the pages show: products with costs and levels, stock in
    bins, a purchase order part received, an order with its scan log, a count waiting
    for approval, a full count, alerts, a station, and the daily reports."""
    conn = ledger.conn
    records = [
        {"sku": "MUG-1", "name": "Mug, white", "reorder_point": 40, "par_level": 120,
         "unit_cost": "2.5"},
        {"sku": "TEA-1", "name": "Earl Grey tea", "reorder_point": 5, "par_level": 12},
    ]  # fmt: skip
    catalog.upsert_products(conn, TOPICS, [msgspec.convert(r, catalog.ProductRecord)
                                           for r in records])  # fmt: skip
    now = utc_now().isoformat()
    with store.transaction(conn):
        purchasing.create(conn, TOPICS, purchasing.PurchaseOrderIn(
            po="PO-7", lines=[purchasing.PoLineIn(sku="MUG-1", qty=1200)]), now)  # fmt: skip
    orders.upsert_order(conn, TOPICS, Order(order="SO-9", lines=[OrderLine(sku="MUG-1", qty=2)]))
    ledger.apply(
        Receipt(sku="MUG-1", qty=1000, location="A-03-2", lot="L7", po="PO-7",
                unit_cost=Decimal("2.5")),
        Receipt(sku="TEA-1", qty=4, location="B-01"),
        Scan(code="4006381333931", verdict="ok", mode="pack", order="SO-9", sku="MUG-1",
             operator="kim"),
        Scan(code="5012345678900", verdict="not_in_order", mode="pack", order="SO-9",
             operator="kim"),
        Count(sku="MUG-1", location="A-03-2", lot="L7", counted=900),
        Receipt(sku="GHOST-1", qty=1, location="B-01"),
    )  # fmt: skip
    status = StationStatus(state="online", mode="pack", operator="kim", last_scan="SO-9",
                           last_verdict="ok", devices={"scanner": "ok", "scale": "ok",
                                                       "printer": "paper low"})  # fmt: skip
    ledger.status("pack-1", msgspec.json.encode(status))
    with store.transaction(conn):
        counts.start_full_count(conn, TOPICS, ["pack-1"], now)
    daily_refresh.refresh(conn, utc_now().date(), now, force=True)
    return ledger


def check(page, server, path: str, size: str) -> list[str]:
    """What a person would find wrong with one page: a list of problems."""
    # The page before this one left a long poll waiting in a server thread: answer it, or
    # a tour of 30 pages would tie up every thread of the test server.
    server.changes.bump()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text
            else None)  # fmt: skip
    response = page.goto(server.url + path)
    assert response.ok, f"{path}: HTTP {response.status}"
    page.wait_for_load_state("load")
    name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "overview"
    (ARTIFACTS / "pages").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "pages" / f"{name}-{size}.png"), full_page=True)
    problems = [f"CSP: {v}" for v in violations]
    wide = page.evaluate(OVERFLOW)
    if wide > 0:
        problems.append(f"{wide} px wider than the screen")
    text = page.evaluate(PAGE_TEXT)
    problems += [f"time or date as ISO: {m.group(0)!r}" for m in ISO_TIME.finditer(text)]
    problems += [f"field name: {m!r}" for m in FIELD_NAME.findall(text)]
    problems += [f"axe {v}" for v in axe_serious(page)]
    return [f"{path} ({size}): {p}" for p in problems]


@pytest.fixture
def with_csp(browser, server):
    def open_context(size: str):
        context = browser.new_context(viewport=SIZES[size])

        def add_csp(route):
            if route.request.resource_type != "document":
                route.continue_()
                return
            response = route.fetch()
            headers = {**response.headers, "content-security-policy": CSP}
            route.fulfill(response=response, headers=headers)

        context.route(f"{server.url}/**", add_csp)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return context, page

    return open_context


@pytest.mark.parametrize("size", SIZES)
def test_every_page_reads_well_on_a_desk_and_on_a_phone(with_csp, server, warehouse, size):
    assert AXE.exists(), f"axe-core is not installed at {AXE}: run scripts/test once"
    context, page = with_csp(size)
    try:
        log_in(page, server, "ann", "admin", warehouse)
        problems = [p for path in PAGES for p in check(page, server, path, size)]
    finally:
        page.unroute_all(behavior="ignoreErrors")
        context.close()
    assert problems == []


def test_every_alert_links_to_where_it_is_fixed(page, server, warehouse):
    log_in(page, server, "ann", "supervisor", warehouse)
    for path, selector in (("/", "#alerts li"), ("/alerts", "#alerts tbody tr")):
        page.goto(server.url + path)
        items = page.locator(selector)
        assert items.count() >= 3  # low stock, unknown SKU, the count waiting
        for i in range(items.count()):
            assert items.nth(i).locator("a[href]").count() >= 1, items.nth(i).inner_text()
    page.goto(server.url + "/")
    page.click("#alerts li a:has-text('waits for approval')")
    assert "/counts" in page.url
    page.wait_for_selector("#variances button:has-text('Approve')")
    assert "−250.00 EUR" in page.inner_text("#variances")  # 100 missing at 2.50


def test_on_a_phone_the_menu_opens_and_log_out_is_always_there(with_csp, server, warehouse):
    context, page = with_csp("phone")
    try:
        log_in(page, server, "ann", "viewer", warehouse)
        assert page.is_visible("text=Log out")
        assert not page.is_visible("#menu >> text=Stock")
        page.focus("#menu-button")
        page.keyboard.press("Enter")
        page.click("#menu >> text=Stock")
        page.wait_for_selector("#stock-search")
        assert page.url.endswith("/stock")
    finally:
        page.unroute_all(behavior="ignoreErrors")
        context.close()


def test_a_purchase_order_page_shows_lines_and_the_receipts_put_away(page, server, warehouse):
    log_in(page, server, "ann", "viewer", warehouse)
    page.goto(server.url + "/purchase-orders")
    page.click("#purchase-orders a:has-text('PO-7')")
    line = page.inner_text("#po-lines tbody tr")
    assert "MUG-1" in line and "1,200" in line and "1,000" in line and "200" in line
    receipt = page.inner_text("#po-receipts tbody tr")
    assert "L7" in receipt and "A-03-2" in receipt
    page.click("#po-receipts a:has-text('A-03-2')")
    page.wait_for_selector("#location-stock >> text=L7")


def test_the_live_formatter_writes_times_and_numbers_as_the_server_does(page, server, ledger):
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from hub.web import format as fmt

    log_in(page, server, "ann", "viewer", ledger)
    zone = ZoneInfo(page.get_attribute("meta[name=site-timezone]", "content"))
    now = datetime.now(UTC).replace(microsecond=0)
    for back in (timedelta(seconds=12), timedelta(minutes=5), timedelta(days=1, hours=2),
                 timedelta(days=3), timedelta(days=40), timedelta(days=400)):  # fmt: skip
        iso = (now - back).isoformat()
        js = page.evaluate("([iso, now]) => [hubFormat.relative(new Date(iso), new Date(now)),"
                           " hubFormat.exact(new Date(iso))]", [iso, now.isoformat()])  # fmt: skip
        assert js == [fmt.relative(iso, zone, now), fmt.exact(iso, zone)]
    for value in (1234567, -1200, 0.12345, 2):
        assert page.evaluate("(v) => hubFormat.number(v)", value) == fmt.number(value)
