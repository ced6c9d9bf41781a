"""Not collected by the suite: the test run that `tests/test_harness_children.py` starts in
a pytest of its own and SIGKILLs. It starts a broker, a hub and a station as any test does,
writes their pids, then waits to be killed."""

import os
import time
from pathlib import Path


def test_start_and_wait_to_be_killed(hub, pack_station):
    pids = [hub.broker.process.pid, hub.proc.process.pid, pack_station.proc.process.pid]
    Path(os.environ["ORPHAN_PIDS"]).write_text(" ".join(map(str, pids)))
    time.sleep(600)
