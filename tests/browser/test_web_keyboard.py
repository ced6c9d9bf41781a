"""Every main form used with the keyboard alone, as a person without a mouse would: Tab to
each field (so the Tab order reaches it), type, arrows in lists, Space on boxes, Enter to
send. A live update arriving while someone types must not take their text or their focus.
The same warehouse as the readable tour; real app, real Chromium."""

import re

from hub import store
from protocol.events import Receipt
from tests.browser import test_web_readable
from tests.webapp import PASSWORD

warehouse = test_web_readable.warehouse  # the readable tour's fixture

TABS = 120  # more Tab presses than any page has stops before its forms


def tab_to(page, selector: str) -> None:
    """Press Tab until the focus is on `selector`; fail if the Tab order never gets there."""
    for _ in range(TABS):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => !!document.activeElement?.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reaches {selector}")


def flash(page) -> str:
    return page.inner_text(".flash")


def keyboard_login(page, server, ledger, name: str, role: str) -> None:
    ledger.user(name, role)
    page.goto(server.url + "/")
    tab_to(page, "input[name=username]")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#who")


def test_log_in_search_and_filter_with_the_keyboard(page, server, warehouse):
    keyboard_login(page, server, warehouse, "kim", "viewer")
    page.goto(server.url + "/stock")
    tab_to(page, "#stock-search input[name=q]")
    page.keyboard.type("MUG")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=MUG"))
    page.goto(server.url + "/orders")
    tab_to(page, "select[name=status]")
    page.keyboard.press("ArrowDown")  # browsing the choices must not leave the page
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.name") == "status", "the page was left"
    chosen = page.evaluate("document.activeElement.value")
    tab_to(page, "form button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"status={chosen}"))


def test_the_first_tab_offers_to_skip_the_menu(page, server, warehouse):
    keyboard_login(page, server, warehouse, "kim", "viewer")
    page.goto(server.url + "/orders")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the page"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the first stop of the page itself, past the menu
    assert page.evaluate("!!document.activeElement.closest('main')")


def test_approve_a_variance_and_send_a_count_task_with_the_keyboard(page, server, warehouse):
    keyboard_login(page, server, warehouse, "sue", "supervisor")
    page.goto(server.url + "/counts")
    tab_to(page, "#variances form[action$='/approve'] button")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash")
    assert "pproved" in flash(page)
    page.goto(server.url + "/counts")
    tab_to(page, "#issue-task input[name=location]")
    page.keyboard.type("A-03")
    # Stock moves while the supervisor types: the page redraws itself, but not under them.
    page.evaluate("""() => { window.redrawn = new Promise((done) =>
        document.addEventListener("hub:redrawn", done, { once: true })); }""")
    warehouse.apply(Receipt(sku="TEA-1", qty=1, location="B-01"))
    server.changes.bump()
    page.evaluate("() => window.redrawn")
    assert page.evaluate("document.activeElement.name") == "location"
    page.keyboard.type("-2")
    page.keyboard.press("Tab")
    page.keyboard.type("MUG-1")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash")
    [task] = store.count_tasks(warehouse.conn, None, "open")[-1:]
    assert (task["location"], task["sku"]) == ("A-03-2", "MUG-1")


def test_create_purchase_orders_from_reorder_lines_with_the_keyboard(page, server, warehouse):
    keyboard_login(page, server, warehouse, "sue", "supervisor")
    page.goto(server.url + "/reports/reorder")
    tab_to(page, "input[type=checkbox][name=sku]")
    page.keyboard.press("Space")
    tab_to(page, "form[action$='/purchase-order'] button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/purchase-orders"))
    assert "Created" in flash(page)


def test_send_station_commands_with_the_keyboard(page, server, warehouse):
    keyboard_login(page, server, warehouse, "sue", "supervisor")
    page.goto(server.url + "/stations/pack-1")
    tab_to(page, "button[value=identify]")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash")
    assert "Sent identify to pack-1" in flash(page)
    tab_to(page, "select[name=mode]")
    page.keyboard.press("ArrowDown")
    mode = page.evaluate("document.activeElement.value")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash")
    assert "Sent mode to pack-1" in flash(page)
    assert mode


def test_add_a_user_and_import_a_file_with_the_keyboard(page, server, warehouse, tmp_path):
    keyboard_login(page, server, warehouse, "ann", "admin")
    page.goto(server.url + "/users")
    tab_to(page, "input[name=name]")
    page.keyboard.type("bob")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.type("a-long-password-1")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash")
    assert "Added bob" in flash(page)
    page.goto(server.url + "/import")
    tab_to(page, "select[name=kind]")
    page.keyboard.press("ArrowDown")  # locations
    assert page.evaluate("document.activeElement.value") == "locations"
    csv_file = tmp_path / "locations.csv"
    csv_file.write_text("code,zone\nK-01,K\n")
    tab_to(page, "input[type=file]")  # focused before Space, however slow the page is
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(csv_file))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=1 locations to save")
    tab_to(page, "main form:not(.inline) button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash")
    assert "Imported 1 locations" in flash(page)
