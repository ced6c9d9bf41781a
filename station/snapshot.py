"""The station's latest state for readers outside the core (the kiosk page).

The core publishes a new snapshot after each input; readers wait for a version newer
than the one they have. Readers never touch the core's state itself.
"""

import threading
from typing import Any


class SnapshotBoard:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._version = 0
        self._snapshot: dict[str, Any] = {}

    def publish(self, snapshot: dict[str, Any]) -> None:
        with self._cond:
            self._version += 1
            self._snapshot = snapshot
            self._cond.notify_all()

    def latest(self) -> tuple[int, dict[str, Any]]:
        with self._cond:
            return self._version, self._snapshot

    def wait_newer(self, version: int, timeout: float) -> tuple[int, dict[str, Any]]:
        """Block until a snapshot newer than `version` exists (or `timeout`); return the latest."""
        with self._cond:
            self._cond.wait_for(lambda: self._version > version, timeout)
            return self._version, self._snapshot
