"""Retake the screenshots in docs/img/ from a running demo (`scripts/docs-screenshots`).

Starts `scripts/demo.py` on free ports with its data in a temporary folder and, in
headless Chromium (Debian's, as the browser tests use), catches both kiosks halfway
through an order or a PO, and on the 800x480 Pi touch screen the bench catching a mistake
(its next step under the verdict) and the dock closing a PO (its summary); once the
stations have shipped and counted for a while, logs in as the demo's supervisor and saves
each page the docs show. The demo is stopped at the
end, whatever happens (the end of its output is printed if something failed).
"""

import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kit.ports import free_port, wait_for_port  # noqa: E402
from kit.waiting import wait_until  # noqa: E402

IMG = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
TOKEN = "demo"
VIEWPORT = {"width": 1280, "height": 860}
TOUCH_SCREEN = {"width": 800, "height": 480}  # the official 7-inch Pi display
PHONE = {"width": 390, "height": 844}  # a supervisor's phone on the floor


class Demo:
    """The demo as a child process, with its printed addresses."""

    def __init__(self, var: Path) -> None:
        self.web = f"http://127.0.0.1:{free_port()}"
        # Its output goes to a file, not a pipe: a pipe nobody reads fills up and stalls it.
        self.log = var / "demo.out"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "scripts/demo.py", "--var", str(var), "--pace", "0.2",
                 "--web-port", self.web.rsplit(":", 1)[1]],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        self.kiosks: dict[str, str] = {}

    def read_kiosks(self) -> bool:
        if self.process.poll() is not None:
            raise SystemExit(f"the demo stopped early:\n{self.log.read_text()}")
        found = re.search(r"^kiosks:(.*)$", self.log.read_text(), flags=re.M)
        self.kiosks = dict(re.findall(r"(\S+) (http://\S+)", found[1])) if found else {}
        return bool(self.kiosks)

    def api(self, path: str, method: str = "GET") -> dict:
        request = urllib.request.Request(self.web + path, method=method,
                                         headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.loads(reply.read())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def busy_enough(demo: Demo) -> bool:
    shipped = demo.api("/api/orders?status=shipped&limit=20")["orders"]
    pending = demo.api("/api/counts?status=pending")["counts"]
    return len(shipped) >= 15 and bool(pending)


def order_with_errors(demo: Demo) -> str | None:
    """A shipped order whose scan log shows the bench catching a mistake."""
    for order in demo.api("/api/orders?status=shipped&limit=100")["orders"]:
        log = demo.api(f"/api/orders/{order['order']}/scan-log")["log"]
        if any(entry["verdict"] not in (None, "ok") for entry in log):
            return order["order"]
    return None


# Whether the kiosk shows what a shot wants, and what it shows (to tell whether it
# changed during the shot). Halfway: through an order or a PO, one line done, one still
# open, the last scan fine. Caught: a packing mistake whose next step names the bin to
# put the item back in. Closed: a PO's summary.
KIOSK = """(want) => {
  const rows = [...document.querySelectorAll("#lines tbody tr")];
  const pattern = document.getElementById("verdict").dataset.pattern;
  const seen = {
    halfway: /^(Order|PO) /.test(document.getElementById("subject").textContent)
      && pattern === "ok"
      && rows.some((r) => r.classList.contains("done"))
      && rows.some((r) => !r.classList.contains("done")),
    caught: ["too_many", "wrong_lot"].includes(document.getElementById("verdict").dataset.name)
      && rows.length > 1,
    closed: !document.getElementById("po-summary").hidden
      && document.querySelectorAll("#po-summary li").length > 0,
  };
  return [seen[want], document.body.innerText + pattern];
}"""
# name in docs/img -> (station, what to wait for, screen size)
KIOSK_SHOTS = {
    "kiosk-pack-1": ("pack-1", "halfway", VIEWPORT),
    "kiosk-dock-1": ("dock-1", "halfway", VIEWPORT),
    "kiosk-pack-1-mistake": ("pack-1", "caught", TOUCH_SCREEN),
    "kiosk-dock-1-po-closed": ("dock-1", "closed", TOUCH_SCREEN),
}


def shoot(page, url: str, name: str, ready: str, full_page: bool = False) -> None:
    page.goto(url)
    page.wait_for_selector(ready)
    page.wait_for_timeout(400)  # charts and live regions draw after the first paint
    page.screenshot(path=str(IMG / f"{name}.png"), full_page=full_page)
    print(f"docs/img/{name}.png", flush=True)


def shoot_kiosks(browser, kiosks: dict[str, str], timeout: float = 300) -> None:
    """Each of KIOSK_SHOTS, all watched side by side from the start (the dock only
    receives when something runs low); a shot counts if the page did not change meanwhile."""
    for url in kiosks.values():
        wait_for_port(urllib.parse.urlsplit(url).port, 60)  # printed before it listens
    pages = {}
    for name, (station, _, size) in KIOSK_SHOTS.items():
        pages[name] = browser.new_page(viewport=size)
        pages[name].goto(kiosks[station])
    deadline = time.monotonic() + timeout
    while pages:
        for name, page in list(pages.items()):
            want = KIOSK_SHOTS[name][1]
            seen, shown = page.evaluate(KIOSK, want)
            if not seen:
                continue
            page.screenshot(path=str(IMG / f"{name}.png"))
            if page.evaluate(KIOSK, want) == [True, shown]:
                print(f"docs/img/{name}.png", flush=True)
                pages.pop(name).close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"no shot in {timeout:.0f}s of {', '.join(pages)}")
        time.sleep(0.05)


