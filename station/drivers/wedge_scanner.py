"""Keyboard-wedge scanners: reads input events, decodes them, emits `Scanned` inputs.

The reader runs in the supervisor's thread and waits in `select` on the event source
and a wake-up pipe, so `stop()` returns at once and an idle gap still ends a code. On
unplug the source raises `OSError(ENODEV)`: `run` returns by raising, so the fd has left
the select set before the supervisor closes it (a dead fd kept in select spins at 100 %
CPU), and the supervisor reopens the device when it comes back.
"""

import os
import select
import time
from collections.abc import Callable

from station.drivers.aim import split_aim
from station.drivers.event_source import EventSource
from station.drivers.keymaps import US, Keymap
from station.drivers.supervisor import Supervised
from station.drivers.wedge_decoder import WedgeDecoder
from station.inputs import Emit, Scanned


class WedgeScanner(Supervised):
    def __init__(
        self,
        name: str,
        emit: Emit,
        open_source: Callable[[], EventSource],
        keymap: Keymap = US,
        gs_substitute: str | None = None,
        idle_gap: float = 0.1,
    ) -> None:
        super().__init__(name, emit)
        self._open_source = open_source
        self.keymap = keymap
        self.gs_substitute = gs_substitute
        self.idle_gap = idle_gap
        self._wake_read, self._wake_write = os.pipe()

    def open(self) -> EventSource:
        return self._open_source()

    def run(self, source: EventSource) -> None:
        decoder = WedgeDecoder(self.keymap, self.gs_substitute, self.idle_gap)
        while not self.stopping:
            ready, _, _ = select.select([source, self._wake_read], [], [], self.idle_gap / 2)
            now = time.monotonic()
            if source in ready:
                codes = [code for event in source.read() for code in decoder.feed(event, now)]
            else:
                codes = decoder.flush_idle(now)
            for code in codes:
                text, symbology = split_aim(code)
                self.emit(Scanned(code=text, symbology=symbology, device=self.name))

    def close(self, source: EventSource) -> None:
        source.close()

    def stop(self, timeout: float = 2.0) -> None:
        if self._wake_write < 0:  # already stopped
            return
        self._stop.set()
        os.write(self._wake_write, b"\0")
        super().stop(timeout)
        if self._thread is None or not self._thread.is_alive():
            os.close(self._wake_read)
            os.close(self._wake_write)
            self._wake_read = self._wake_write = -1
