"""Retake the screenshots in docs/img/ from a running demo (`scripts/docs-screenshots`).

Starts `scripts/demo.py` on free ports with its data in a temporary folder, waits until
the stations have shipped, received and counted for a while, then logs in as the demo's
supervisor in headless Chromium (Debian's, as the browser tests use) and saves each page
the docs show. The demo is stopped at the end, whatever happens.
"""

import json
import re
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench_env import free_port, wait_until  # noqa: E402

IMG = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
TOKEN = "demo"
VIEWPORT = {"width": 1280, "height": 860}


class Demo:
    """The demo as a child process, with its printed addresses."""

    def __init__(self, var: Path) -> None:
        self.web = f"http://127.0.0.1:{free_port()}"
        self.process = subprocess.Popen(
            [sys.executable, "scripts/demo.py", "--var", str(var), "--pace", "0.2",
             "--web-port", self.web.rsplit(":", 1)[1]],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.kiosks = self._kiosks()

    def _kiosks(self) -> dict[str, str]:
        for line in self.process.stdout:
            if line.startswith("kiosks:"):
                return dict(re.findall(r"(\S+) (http://\S+)", line))
        raise SystemExit("the demo stopped before printing its kiosks: see its log")

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


def at_work(kiosk: str) -> bool:
    with urllib.request.urlopen(f"{kiosk}snapshot", timeout=5) as reply:
        shown = json.loads(reply.read())["snapshot"]
    return bool(shown.get("lines")) and bool(shown.get("order") or shown.get("po"))


def shoot(page, url: str, name: str, ready: str, before: Callable | None = None) -> None:
    page.goto(url)
    page.wait_for_selector(ready)
    if before:
        before(page)
    page.wait_for_timeout(400)  # charts and live regions draw after the first paint
    page.screenshot(path=str(IMG / f"{name}.png"))
    print(f"docs/img/{name}.png", flush=True)


def take(demo: Demo, order: str | None) -> None:
    from playwright.sync_api import sync_playwright

    web = demo.web
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--headless=new", "--no-sandbox"])  # fmt: skip
        page = browser.new_page(viewport=VIEWPORT)
        shoot(page, f"{web}/login", "login", "input[name=username]")
        page.fill("input[name=username]", "supervisor")
        page.fill("input[name=password]", "demo")
        page.click("button[type=submit]")
        page.wait_for_selector("#who")
        # A suggestion shows from a product's reorder point until the demo's buyer orders
        # it (nearly out): catch one while it is there.
        wait_until(lambda: demo.api("/api/reports/reorder")["rows"], 300, "a reorder line")
        shoot(page, f"{web}/reports/reorder", "reports-reorder", "table")
        shoot(page, f"{web}/", "overview", "table")
        shoot(page, f"{web}/stock?q=A-01-1", "stock", "table")
        shoot(page, f"{web}/products/MUG-WHT", "product", "svg.chart, .chart")
        shoot(page, f"{web}/counts", "counts", "#variances")
        demo.api("/api/housekeeping?refresh=1", "POST")  # the nightly classes, now
        shoot(page, f"{web}/reports/abc", "reports-abc", "table")
        if order:
            shoot(page, f"{web}/orders/{order}", "order", "#order-lines")
        shoot(page, f"{web}/stations", "stations", "table")
        shoot(page, f"{web}/labels", "labels", "#command-sheet img")
        for station, url in demo.kiosks.items():  # each in the middle of an order or a PO
            wait_until(lambda url=url: at_work(url), 120, f"{station} at work")
            shoot(page, url, f"kiosk-{station}", "body")
        browser.close()


def main() -> int:
    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as var:
        demo = Demo(Path(var))
        try:
            wait_until(lambda: busy_enough(demo), 300, "the demo to ship and count")
            take(demo, order_with_errors(demo))
        finally:
            demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