def shoot_hub(browser, demo: Demo, order: str) -> None:
    web = demo.web
    page = browser.new_page(viewport=VIEWPORT)
    shoot(page, f"{web}/login", "login", "input[name=username]")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("#who")
    # A suggestion shows from a product's reorder point until the demo's buyer orders
    # it (nearly out): catch one while it is there.
    wait_until(lambda: demo.api("/api/reports/reorder")["rows"], 300, "a reorder line", 1)
    shoot(page, f"{web}/reports/reorder", "reports-reorder", "table")
    shoot(page, f"{web}/", "overview", "table", full_page=True)  # every section
    shoot(page, f"{web}/stock?q=B-01-1", "stock", "table")  # a bin: its lots
    shoot(page, f"{web}/products/MUG-WHT", "product", "svg.chart, .chart")
    shoot(page, f"{web}/counts", "counts", "#variances")
    demo.api("/api/housekeeping?refresh=1", "POST")  # the nightly classes, now
    shoot(page, f"{web}/reports/abc", "reports-abc", "table")
    shoot(page, f"{web}/orders/{order}", "order", "#order-lines")
    shoot(page, f"{web}/stations/pack-1", "stations", ".actions")  # with its commands
    shoot(page, f"{web}/labels", "labels", "#command-sheet img")
    page.set_viewport_size(PHONE)
    shoot(page, f"{web}/", "overview-phone", "table")
    page.click("#menu-button")
    page.screenshot(path=str(IMG / "menu-phone.png"))


def main() -> int:
    from playwright.sync_api import sync_playwright

    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as var, sync_playwright() as playwright:
        # The browser first: the dock's first PO (the whole catalogue, to fill the empty
        # bins) starts as soon as the demo is up and is its longest.
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--headless=new", "--no-sandbox"])  # fmt: skip
        demo = Demo(Path(var))
        try:
            wait_until(demo.read_kiosks, 60, "the demo to print its kiosks", step=0.2)
            shoot_kiosks(browser, demo.kiosks)
            wait_until(lambda: busy_enough(demo), 300, "the demo to ship and count", step=1)
            order = wait_until(lambda: order_with_errors(demo), 300,
                               "an order with a mistake caught", step=2)  # fmt: skip
            shoot_hub(browser, demo, order)
        except Exception:
            print("".join(demo.log.read_text().splitlines(True)[-20:]), file=sys.stderr)
            raise
        finally:
            demo.stop()
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
