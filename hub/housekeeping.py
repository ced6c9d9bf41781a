"""What the hub does on a clock rather than on an event: expiry alerts, the daily ABC
classes and stored reports, the cycle-count tasks they schedule, and the end of the return
window of old orders, late and short-shipped transfers. Safe to run as often
as you like."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from hub import alerts, counts, planning, reports, returns, siteday, store, transfers
from hub.settings import load as load_settings
from hub.store.connection import Connection
from protocol.topics import Topics


@dataclass
class Tick:
    expiring: int = 0
    abc_refreshed: bool = False
    reports_refreshed: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    returns_closed: int = 0
    transfers_late: int = 0


def tick(
    conn: Connection, topics: Topics, now: datetime, refresh: bool = False,
    zone: tzinfo = UTC, transfer_late_days: int = 7,
) -> Tick:  # fmt: skip
    """`refresh`: recompute the ABC classes and the stored reports even if they are today's.
    `zone`: the site's time zone, whose day is "today" (the reports' pages ask for it);
    `transfer_late_days`: the hub's [transfers] late_days."""
    result = Tick()
    today, stamp = siteday.today(zone, now), now.isoformat()
    with store.transaction(conn):
        settings = load_settings(conn)
        result.expiring = alerts.check_expiring(conn, topics, today, stamp)
        result.abc_refreshed, result.reports_refreshed = refresh_daily(conn, today, stamp, refresh,
                                                                       zone)  # fmt: skip
        last = store.meta_get(conn, "count_schedule_day")
        if settings.count_stations and last != today.isoformat():
            result.tasks = counts.schedule(conn, topics, settings, settings.count_stations,
                                           today, stamp, settings.count_tasks_per_day)  # fmt: skip
            store.meta_set(conn, "count_schedule_day", today.isoformat())
        result.returns_closed = returns.close_window(conn, topics, today,
                                                     settings.return_window_days)  # fmt: skip
        result.transfers_late = transfers.check_late(conn, topics, now, transfer_late_days)
    return result


def refresh_daily(
    conn: Connection, today: date, stamp: str, force: bool = False, zone: tzinfo = UTC
) -> tuple[bool, list[str]]:
    """The ABC classes and the stored reports, when not yet computed today (or `force`),
    inside a transaction: (ABC recomputed, the reports recomputed)."""
    computed = store.abc_computed(conn)
    abc = force or computed is None or siteday.day_of(computed, zone) < today.isoformat()
    if abc:
        planning.refresh_abc(conn, today, stamp)
    return abc, reports.refresh(conn, today, stamp, force)
