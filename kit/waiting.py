"""Waiting for a condition, with a deadline and a name for the error."""

import time
from collections.abc import Callable
from typing import Any


def wait_until(
    check: Callable[[], Any], timeout: float = 20.0, what: str = "condition", step: float = 0.05
) -> Any:
    """`check()`'s first true value; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(step)


def wait_steady(
    read: Callable[[], Any],
    check: Callable[[Any], bool],
    quiet_s: float,
    timeout: float = 20.0,
    what: str = "condition",
) -> Any:
    """`read()`'s value once it has stayed the same for `quiet_s` seconds and `check` holds
    for it. For what goes on changing after the test's own part is done: a station still
    reading the codes its scanner was sent, so that "all of it applied" is not judged on a
    journal it is still writing."""
    last: list[Any] = [object(), 0.0]

    def steady() -> Any:
        value, now = read(), time.monotonic()
        if value != last[0]:
            last[:] = [value, now]
        return now - last[1] >= quiet_s and check(value) and (value,)

    return wait_until(steady, timeout, what, step=0.2)[0]
