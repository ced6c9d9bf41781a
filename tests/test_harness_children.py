"""A test run killed from outside (a timeout) takes the processes its tests started along:
a pytest that started a broker, a hub and a station is SIGKILLed, and none of them lives on
to hold its port for the next run (kit/children.py)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.harness import ROOT, wait_until


def alive(pid: int) -> bool:
    """Running (a zombie not yet reaped by init counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_sigkilled_test_run_leaves_no_broker_hub_or_station(tmp_path):
    pids_file = tmp_path / "pids"
    env = {**os.environ, "ORPHAN_PIDS": str(pids_file), "HUB_TEST_DB": "sqlite"}
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--basetemp", str(tmp_path / "run"), "tests/orphan_run.py"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(pids_file.exists, 90, "the inner run's processes started")
        wait_until(lambda: len(pids_file.read_text().split()) == 3, 10, "their pids written")
        pids = [int(pid) for pid in pids_file.read_text().split()]
        assert all(alive(pid) for pid in pids)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    wait_until(lambda: not any(alive(pid) for pid in pids), 30, "no child of the killed run")
