"""The kiosk page in headless Chromium: it renders the core's snapshot, follows new ones
live without a reload, and its buttons reach the core's queue as `Touch` inputs."""

import queue

import pytest

from station.inputs import Touch
from station.snapshot import SnapshotBoard
from station.ui.server import KioskServer
from station.workflows import bench
from tests.chromium import ARTIFACTS, CHROMIUM
from tests.workflow_catalog import BOLT, WIDGET, run, scan, touch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]


def snapshot(inputs, **core) -> dict:
    """What the core publishes: the bench's view merged with the core's own fields."""
    state, _ = run(inputs)
    fields = {
        "station": "pack-1",
        "devices": {"scanner": "ready", "scale": "missing"},
        "connection": "online",
        "unacked": 3,
    }
    return {**bench.view(state), **fields, **core}


PACKING = [scan("OP:alice"), scan("ORD:SO-1"), scan(WIDGET), scan(BOLT)]


@pytest.fixture
def kiosk():
    board = SnapshotBoard()
    touches: queue.SimpleQueue = queue.SimpleQueue()
    server = KioskServer("127.0.0.1", 0, board, touches.put)
    server.start()
    yield server, board, touches
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 800, "height": 480})
    page = context.new_page()
    yield page
    context.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_kiosk_page_renders_snapshot(kiosk, page):
    from playwright.sync_api import expect

    server, board, _ = kiosk
    board.publish(snapshot(PACKING))
    page.goto(server.url)
    expect(page.get_by_test_id("verdict-word")).to_have_text("not in order")
    expect(page.get_by_test_id("verdict")).to_have_attribute("data-pattern", "error")
    assert page.locator("#verdict-shape").get_attribute("href") == "#shape-error"
    expect(page.get_by_test_id("verdict-message")).to_contain_text("BOLT is not in order SO-1")
    expect(page.get_by_test_id("mode")).to_have_text("pack")
    expect(page.get_by_test_id("operator")).to_have_text("alice")
    expect(page.get_by_test_id("subject")).to_have_text("Order SO-1")
    expect(page.locator("#lines tr[data-sku=WIDGET] td").nth(1)).to_have_text("1 / 2")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "online")
    expect(page.get_by_test_id("unacked")).to_have_text("3")
    expect(page.get_by_test_id("devices")).to_contain_text("scale: missing")
    _shot(page, "kiosk-pack-error")


def test_kiosk_page_updates_live_without_reload(kiosk, page):
    from playwright.sync_api import expect

    server, board, _ = kiosk
    board.publish(snapshot(PACKING[:3]))
    page.goto(server.url)
    expect(page.get_by_test_id("verdict-word")).to_have_text("OK")
    page.evaluate("window.__samePage = true")
    board.publish(snapshot([*PACKING[:3], scan(WIDGET)], connection="offline", weight_g="251.5"))
    expect(page.get_by_test_id("verdict-word")).to_have_text("NEXT")
    expect(page.get_by_test_id("pending")).to_contain_text("Put the parcel on the scale")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "offline")
    expect(page.get_by_test_id("weight")).to_have_text("251.5 g")
    assert page.evaluate("window.__samePage") is True
    _shot(page, "kiosk-pack-weigh")


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("#commands button[data-command=done]", Touch("done")),
        ("#commands button[data-command=override]", Touch("override")),
        ("#modes button[data-arg=receive]", Touch("mode", "receive")),
        ("#lines tr[data-sku=WIDGET] button", Touch("short", "WIDGET:out_of_stock")),
    ],
    ids=["done", "override", "mode", "short_line"],
)
def test_kiosk_page_button_emits_touch(kiosk, page, selector, expected):
    server, board, touches = kiosk
    board.publish(snapshot(PACKING[:3]))
    page.goto(server.url)
    page.locator(selector).click()
    assert touches.get(timeout=10) == expected


def test_kiosk_page_adjust_reasons_shown_only_in_adjust_mode(kiosk, page):
    from playwright.sync_api import expect

    server, board, touches = kiosk
    board.publish(snapshot([scan("OP:mo"), touch("mode", "adjust")]))
    page.goto(server.url)
    expect(page.locator("button[data-command=reason][data-arg=damaged]")).to_be_visible()
    expect(page.locator("button[data-command=task]")).to_be_hidden()
    page.locator("button[data-arg=found]").click()
    assert touches.get(timeout=10) == Touch("reason", "found")


def test_kiosk_page_loads_nothing_from_other_hosts(kiosk, page):
    server, board, _ = kiosk
    board.publish(snapshot(PACKING))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server.url)
    page.wait_for_load_state("load")
    assert requested and all(url.startswith(server.url) for url in requested)


def test_kiosk_page_shows_scanned_text_as_text(kiosk, page):
    from playwright.sync_api import expect

    server, board, _ = kiosk
    hostile = "<img src=x onerror=window.__owned=1>"
    board.publish(snapshot([scan("OP:alice"), scan(hostile)]))
    page.goto(server.url)
    expect(page.get_by_test_id("last-code")).to_have_text(hostile)
    assert page.evaluate("window.__owned") is None


def test_kiosk_page_shows_where_to_pick_and_why_a_label_did_not_print(kiosk, page):
    from playwright.sync_api import expect

    server, board, _ = kiosk
    shown = snapshot(PACKING[:3], print_problem="No printer takes shipping labels: not printed")
    shown["lines"] = [{**shown["lines"][0], "location": "A-03-2"}]
    board.publish(shown)
    page.goto(server.url)
    row = page.locator("#lines tr[data-sku=WIDGET] td")
    expect(row.nth(0)).to_have_text("WIDGETpick A-03-2")
    expect(row.nth(1)).to_have_text("1 / 2")
    expect(page.get_by_test_id("pending")).to_contain_text("No printer takes shipping labels")


def test_kiosk_returns_mode_asks_condition_then_reason_with_one_touch_each(kiosk, page):
    from playwright.sync_api import expect

    server, board, touches = kiosk
    taking = [scan("OP:rita"), scan("CMD:MODE:RETURNS"), scan("ORD:SO-9"), scan(WIDGET)]
    board.publish(snapshot(taking))
    page.goto(server.url)
    expect(page.get_by_test_id("subject")).to_have_text("Order SO-9 · Acme")
    expect(page.get_by_test_id("pending")).to_contain_text("WIDGET: resellable, damaged or scrap?")
    page.get_by_role("button", name="Damaged", exact=True).click()
    assert touches.get(timeout=10) == Touch("condition", "damaged")
    expect(page.get_by_test_id("choices").locator("button")).to_have_count(0)

    board.publish(snapshot([*taking, touch("condition", "damaged")]))
    page.get_by_role("button", name="damaged in transit").click()
    assert touches.get(timeout=10) == Touch("return", "damaged_in_transit")
    _shot(page, "kiosk-returns-reason")
