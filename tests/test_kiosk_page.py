"""The kiosk page in headless Chromium: it renders the core's snapshot, follows new ones
live without a reload, and its buttons reach the core's queue as `Touch` inputs."""

import queue

import pytest

from station.inputs import Touch
from station.snapshot import SnapshotBoard
from station.ui.server import KioskServer
from station.workflows import bench
from tests.chromium import ARTIFACTS, CHROMIUM
from tests.workflow_catalog import BOLT, WIDGET, run, scan, touch, weigh

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


# --- at the sizes of the official Pi touch screens, from two metres ---------------------

SCREENS = {"7-inch": {"width": 800, "height": 480}, "1024x600": {"width": 1024, "height": 600}}
READY = {"scanner": "ready", "scale": "ready", "printer": "ready", "feedback": "ready",
         "kiosk": "ready"}  # fmt: skip
PO_CLOSED = [scan("OP:rita"), scan("CMD:MODE:RECEIVE"), scan("PO:PO-7"), scan("QTY:12"),
             scan(WIDGET), scan(BOLT), touch("cancel"), scan("CMD:SHORT:damaged")]  # fmt: skip
STATES = {
    "pack-error": snapshot(PACKING, devices=READY),
    "pack-weight-held": snapshot([*PACKING[:3], scan(WIDGET), weigh(400)], devices=READY),
    "pack-device-missing": snapshot(PACKING, devices={**READY, "scale": "missing",
                                                      "printer": "fault: paper out"}),  # fmt: skip
    "dock-po-closed": snapshot(PO_CLOSED, devices=READY),
    "returns-reason": snapshot([scan("OP:rita"), scan("CMD:MODE:RETURNS"), scan("ORD:SO-9"),
                                scan(WIDGET), touch("condition", "damaged"), scan(BOLT)],
                               devices=READY),  # fmt: skip
    "unknown-long-code": snapshot([scan("OP:alice"), scan("ORD:SO-1"), scan("Z" * 300)],
                                  devices=READY),  # fmt: skip
}
# Where the verdict, its message and its next step sit, and how big they are written.
PLACES = """() => [...document.querySelectorAll(
    "#verdict, #verdict-word, #verdict-message, #verdict-next")].map((el) => {
  const box = el.getBoundingClientRect();
  return {id: el.id, top: box.top, left: box.left, bottom: box.bottom, right: box.right,
          size: parseFloat(getComputedStyle(el).fontSize), shown: !el.hidden};
})"""


@pytest.fixture(params=SCREENS)
def screen(request, browser):
    context = browser.new_context(viewport=SCREENS[request.param])
    page = context.new_page()
    yield request.param, page
    context.close()


@pytest.mark.parametrize("state", STATES)
def test_kiosk_reads_from_two_metres_on_the_pi_touch_screens(kiosk, screen, state):
    """No sideways scrolling; the verdict, its message and its next step on screen without
    scrolling, in letters big enough to read from two metres; axe-core finds nothing
    serious."""
    from tests.chromium import OVERFLOW, axe_serious

    server, board, _ = kiosk
    size, page = screen
    board.publish(STATES[state])
    page.goto(server.url)
    page.wait_for_function("document.body.dataset.version")
    (ARTIFACTS / "kiosk").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "kiosk" / f"{state}-{size}.png"))
    assert page.evaluate(OVERFLOW) <= 0
    height, width = SCREENS[size]["height"], SCREENS[size]["width"]
    places = {p["id"]: p for p in page.evaluate(PLACES)}
    assert places["verdict-next"]["shown"] == bool(STATES[state]["verdict"]["next_step"])
    for place in places.values():
        assert place["top"] >= 0 and place["bottom"] <= height, place
        assert place["left"] >= 0 and place["right"] <= width, place
    buttons = page.evaluate("""() => [...document.querySelectorAll("button")]
      .filter((b) => b.offsetParent).map((b) => b.getBoundingClientRect().bottom)""")
    assert max(buttons) <= height  # every button within reach, none below the screen
    assert places["verdict-word"]["size"] >= 32
    assert places["verdict-next"]["size"] >= 20
    assert axe_serious(page) == []


def test_kiosk_shows_the_next_step_under_a_red_verdict(kiosk, page):
    from playwright.sync_api import expect

    server, board, _ = kiosk
    board.publish(snapshot(PACKING))
    page.goto(server.url)
    expect(page.get_by_test_id("verdict-next")).to_have_text(
        "→ Take the BOLT out and put it back on its shelf")
    board.publish(snapshot(PACKING[:3]))  # an OK: nothing more to do than go on
    expect(page.get_by_test_id("verdict-word")).to_have_text("OK")
    expect(page.get_by_test_id("verdict-next")).to_be_hidden()


def test_kiosk_keeps_ready_devices_and_an_empty_scale_out_of_the_way(kiosk, page):
    from playwright.sync_api import expect

    server, board, _ = kiosk
    board.publish(snapshot(PACKING[:3], devices=READY, weight_g="0.00", scale_stable=False))
    page.goto(server.url)
    expect(page.get_by_test_id("verdict-word")).to_have_text("OK")
    expect(page.get_by_test_id("devices").locator("li")).to_have_count(0)
    expect(page.get_by_test_id("scale")).to_be_hidden()
    board.publish(snapshot([*PACKING[:3], scan(WIDGET)],
                           devices={**READY, "scale": "missing"}, weight_g="251.5"))  # fmt: skip
    expect(page.get_by_test_id("scale")).to_be_visible()  # the parcel goes on it now
    expect(page.get_by_test_id("devices").locator("li")).to_have_text(
        ["scale: missing — plug it in again"])


def test_kiosk_shows_the_summary_of_the_po_just_closed(kiosk, page):
    from playwright.sync_api import expect

    server, board, _ = kiosk
    board.publish(STATES["dock-po-closed"])
    page.goto(server.url)
    summary = page.get_by_test_id("po-summary")
    expect(summary.locator(".total")).to_have_text(
        "PO PO-7 closed short (damaged): 12 of 17 units received")
    expect(summary.locator("li")).to_have_text(
        ["Short: GADGET 0 of 5", "Set aside: 1 × BOLT (not on the PO)"])
    _shot(page, "kiosk-dock-po-closed")
    board.publish(snapshot([*PO_CLOSED, scan("PO:PO-7")], devices=READY))
    expect(summary).to_be_hidden()  # the next PO starts afresh
