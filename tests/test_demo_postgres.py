"""`scripts/demo --postgres`: the same demo on a PostgreSQL cluster it starts under its
`--var`, the hub as two ingest workers and two web processes behind one address (nginx).
One ingest worker SIGKILLed: the other takes its stations, their events not yet applied
come back to 0 and the movements go on growing."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from hub import store
from hub.ownership import worker_pid
from kit.nginx import nginx_binary
from kit.ports import free_port
from kit.waiting import wait_until
from tests.postgres import pg_bin

ROOT = Path(__file__).resolve().parents[1]


def _installed() -> bool:
    try:
        pg_bin("initdb")
    except RuntimeError:
        return False
    return nginx_binary() is not None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _installed(), reason="needs postgresql and nginx (scripts/test)"),
]


class RunningDemo:
    def __init__(self, var: Path, port: int) -> None:
        self.port = port
        self.out = var.parent / "demo.out"
        with open(self.out, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "scripts/demo.py", "--postgres", "--pace", "0.3", "--var",
                 str(var), "--web-port", str(port)],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def line(self, prefix: str) -> str:
        return next(line for line in self.output().splitlines() if line.startswith(prefix))

    def api(self, path: str) -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                         headers={"Authorization": "Bearer demo"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=20) as reply:
            return json.loads(reply.read())

    def query(self, sql: str) -> list[tuple]:
        url = self.line("ledger: ").split()[1]
        conn = store.connect(url)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def newest_movement(self) -> int:
        movements = self.api("/api/movements?limit=1")["movements"]
        return movements[0]["id"] if movements else 0

    def owners(self) -> dict[str, int]:
        """station -> the pid of the ingest worker holding its unexpired lease."""
        rows = self.query("SELECT station, worker, expires_at FROM station_leases")
        return {s: worker_pid(w) for s, w, expires in rows if expires >= time.time()}

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


@pytest.fixture
def var():
    """As root the cluster runs as `postgres`, which must pass through the folders above
    it: a folder of its own in /tmp (pytest's are closed to other users)."""
    top = Path(tempfile.mkdtemp(prefix="demo-pg-"))
    top.chmod(0o711)
    yield top / "demo"
    shutil.rmtree(top, ignore_errors=True)


def test_the_demo_on_postgresql_survives_a_killed_ingest_worker(var):
    demo = RunningDemo(var, free_port())
    try:
        wait_until(lambda: "logs:" in demo.output() or demo.process.poll() is not None,
                   180, "the demo's addresses")  # fmt: skip
        assert demo.process.poll() is None, demo.output()[-3000:]
        # The same address lines as the SQLite demo's, the web's behind nginx.
        assert demo.line("web:    ").startswith(f"web:    http://127.0.0.1:{demo.port}/")
        for prefix in ("broker: mqtt://127.0.0.1:", "kiosks: dock-1 http://",
                       f"api token: demo   (curl -H 'Authorization: Bearer demo' "
                       f"http://127.0.0.1:{demo.port}/api/stations)", "watch:  mosquitto_sub"):  # fmt: skip
            assert demo.line(prefix)
        roles = "SELECT role, count(*) FROM workers GROUP BY role ORDER BY role"
        wait_until(lambda: demo.query(roles) == [("ingest", 2), ("web", 2)], 30,
                   "two ingest workers and two web processes alive")  # fmt: skip
        assert (var / "postgres" / "data" / "PG_VERSION").exists()

        wait_until(lambda: set(demo.owners()) == {"dock-1", "pack-1"}, 60, "stations owned")
        wait_until(lambda: demo.newest_movement() > 0, 120, "the first movements")
        victim = demo.owners()["pack-1"]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: set(demo.owners().values()) - {victim}
                   and victim not in demo.owners().values()
                   and set(demo.owners()) == {"dock-1", "pack-1"}, 60,
                   "the killed worker's stations taken over")  # fmt: skip
        after = demo.newest_movement()

        def applied_and_growing() -> bool:
            stations = demo.api("/api/stations")["stations"]
            caught_up = stations and all(s["unacked"] == 0 for s in stations)
            return bool(caught_up) and demo.newest_movement() > after

        wait_until(applied_and_growing, 60, "not yet applied back to 0, movements growing")
        assert demo.process.poll() is None
    finally:
        demo.stop()
    assert not (var / "postgres" / "data" / "postmaster.pid").exists()
