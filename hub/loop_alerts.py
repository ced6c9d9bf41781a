"""A hub loop's failed turns as one `loop_failed` alert per loop (docs/reliability.md).

A failed turn is remembered here and recorded by the loop's next turn that reaches the
database: the connection that just failed may not take it, and a write on it is lost. The
alert clears once the loop has run clean for a quiet period since its last failure, so a
loop that fails now and then keeps one alert open, not one per failure. At the start each
loop counts as just failed: an alert an earlier run left open (a hub restarted while
failing) clears so too. The ingest thread and the housekeeping thread each record and
clear their own loops' alerts, on their own connections.

A hub of several processes (docs/scaling.md) has an alert per worker and loop: with one
per loop, a worker running clean cleared the alert of another that was still failing. A
worker's id is new at each start, so an alert of a worker that is gone (killed, or
stopped while failing) is cleared by whichever worker keeps house (`clear_gone`): that
loop does not go on."""

import threading
import time
from collections.abc import Iterable
from datetime import datetime

from hub import alerts, store
from hub.store.connection import Connection
from protocol.envelope import utc_now
from protocol.topics import Topics

KEY = "loop_failed:"


class LoopAlerts:
    def __init__(
        self, topics: Topics, loops: Iterable[str], quiet_s: float, worker: str = ""
    ) -> None:
        """`quiet_s`: how long a loop runs clean before its alert clears (`[health]
        stall_after_s`); `worker`: this process's id when it is one of several."""
        self.topics, self.quiet_s, self.worker = topics, quiet_s, worker
        self._lock = threading.Lock()
        self._unrecorded: dict[str, tuple[datetime, Exception]] = {}  # first failure, latest
        self._failed_at = dict.fromkeys(loops, time.monotonic())  # alert maybe open since

    def failed(self, loop: str, exc: Exception) -> None:
        """A failed turn of `loop`."""
        with self._lock:
            since = self._unrecorded[loop][0] if loop in self._unrecorded else utc_now()
            self._unrecorded[loop] = (since, exc)
            self._failed_at[loop] = time.monotonic()

    def record(self, conn: Connection, loops: Iterable[str]) -> None:
        """The alert of each of `loops` that failed since the last record, with its first
        failure's time and its latest error. A database error raises to the caller's loop
        (whose next turn records it)."""
        for loop in loops:
            with self._lock:
                failure = self._unrecorded.get(loop)
            if failure is None:
                continue
            since, exc = failure
            whose = f"worker {self.worker}'s" if self.worker else "the hub's"
            with store.transaction(conn):
                alerts.raise_(conn, self.topics, utc_now().isoformat(), "loop_failed",
                              "critical", f"{whose} {loop} loop failed since "
                              f"{since.isoformat(timespec='seconds')} and goes on: {exc!r} "
                              "(see the hub's log)", dedupe=self._key(loop))  # fmt: skip
            with self._lock:
                if self._unrecorded.get(loop) is failure:  # not failed again meanwhile
                    del self._unrecorded[loop]

    def clear_if_clean(self, conn: Connection, loop: str, after_s: float | None = None) -> None:
        """After a clean turn of `loop`: its alert clears once the loop has run clean for
        `after_s` (by default the quiet period) since its last failure."""
        with self._lock:
            failed = self._failed_at.get(loop)
            if failed is None or loop in self._unrecorded:
                return
        quiet = self.quiet_s if after_s is None else after_s
        if time.monotonic() - failed < quiet:
            return
        with store.transaction(conn):
            alerts.clear(conn, self.topics, self._key(loop), utc_now().isoformat())
        with self._lock:
            if self._failed_at.get(loop) == failed:  # not failed again meanwhile
                del self._failed_at[loop]

    def _key(self, loop: str) -> str:
        return f"{KEY}{loop}:{self.worker}" if self.worker else f"{KEY}{loop}"


def clear_gone(conn: Connection, topics: Topics, live: set[str], now: str) -> int:
    """Inside a transaction: clear the loop alerts of workers not in `live` (the ids of the
    workers alive now); how many."""
    gone = [key for key in store.alerts_open_keys(conn, "loop_failed")
            if key.count(":") > 1 and key.split(":", 2)[2] not in live]  # fmt: skip
    for key in gone:
        alerts.clear(conn, topics, key, now)
    return len(gone)
