"""Browser tests: the real app under waitress on a free loopback port, driven by Debian's
headless Chromium through Playwright (never `playwright install`)."""

import shutil
import threading
from pathlib import Path

import pytest

from hub.changes import ChangeFeed
from hub.config import WebSection
from hub.web import create_app
from hub.web.server import make_server
from tests.chromium import ARTIFACTS, CHROMIUM
from tests.webapp import PASSWORD, TOKEN, TOPICS

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    # pytest hands this hook every item of the session, not only this folder's.
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if not CHROMIUM.exists() or shutil.which("chromium") is None:
            item.add_marker(pytest.mark.skip(reason="Debian's chromium is not installed"))


class Server:
    def __init__(self, ledger) -> None:
        self.changes = ChangeFeed()
        self.app = create_app(ledger.path, TOPICS, [TOKEN], changes=self.changes,
                              data_dir=ledger.dir)
        # The hub's own server settings: poll(), where select() on a socket the test's end
        # had just closed raised EBADF in the server's thread.
        self.server = make_server(self.app, WebSection(port=0, threads=8))
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.changes.bump()  # answer any long poll still waiting, so its worker can stop
        self.server.close()
        self.thread.join(10)


@pytest.fixture
def server(ledger):
    with Server(ledger) as server:
        yield server


@pytest.fixture
def page(browser, server):  # closes before the server does
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, server, name: str, role: str, ledger) -> None:
    ledger.user(name, role)
    page.goto(server.url + "/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#who")
