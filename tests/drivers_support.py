"""Shared by the device driver tests: collect what a driver emits, wait for a condition."""

import threading
import time


class Inbox:
    """Stands in for the station core's queue: records every input a device emits."""

    def __init__(self) -> None:
        self.items: list = []
        self._changed = threading.Condition()

    def __call__(self, item) -> None:
        with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    def of(self, kind) -> list:
        with self._changed:
            return [item for item in self.items if isinstance(item, kind)]

    def wait_for(self, predicate, timeout: float = 10.0):
        """Wait until `predicate(items)` is truthy; returns its value (fails on timeout)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate(list(self.items))
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; got {self.items!r}")
                self._changed.wait(left)

    def states(self, device: str) -> list[str]:
        from station.inputs import DeviceState

        return [i.state for i in self.of(DeviceState) if i.device == device]

    def wait_state(self, device: str, state: str, count: int = 1) -> None:
        self.wait_for(lambda _: self.states(device).count(state) >= count)
