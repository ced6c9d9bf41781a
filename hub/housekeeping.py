"""What the hub does on a clock rather than on an event: expiry alerts, the daily ABC
classes and stored reports, the cycle-count tasks they schedule, and the end of the return
window of old orders, late and short-shipped transfers. Safe to run as often
as you like."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from hub import alerts, counts, daily_refresh, returns, siteday, store, transfers
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
    # First, and on its own: the count schedule below reads the day's ABC classes.
    result.abc_refreshed, result.reports_refreshed = daily_refresh.refresh(conn, today, stamp,
                                                                           refresh, zone)  # fmt: skip
    with store.transaction(conn):
        settings = load_settings(conn)
        result.expiring = alerts.check_expiring(conn, topics, today, stamp)
        last = store.meta_get(conn, "count_schedule_day")
        if settings.count_stations and last != today.isoformat():
            result.tasks = counts.schedule(conn, topics, settings, settings.count_stations,
                                           today, stamp, settings.count_tasks_per_day)  # fmt: skip
            store.meta_set(conn, "count_schedule_day", today.isoformat())
        result.returns_closed = returns.close_window(conn, topics, today,
                                                     settings.return_window_days)  # fmt: skip
        result.transfers_late = transfers.check_late(conn, topics, now, transfer_late_days)
    return result

