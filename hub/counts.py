"""Counts: reconciliation rules, count tasks and full-count runs.

A count is reconciled against the book as of that count in its station's sequence: the
ingest applies one station's events in order, so the book at apply time already holds that
station's earlier movements and none of its later ones. Movements from *other* stations are
applied in arrival order: one the hub applied before the count is in the book, one applied
after it is not (see docs/inventory.md for what that means on the floor).
"""

import re
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice

from hub import store
from hub.settings import Settings
from hub.store.connection import Connection
from protocol import limits
from protocol.envelope import encode
from protocol.messages import CountTask
from protocol.topics import Topics


def needs_approval(settings: Settings, book: int, variance: int) -> bool:
    """|variance| above max(units, pct x |book|) waits for a supervisor."""
    limit = max(settings.count_approval_units, settings.count_approval_pct * abs(book))
    return abs(variance) > limit


class CountTaskError(ValueError):
    """A count task no station could close: an unknown station or location (says which)."""


_STATION = re.compile(rf"^[a-z0-9-]{{1,{limits.STATION_MAX_LEN}}}$")


def check_station(conn: Connection, station: str) -> None:
    """A station id is an MQTT topic level: only one that has reported gets tasks."""
    if not _STATION.match(station):
        raise CountTaskError(f"`station` {station[:80]!r} is not a station id "
                             f"([a-z0-9-], 1-{limits.STATION_MAX_LEN} chars)")  # fmt: skip
    if station not in {row["station"] for row in store.station_list(conn)}:
        raise CountTaskError(f"`station`: no station {station!r} has reported to the hub")


def check_target(conn: Connection, station: str, location: str) -> None:
    """Refuse a task that would never be closed, before anything is stored."""
    check_station(conn, station)
    if location not in store.location_codes(conn):
        raise CountTaskError(f"`location`: no location {location[:80]!r} is known to the hub "
                             "(neither listed nor holding stock)")  # fmt: skip


def issue_task(
    conn: Connection, topics: Topics, station: str, location: str, sku: str | None,
    run: str | None, now: str,
) -> str:  # fmt: skip
    task = f"CT-{store.counter_next(conn, 'count-task'):06d}"
    store.count_task_add(conn, task, station, location, sku, run, now)
    message = CountTask(task=task, location=location, sku=sku)
    store.outbox_put(conn, topics.count_task(station, task), encode(message), retain=True)
    return task


def task_done(conn: Connection, topics: Topics, task: str, now: str) -> None:
    row = store.count_task_get(conn, task)
    if row is None or row[3] != "open":
        return  # an unknown or finished task: the count itself still counts
    station, _location, _sku, _status, run = row
    store.count_task_done(conn, task, now)
    store.outbox_put(conn, topics.count_task(station, task), b"", retain=True)
    if run and not store.count_tasks(conn, run, "open"):
        store.count_run_set(conn, run, "done")


@dataclass(frozen=True)
class DueCount:
    """A stock line whose product is due for a cycle count."""

    sku: str
    location: str
    abc: str  # the product's ABC class (C until classes are computed)
    high_risk: bool
    last_count: str | None  # day of the product's last count; None: never counted
    due: str | None  # the day it fell due; None: never counted, so due since it arrived


def due_counts(conn: Connection, settings: Settings, today: date) -> Iterator[DueCount]:
    """Lines (by sku, location) whose product is due for a cycle count by its ABC class or
    risk, lazily: take as many as needed. Products with an open count task are left out."""
    frequency = {"A": settings.count_days_a, "B": settings.count_days_b,
                 "C": settings.count_days_c}  # fmt: skip
    risky = store.high_risk_skus(conn)
    busy = store.count_tasks_open_skus(conn)
    with closing(store.count_due_lines(conn)) as lines:
        for sku, location, _qty, last_count, cls in lines:
            if sku in busy:
                continue
            days = settings.count_days_high_risk if sku in risky else frequency.get(cls, 365)
            due = None if last_count is None else date.fromisoformat(last_count) + timedelta(days)
            if due is None or due <= today:
                yield DueCount(sku, location, cls, sku in risky, last_count,
                               None if due is None else due.isoformat())  # fmt: skip


def due_lines(conn: Connection, settings: Settings, today: date) -> list[tuple[str, str]]:
    """(sku, location) of every line due for a cycle count."""
    return [(d.sku, d.location) for d in due_counts(conn, settings, today)]


def due_now(
    conn: Connection, settings: Settings, today: date, limit: int
) -> list[DueCount]:
    """The first `limit` lines due for a count, in the order the hub issues their tasks."""
    with closing(due_counts(conn, settings, today)) as found:  # ends the read at once
        return list(islice(found, limit))


def schedule(
    conn: Connection, topics: Topics, settings: Settings, stations: list[str],
    today: date, now: str, limit: int,
) -> list[str]:  # fmt: skip
    """Issue count tasks for due lines, spread round-robin over `stations`."""
    tasks = []
    for n, line in enumerate(due_now(conn, settings, today, limit)):
        tasks.append(issue_task(conn, topics, stations[n % len(stations)], line.location,
                                line.sku, None, now))  # fmt: skip
    return tasks


def open_tasks(conn: Connection, limit: int) -> list[dict]:
    """Count tasks issued and not yet done, by task id."""
    return store.count_tasks(conn, None, "open", limit)


def start_full_count(
    conn: Connection, topics: Topics, stations: list[str], now: str
) -> tuple[str, list[str]]:
    """A periodic full count: one task per location (every sku there), one cut-off."""
    if not stations:
        raise CountTaskError("`stations`: name at least one station that will count")
    for station in stations:
        check_station(conn, station)
    run = f"FC-{store.counter_next(conn, 'full-count'):04d}"
    store.count_run_add(conn, run, now, now)
    tasks = [
        issue_task(conn, topics, stations[n % len(stations)], location, None, run, now)
        for n, location in enumerate(store.location_codes(conn))
    ]
    return run, tasks


def full_count_report(conn: Connection, run: str) -> dict | None:
    found = store.count_run_get(conn, run)
    if found is None:
        return None
    cutoff, status, created = found
    tasks = store.count_tasks(conn, run, None)
    counted = store.counts_of_run(conn, run)
    return {
        "run": run, "cutoff": cutoff, "status": status, "created": created,
        "tasks": len(tasks), "open": [t["location"] for t in tasks if t["status"] == "open"],
        "counts": [count_dict(c) for c in counted],
        "variance_units": sum(c.variance for c in counted),
    }  # fmt: skip


def variances_pending(conn: Connection, limit: int, offset: int) -> list[dict]:
    """Counts whose variance waits for a supervisor (see `needs_approval`), oldest first,
    each with the operator who counted."""
    return [{**count_dict(count), "operator": operator}
            for count, operator in store.counts_pending(conn, limit, offset)]  # fmt: skip


def count_dict(count: store.CountRow) -> dict:
    return {
        "id": count.id, "station": count.station, "sku": count.sku, "location": count.location,
        "lot": count.lot, "book": count.book, "counted": count.counted,
        "variance": count.variance, "status": count.status, "task": count.task, "ts": count.ts,
        "decided_by": count.decided_by, "decided": count.decided,
    }  # fmt: skip
