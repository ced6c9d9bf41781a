"""One headless Debian Chromium for every browser test, driven by Playwright.

Playwright's sync API allows one running instance per thread, so the kiosk tests and the
hub's page tests share this session-wide browser (never `playwright install`)."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
ARTIFACTS = Path(__file__).parent / "artifacts"
AXE = Path(__file__).parents[1] / ".venv/node/node_modules/axe-core/axe.min.js"
# How far a page is wider than its window (0: no horizontal scrolling).
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def axe_serious(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    assert AXE.exists(), f"axe-core is not installed at {AXE}: run scripts/test once"
    page.evaluate(AXE.read_text())
    return page.evaluate("""async () => {
      const result = await axe.run(document, { resultTypes: ["violations"] });
      return result.violations.filter((v) => ["serious", "critical"].includes(v.impact))
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    }""")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()
