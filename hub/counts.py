"""Counts: reconciliation rules, count tasks and full-count runs.

A count is reconciled against the book as of that count in its station's sequence: the
ingest applies one station's events in order, so the book at apply time already holds that
station's earlier movements and none of its later ones. Movements from *other* stations are
applied in arrival order: one the hub applied before the count is in the book, one applied
after it is not (see docs/inventory.md for what that means on the floor).
"""

import sqlite3
from datetime import date, timedelta

from hub import store
from hub.settings import Settings
from protocol.envelope import encode
from protocol.messages import CountTask
from protocol.topics import Topics


def needs_approval(settings: Settings, book: int, variance: int) -> bool:
    """|variance| above max(units, pct x |book|) waits for a supervisor."""
    limit = max(settings.count_approval_units, settings.count_approval_pct * abs(book))
    return abs(variance) > limit


def issue_task(
    conn: sqlite3.Connection, topics: Topics, station: str, location: str, sku: str | None,
    run: str | None, now: str,
) -> str:  # fmt: skip
    task = f"CT-{store.counter_next(conn, 'count-task'):06d}"
    store.count_task_add(conn, task, station, location, sku, run, now)
    message = CountTask(task=task, location=location, sku=sku)
    store.outbox_put(conn, topics.count_task(station, task), encode(message), retain=True)
    return task


def task_done(conn: sqlite3.Connection, topics: Topics, task: str, now: str) -> None:
    row = store.count_task_get(conn, task)
    if row is None or row[3] != "open":
        return  # an unknown or finished task: the count itself still counts
    station, _location, _sku, _status, run = row
    store.count_task_done(conn, task, now)
    store.outbox_put(conn, topics.count_task(station, task), b"", retain=True)
    if run and not store.count_tasks(conn, run, "open"):
        store.count_run_set(conn, run, "done")


def due_lines(
    conn: sqlite3.Connection, settings: Settings, today: date
) -> list[tuple[str, str]]:
    """(sku, location) whose product is due for a cycle count by its ABC class or risk."""
    frequency = {"A": settings.count_days_a, "B": settings.count_days_b,
                 "C": settings.count_days_c}  # fmt: skip
    risky = store.high_risk_skus(conn)
    busy = store.count_tasks_open_skus(conn)
    due = []
    for sku, location, _qty, last_count, cls in store.count_due_lines(conn):
        days = settings.count_days_high_risk if sku in risky else frequency.get(cls, 365)
        if sku in busy:
            continue
        if last_count is None or date.fromisoformat(last_count) <= today - timedelta(days=days):
            due.append((sku, location))
    return due


def schedule(
    conn: sqlite3.Connection, topics: Topics, settings: Settings, stations: list[str],
    today: date, now: str, limit: int,
) -> list[str]:  # fmt: skip
    """Issue count tasks for due lines, spread round-robin over `stations`."""
    tasks = []
    for n, (sku, location) in enumerate(due_lines(conn, settings, today)[:limit]):
        tasks.append(issue_task(conn, topics, stations[n % len(stations)], location, sku,
                                None, now))  # fmt: skip
    return tasks


def start_full_count(
    conn: sqlite3.Connection, topics: Topics, stations: list[str], now: str
) -> tuple[str, list[str]]:
    """A periodic full count: one task per location (every sku there), one cut-off."""
    run = f"FC-{store.counter_next(conn, 'full-count'):04d}"
    store.count_run_add(conn, run, now, now)
    tasks = [
        issue_task(conn, topics, stations[n % len(stations)], location, None, run, now)
        for n, location in enumerate(store.location_codes(conn))
    ]
    return run, tasks


def full_count_report(conn: sqlite3.Connection, run: str) -> dict | None:
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


def count_dict(count: store.CountRow) -> dict:
    return {
        "id": count.id, "station": count.station, "sku": count.sku, "location": count.location,
        "lot": count.lot, "book": count.book, "counted": count.counted,
        "variance": count.variance, "status": count.status, "task": count.task, "ts": count.ts,
        "decided_by": count.decided_by, "decided": count.decided,
    }  # fmt: skip
