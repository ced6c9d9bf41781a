"""A hub process on PostgreSQL says it is alive, from a thread of its own.

What lets another process end this one's writing transaction when this one is stuck
inside it (frozen, or cut off from the server), and never when it is merely busy
(hub.store.writer_lock): the row is renewed on a connection of its own, in autocommit,
without the writer lock, so a long transaction of this process (the daily housekeeping)
or its wait for the writer lock never holds it back. Only the whole process stopping, or
the server out of reach, does.
"""

import contextlib
import logging
import threading

import psycopg

from hub.store import writer_lock

log = logging.getLogger(__name__)

# Renewals per liveness period: the row survives several missed ones (a busy machine).
BEATS_PER_PERIOD = 6


class Liveness:
    """Renews process `name`'s liveness row every `alive_s` / BEATS_PER_PERIOD seconds;
    the row says alive for `alive_s` from each renewal."""

    def __init__(self, url: str, name: str, alive_s: float) -> None:
        self.url, self.name, self.alive_s = url, name, alive_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liveness", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.alive_s)

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        period = self.alive_s / BEATS_PER_PERIOD
        forgot = False
        while True:
            try:
                conn = conn or psycopg.connect(self.url, autocommit=True)
                writer_lock.beat(conn, self.name, self.alive_s)
                if not forgot:
                    writer_lock.forget(conn)
                    forgot = True
            except Exception:  # noqa: BLE001 - whatever fails, the next beat tries again
                log.warning("liveness: cannot renew %s's row; trying again", self.name,
                            exc_info=True)  # fmt: skip
                if conn is not None:
                    with contextlib.suppress(psycopg.Error):
                        conn.close()
                conn = None
            if self._stop.wait(period):
                break
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()
