"""The suite's markers select what they say: `-m "not browser"` runs everything but the
browser tests (a machine without Chromium still runs the rest)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def collected(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
                           "no:cacheprovider", *args], capture_output=True, text=True,
                          cwd=ROOT, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_not_browser_selects_every_test_but_the_browser_ones():
    rest = collected("-m", "not browser", "tests/test_suite_selection.py", "tests/browser")
    assert rest and all(not name.startswith("tests/browser/") for name in rest)
    browser = collected("-m", "browser", "tests/test_suite_selection.py", "tests/browser")
    assert browser and all(name.startswith("tests/browser/") for name in browser)
