"""Free loopback ports, and waiting until something listens on one.

A port is handed out for a server another process will start, so it is free when handed
out and must stay so until that process binds it. A port the kernel picks (`bind` to port
0) comes from its ephemeral range, where it also picks the local port of every outgoing
connection and every other process's port 0: under a loaded parallel test run one was
taken meanwhile now and then, and the server failed with "Address already in use". The
ports here come from below that range, where nothing is handed out by the kernel; each
pytest-xdist worker of each pass has a slice of its own (scripts/test runs the SQLite and
the PostgreSQL pass side by side, each with workers gw0, gw1...: `TEST_PASS` tells them
apart), so two test processes never hand out the same port; within a process they are
handed out in turn from a random place in the slice (a process it starts, such as the
demo, starts elsewhere in it), each checked free."""

import os
import random
import socket
from collections.abc import Iterator
from pathlib import Path

from kit.waiting import wait_until

SLICE = 1500  # ports a process may hand out before it comes round again
PASSES = 2  # test passes run side by side (scripts/test's `TEST_PASS`: 0 or 1)
PER_PASS = 4  # pytest-xdist workers of a pass with a slice each (more share by modulo)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _slice() -> int:
    """This process's slice: its pass's, and in it its xdist worker's (the last one for a
    pass run in one process)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    number = int(worker[2:]) if worker[2:].isdigit() else PER_PASS - 1
    test_pass = int(os.environ.get("TEST_PASS", "0")) % PASSES
    return test_pass * PER_PASS + number % PER_PASS


def _candidates() -> Iterator[int]:
    first = max(1024, _ephemeral_low() - PASSES * PER_PASS * SLICE) + _slice() * SLICE
    start = random.randrange(SLICE)
    while True:
        for step in range(SLICE):
            yield first + (start + step) % SLICE


_ports = _candidates()  # this process's turn through its slice


def free_port() -> int:
    for _ in range(SLICE):
        port = next(_ports)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use, or closed a moment ago: the next one
            return port
    raise OSError(f"no free port in this process's slice below {_ephemeral_low()}")


def wait_for_port(port: int, timeout: float = 20.0, host: str = "127.0.0.1") -> None:
    def listening() -> bool:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            return False

    wait_until(listening, timeout, f"a listener on {host}:{port}")
