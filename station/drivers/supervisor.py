"""Keeps one device open: opens it, runs its reader, re-opens with backoff when it vanishes.

A driver subclasses `Supervised` and implements `open()` (raise `DeviceMissing` when the
device is not there), `run(handle)` (read until stopped or until the device fails) and
`close(handle)`. The supervisor reports every state change to the core as a
`DeviceState` input: "ready", "missing" or "fault: <why>", which the station shows in
its retained status and on the kiosk.
"""

import logging
import threading
from typing import Any

from station.inputs import DeviceState, Emit

log = logging.getLogger(__name__)


class DeviceMissing(Exception):
    """The device is not attached (yet): wait and look again."""


class Supervised:
    """A device with a reader thread that survives unplugging."""

    min_backoff = 0.25
    max_backoff = 5.0

    def __init__(self, name: str, emit: Emit) -> None:
        self.name = name
        self.emit = emit
        self.state = "missing"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- to implement -------------------------------------------------------------
    def open(self) -> Any:
        raise NotImplementedError

    def run(self, handle: Any) -> None:
        """Read until `self.stopping` or until the device fails (raise)."""
        raise NotImplementedError

    def close(self, handle: Any) -> None:
        raise NotImplementedError

    # --- the supervisor -----------------------------------------------------------
    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._supervise, name=f"dev-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _report(self, state: str) -> None:
        if state != self.state:
            self.state = state
            log.info("device %s: %s", self.name, state)
            self.emit(DeviceState(self.name, state))

    def _supervise(self) -> None:
        backoff = self.min_backoff
        while not self._stop.is_set():
            try:
                handle = self.open()
            except DeviceMissing:
                self._report("missing")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            except Exception as exc:  # noqa: BLE001 - any open failure is shown, then retried
                self._report(f"fault: {exc}")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            self._report("ready")
            backoff = self.min_backoff
            try:
                self.run(handle)
            except Exception as exc:  # noqa: BLE001 - an unplug surfaces as many error types
                log.warning("device %s failed: %s", self.name, exc)
                self._report("missing")
            finally:
                try:
                    self.close(handle)
                except Exception:  # noqa: BLE001 - closing a vanished device may fail too
                    log.debug("closing %s failed", self.name, exc_info=True)
            self._stop.wait(backoff)
        self._report("stopped")
