"""The suite's markers select what they say: `-m "not browser"` runs everything but the
browser tests (a machine without Chromium still runs the rest)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def collected(*args: str, backend: str = "sqlite") -> list[str]:
    # Collecting starts no PostgreSQL cluster: fixtures run only with the tests.
    env = {**os.environ, "HUB_TEST_DB": backend}
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
                           "no:cacheprovider", *args], capture_output=True, text=True,
                          cwd=ROOT, check=False, env=env)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_not_browser_selects_every_test_but_the_browser_ones():
    rest = collected("-m", "not browser", "tests/test_suite_selection.py", "tests/browser")
    assert rest and all(not name.startswith("tests/browser/") for name in rest)
    browser = collected("-m", "browser", "tests/test_suite_selection.py", "tests/browser")
    assert browser and all(name.startswith("tests/browser/") for name in browser)


def test_the_postgresql_pass_runs_the_hub_tests_but_not_those_about_sqlite():
    files = ("tests/test_domain_orders.py", "tests/test_store_page_plans.py",
             "tests/test_station_core.py")  # fmt: skip
    on_sqlite = collected(*files)
    on_postgresql = collected(*files, backend="postgresql")
    assert {name.split("::")[0] for name in on_sqlite} == set(files)
    assert on_postgresql and {name.split("::")[0] for name in on_postgresql} == {files[0]}
