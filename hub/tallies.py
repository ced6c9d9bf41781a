"""What a change (an ingest batch) counts of its scans, kept in memory and written once at
its end: the scan counts per day, station, operator and mode, the pack scans' pick
figures, and the open alerts whose figures the scans restate.

Written per scan, these were four statements a scan, most of an ingest batch's
statements (each a round trip on PostgreSQL). The figures each scan is judged by are the
same as before: a station's day totals are read once, at its first scan of the change,
and counted on here. `flush` writes them all, inside the change's transaction, before
anything reads them (hub.ledger.finish, and a centre's resend before it reads alerts).
"""

from dataclasses import dataclass, field

from hub import store
from hub.store.connection import Connection


def pick_errors_key(station: str, day: str) -> str:
    """The dedupe key of a station's pick-error alert of a day (hub.ledger raises it)."""
    return f"pick_errors:{station}:{day}"


@dataclass
class Picks:
    picks: int = 0
    wrong: int = 0
    first_ts: str = ""
    last_ts: str = ""


@dataclass
class Tallies:
    # (day, station, operator, mode) -> [scans, errors] to add
    scans: dict[tuple[str, str, str, str], list[int]] = field(default_factory=dict)
    # (day, station) -> [scans, errors] of the day, stored and counted here
    days: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    picks: dict[tuple[str, str, str], Picks] = field(default_factory=dict)  # day, station, op
    alerts: dict[str, dict | None] = field(default_factory=dict)  # dedupe -> open alert, read
    messages: dict[str, str] = field(default_factory=dict)  # dedupe -> message to write

    def read_ahead(self, conn: Connection, day: str, stations: list[str]) -> None:
        """The day totals of `stations` and their pick-error alerts of `day`, in one
        statement each for all of them, where each was read at the station's first scan
        (a wait each on PostgreSQL, in every batch)."""
        new = [station for station in stations if (day, station) not in self.days]
        if not new:
            return
        totals = store.scan_day_totals_of(conn, day, new)
        for station in new:
            self.days[(day, station)] = list(totals.get(station, (0, 0)))
        keys = [pick_errors_key(station, day) for station in new]
        keys = [key for key in keys if key not in self.alerts]
        found = store.alerts_open_of(conn, keys) if keys else {}
        for key in keys:
            self.alerts[key] = found.get(key)

    def scan(
        self, conn: Connection, day: str, station: str, operator: str, mode: str, error: bool
    ) -> tuple[int, int]:
        """Count one scan; (scans, errors) of the station's day with it, every operator
        and mode."""
        count = self.scans.setdefault((day, station, operator, mode), [0, 0])
        count[0] += 1
        count[1] += int(error)
        totals = self.days.get((day, station))
        if totals is None:
            totals = self.days[(day, station)] = list(store.scan_day_totals(conn, day, station))
        totals[0] += 1
        totals[1] += int(error)
        return totals[0], totals[1]

    def pick(self, day: str, station: str, operator: str, ts: str, judged: bool,
             wrong: bool) -> None:  # fmt: skip
        """A pack scan (store.pick_scans_add says what counts)."""
        found = self.picks.setdefault((day, station, operator), Picks(first_ts=ts, last_ts=ts))
        found.picks += int(judged)
        found.wrong += int(wrong)
        found.first_ts, found.last_ts = min(found.first_ts, ts), max(found.last_ts, ts)

    def open_alert(self, conn: Connection, dedupe: str) -> dict | None:
        """The open alert `dedupe` (store.alert_open), read once per change."""
        if dedupe not in self.alerts:
            self.alerts[dedupe] = store.alert_open(conn, dedupe)
        return self.alerts[dedupe]

    def raised(self, dedupe: str) -> None:
        """An alert `dedupe` was raised: read it again when next asked."""
        self.alerts.pop(dedupe, None)

    def restate(self, dedupe: str, message: str) -> None:
        """The open alert `dedupe`'s new message, written at `flush`."""
        self.messages[dedupe] = message

    def flush(self, conn: Connection) -> None:
        """Write what was counted (and forget it: a second flush adds nothing)."""
        if self.scans:
            store.scan_stats_add(conn, [(*key, *count) for key, count in self.scans.items()])
        if self.picks:
            store.pick_scans_add(conn, [(*key, p.picks, p.wrong, p.first_ts, p.last_ts)
                                        for key, p in self.picks.items()])  # fmt: skip
        if self.messages:
            store.alert_messages_set(conn, self.messages)
        self.scans.clear()
        self.picks.clear()
        self.messages.clear()
