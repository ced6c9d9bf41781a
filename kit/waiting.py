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
