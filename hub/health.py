"""Each of the hub's loops says when it last finished a turn; /healthz and the systemd
watchdog read it here. A loop that survives a bad item still finishes its turn: only a
loop that is stuck (or dead) stops beating."""

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class LoopState:
    name: str
    last_progress_s: float  # seconds since its last finished turn (or since the start)
    stall_after_s: float
    turns: int

    @property
    def alive(self) -> bool:
        return self.last_progress_s <= self.stall_after_s


class Heartbeats:
    """`limits`: loop name -> seconds without a finished turn after which it is stalled.
    A loop that has not beaten yet counts from the moment this was made."""

    def __init__(
        self, limits: Mapping[str, float], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._lock = threading.Lock()
        started = clock()
        self._last = dict.fromkeys(self._limits, started)
        self._turns = dict.fromkeys(self._limits, 0)

    def beat(self, name: str) -> None:
        with self._lock:
            self._last[name] = self._clock()
            self._turns[name] += 1

    def states(self) -> list[LoopState]:
        now = self._clock()
        with self._lock:
            return [
                LoopState(name, round(now - self._last[name], 3), limit, self._turns[name])
                for name, limit in self._limits.items()
            ]

    def all_alive(self) -> bool:
        return all(state.alive for state in self.states())
