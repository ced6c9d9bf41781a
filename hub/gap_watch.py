"""Gaps in the stations' event streams that do not fill by themselves: which to ask the
station to resend (`cmd/resync`), and which can never fill because the station journals
another epoch now (reported once with an alert, and by `hub check`)."""

import logging
import time

from hub import alerts, store
from hub.ingest_batch import Fence
from hub.store.connection import Connection
from protocol.envelope import utc_now
from protocol.topics import Topics

log = logging.getLogger(__name__)


class GapWatch:
    def __init__(self, conn: Connection, topics: Topics, resync_after_s: float,
                 fence: Fence | None) -> None:  # fmt: skip
        self.conn = conn
        self.topics = topics
        self.resync_after_s = resync_after_s
        self.fence = fence
        self._gap_seen: dict[tuple[str, str], tuple[int, float]] = {}  # -> (applied, since)
        self._resync_sent: dict[tuple[str, str], float] = {}
        self._stale_reported: set[tuple[str, str]] = set()

    def due_resyncs(self, now: float | None = None) -> list[tuple[str, str, int]]:
        """(station, epoch, from seq) for every gap of a station's current journal that
        has not filled for `resync_after_s`.

        Asked again every `resync_after_s` while the gap stays open: a station that was
        offline when first asked is asked again. A gap in an epoch the station no longer
        journals (re-imaged, or a stray publish) can never fill: it is reported once with an
        alert, and not asked for; so is one whose next event came and failed (set aside).
        """
        now = time.monotonic() if now is None else now
        due: list[tuple[str, str, int]] = []
        open_gaps = {(g.station, g.epoch): g for g in store.gaps(self.conn)
                     if self.fence is None or self.fence.owns(g.station)}  # fmt: skip
        for key in list(self._gap_seen):
            if key not in open_gaps:
                del self._gap_seen[key]
                self._resync_sent.pop(key, None)
        stale = []
        for key, gap in open_gaps.items():
            current = store.station_epoch(self.conn, gap.station)
            if current is not None and current != gap.epoch:
                stale.append((gap, current))
                continue
            if store.event_failure_get(self.conn, gap.station, gap.epoch, gap.applied + 1):
                continue  # it came and failed: resending it would fail again (it is alerted)
            if self._due(key, gap.applied, now):
                due.append((gap.station, gap.epoch, gap.applied + 1))
        self._report_stale(stale)
        return due

    def _due(self, key: tuple[str, str], applied_now: int, now: float) -> bool:
        """Whether the gap has waited `resync_after_s` without progress and was not asked
        for in the last `resync_after_s`; if so, it counts as asked for now."""
        applied, since = self._gap_seen.get(key, (applied_now, now))
        if applied != applied_now:  # progress: the gap moved, start the clock again
            since = now
        self._gap_seen[key] = (applied_now, since)
        last_sent = self._resync_sent.get(key)
        waited = now - since >= self.resync_after_s
        not_recent = last_sent is None or now - last_sent >= self.resync_after_s
        if waited and not_recent:
            self._resync_sent[key] = now
            return True
        return False

    def _report_stale(self, stale: list[tuple[store.Gap, str]]) -> None:
        """Alert once while the condition stands; once it is over (the station journals that
        epoch again, or nothing is held in it), it is forgotten, so that it is alerted again
        if it comes back."""
        self._stale_reported &= {(gap.station, gap.epoch) for gap, _current in stale}
        new = [(gap, current) for gap, current in stale
               if (gap.station, gap.epoch) not in self._stale_reported]  # fmt: skip
        if not new:
            return
        now = utc_now().isoformat()
        with store.transaction(self.conn):
            for gap, current in new:
                log.warning("%s: %d events of epoch %s held after seq %d; it journals %s now",
                            gap.station, gap.held, gap.epoch, gap.applied, current)  # fmt: skip
                alerts.raise_(
                    self.conn, self.topics, now, "held_old_epoch", "critical",
                    f"station {gap.station}: {gap.held} events of epoch {gap.epoch} (from seq "
                    f"{gap.first_held}) wait behind seq {gap.applied + 1}, which never "
                    f"arrived; the station journals epoch {current} now and cannot resend "
                    "them (see python -m hub check)",
                    station=gap.station, dedupe=f"held_old_epoch:{gap.station}:{gap.epoch}",
                )  # fmt: skip
                self._stale_reported.add((gap.station, gap.epoch))
