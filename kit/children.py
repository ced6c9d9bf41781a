"""The one way tests and the demo start the processes they run (broker, hub, stations):
each in its own process group, and asked to die with its starter. Killed from outside (a
timeout's SIGTERM or SIGKILL, `kill -9` of the demo), a starter runs no teardown and no
atexit; its children lived on, holding their ports, and later runs failed "Could not
exclusively lock port".

- `PR_SET_PDEATHSIG` (prctl): the kernel sends the child SIGKILL when the thread that
  forked it ends, and so when the starting process dies however it dies. The thread, not the
  process: a child forked by a short-lived thread (a fault test's supervisor restarting a
  hub) would die with that thread, so every child is forked by one thread that lives as
  long as the starting process (`_FORKER`).
- Its own process group, killed at a normal exit too (a fixture that did not stop it):
  the child and anything it started.
"""

import atexit
import ctypes
import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)
# One forking thread for the whole starting process (see above); its children, to kill at exit.
_FORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="children")
_started: list[subprocess.Popen] = []


def start(args: list[str], **popen: object) -> subprocess.Popen:
    """`subprocess.Popen(args, **popen)`, tied to this process's life."""
    process = _FORKER.submit(_fork, args, os.getpid(), popen).result()
    _started.append(process)
    return process


def _fork(args: list[str], parent: int, popen: dict) -> subprocess.Popen:
    return subprocess.Popen(args, process_group=0, preexec_fn=lambda: _die_with(parent),
                            **popen)  # fmt: skip


def _die_with(parent: int) -> None:
    """In the child, before exec (only async-signal-safe calls: no Python locks)."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the prctl: nobody will send it
        os._exit(1)


@atexit.register
def _kill_left() -> None:
    for process in _started:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            process.wait()
