"""What the hub does on a clock rather than on an event: expiry alerts, the daily ABC
classes and the cycle-count tasks they schedule. Safe to run as often as you like."""

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from hub import alerts, counts, planning, store
from hub.settings import load as load_settings
from protocol.topics import Topics


@dataclass
class Tick:
    expiring: int = 0
    abc_refreshed: bool = False
    tasks: list[str] = field(default_factory=list)


def tick(conn: sqlite3.Connection, topics: Topics, now: datetime) -> Tick:
    result = Tick()
    today, stamp = now.date(), now.isoformat()
    with store.transaction(conn):
        settings = load_settings(conn)
        result.expiring = alerts.check_expiring(conn, topics, today, stamp)
        computed = store.abc_computed(conn)
        if computed is None or computed[:10] < today.isoformat():
            planning.refresh_abc(conn, today, stamp)
            result.abc_refreshed = True
        last = store.meta_get(conn, "count_schedule_day")
        if settings.count_stations and last != today.isoformat():
            result.tasks = counts.schedule(conn, topics, settings, settings.count_stations,
                                           today, stamp, settings.count_tasks_per_day)  # fmt: skip
            store.meta_set(conn, "count_schedule_day", today.isoformat())
    return result
