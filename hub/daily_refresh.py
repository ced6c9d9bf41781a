"""The day's ABC classes and stored reports (dead stock, surplus, reorder): computed from
one consistent snapshot of the ledger with no write lock held, then stored in one short
transaction.

At 100,000 products the reads and the planning take tens of seconds (docs/performance.md).
Computed inside a writing transaction, as they were until 2026-12-06, they held the
writer's lock that long once a day: every PostgreSQL ingest worker waited, and on SQLite
every other writer (the web's requests too, up to their busy timeout). Rows stored this
way say when their snapshot was read and the settings they were computed with; a report
page whose query or settings they do not answer computes its rows anew, as before."""

from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo

from hub import planning, reports, siteday, store
from hub.settings import load as load_settings
from hub.store.connection import Connection


@dataclass
class Computed:
    """What a refresh read: the rows to store, and what they answer for."""

    day: date
    stamp: str  # when the snapshot was read: the rows' "computed"
    abc: list[tuple[str, str, int, float]] | None = None  # None: today's are stored
    reports: dict[str, tuple[list[tuple], str]] = field(default_factory=dict)  # rows, params


def refresh(
    conn: Connection, today: date, stamp: str, force: bool = False, zone: tzinfo = UTC
) -> tuple[bool, list[str]]:
    """Recompute what is not yet today's (all of it when `force`), outside any transaction
    of the caller's: (ABC recomputed, the names of the reports recomputed)."""
    with store.snapshot(conn):
        computed = compute(conn, today, stamp, force, zone)
    if computed.abc is not None or computed.reports:
        with store.transaction(conn):
            keep(conn, computed)
    return computed.abc is not None, list(computed.reports)


def compute(conn: Connection, today: date, stamp: str, force: bool, zone: tzinfo) -> Computed:
    """Inside a snapshot: the ABC classes and each stored report that `today` needs anew."""
    settings = load_settings(conn)
    computed = Computed(today, stamp)
    last = store.abc_computed(conn)
    if force or last is None or siteday.day_of(last, zone) < today.isoformat():
        computed.abc = planning.abc_rows(conn, today, settings)
    for name, report in reports.STORED.items():
        params = report.params(settings)
        run = store.report_run(conn, name)
        if force or run is None or run[0] != today.isoformat() or run[2] != params:
            computed.reports[name] = (report.rows(conn, today, settings), params)
    return computed


def keep(conn: Connection, computed: Computed) -> None:
    """Inside a writing transaction: the rows `compute` read, in place of the last ones."""
    if computed.abc is not None:
        store.abc_replace(conn, computed.abc, computed.stamp)
    for name, (rows, params) in computed.reports.items():
        reports.STORED[name].replace(conn, rows)
        store.report_run_set(conn, name, computed.day.isoformat(), computed.stamp, params)
