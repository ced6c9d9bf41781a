"""A hub on its SQLite file never loads PostgreSQL's driver: psycopg and its libpq are
12 MB of resident memory, a sixth of a small site's hub (issue 20's bench 6 holds the hub's
peak RSS to its earlier figure). A hub on PostgreSQL loads it, which is what shows the
check below sees a loaded driver at all. The real `python -m hub run` process, its memory
map read from /proc."""

from pathlib import Path

import pytest

from tests import postgres

pytestmark = pytest.mark.hub

DRIVER = ("psycopg", "libpq")


def mapped_files(pid: int) -> set[str]:
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6}


def test_the_hub_loads_the_postgresql_driver_only_on_postgresql(hub):
    with_driver = {f for f in mapped_files(hub.proc.process.pid)
                   if any(name in Path(f).name or f"/{name}" in f for name in DRIVER)}  # fmt: skip
    if postgres.enabled():
        assert with_driver, "a hub on PostgreSQL shows no psycopg in its memory map"
    else:
        assert not with_driver, f"a hub on SQLite has loaded {sorted(with_driver)}"
