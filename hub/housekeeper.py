"""The hub's housekeeping (hub.housekeeping: expiry alerts, the daily ABC classes and
stored reports, the count schedule, the dead letters' bounds) on a thread of its own, with
its own connection, every minute while this process holds the housekeeping duty (a single
hub always does).

On the ingest thread, as it was until 2026-12-06, a turn held the ingest for as long as it
took: the daily refresh reads for tens of seconds on a big catalog, during which no event
was applied and no station heard its `applied`. Now the ingest goes on meanwhile; the
refresh itself holds the writer's lock only to store its rows (hub.daily_refresh)."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from hub import deadletters, housekeeping, store
from hub.config import HubConfig
from hub.health import Heartbeats
from hub.loop_alerts import LoopAlerts, clear_gone
from hub.store.connection import Connection
from protocol.envelope import utc_now
from protocol.topics import Topics

log = logging.getLogger(__name__)

HOUSEKEEPING_S = 60.0  # between turns
DUTY_CHECK_S = 1.0  # between looks at whether this process has the duty, while it has not
LOOP = "housekeeping"


@dataclass
class Housekeeper:
    db_path: str | Path
    topics: Topics
    zone: tzinfo
    config: HubConfig
    holds_duty: Callable[[], bool]  # whether this process is the one to keep house now
    heartbeats: Heartbeats
    loop_alerts: LoopAlerts
    wake_outbox: Callable[[], None]
    stop: threading.Event
    several: bool = False  # one of several processes: their loops' alerts are each their own

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, name=LOOP, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        """Wait for a turn under way to end (after `stop` is set), at most `timeout`."""
        self._thread.join(timeout)

    def _run(self) -> None:
        conn: Connection | None = None
        try:
            while not self.stop.is_set():
                if self.holds_duty():
                    conn = self._turn(conn)
                    self.stop.wait(HOUSEKEEPING_S)
                else:  # another worker's duty, or not yet known whose: looked at again soon
                    self.heartbeats.beat(LOOP)
                    self.stop.wait(DUTY_CHECK_S)
        finally:
            store.close_quietly(conn)

    def _turn(self, conn: Connection | None) -> Connection | None:
        """One turn; the connection to keep for the next (None after a database failure:
        a broken PostgreSQL connection stays broken)."""
        try:
            conn = conn or store.connect(self.db_path)
            self.loop_alerts.record(conn, (LOOP,))
            now = utc_now()
            housekeeping.tick(conn, self.topics, now, zone=self.zone,
                              transfer_late_days=self.config.transfers.late_days)  # fmt: skip
            with store.transaction(conn):
                deadletters.trim(conn, self.config.dead_letters, now)
                if self.several:
                    self._clear_gone_workers(conn)
            self.loop_alerts.clear_if_clean(conn, LOOP, after_s=0)  # turns are a minute apart
        except store.db_errors() as exc:
            log.exception("housekeeping: the database failed; trying again next turn")
            self.loop_alerts.failed(LOOP, exc)
            store.close_quietly(conn)
            conn = None
        except Exception as exc:  # noqa: BLE001 - alerted; the next turn tries again
            log.exception("housekeeping failed; trying again next turn")
            self.loop_alerts.failed(LOOP, exc)
        self.heartbeats.beat(LOOP)
        self.wake_outbox()
        return conn

    def _clear_gone_workers(self, conn: Connection) -> None:
        """The loop alerts of workers no longer alive (as /healthz counts them): theirs are
        loops that do not go on (hub.loop_alerts)."""
        live = store.workers_live(conn, time.time() - self.config.ingest.lease_s)
        cleared = clear_gone(conn, self.topics, {w.id for w in live}, utc_now().isoformat())
        if cleared:
            log.info("cleared %d loop alerts of workers no longer alive", cleared)

