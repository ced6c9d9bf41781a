"""Station events that passed the contract but could not be applied: each holds its
station's later events until it applies on a resend or a supervisor decides to skip it."""

from dataclasses import dataclass

from hub.store.conditions import Where
from hub.store.connection import Connection


@dataclass(frozen=True)
class EventFailure:
    """A station event set aside because it could not be applied (see event_failures)."""

    station: str
    epoch: str
    seq: int
    dead_letter: int
    reason: str
    since: str
    decided: str | None = None
    decided_by: str | None = None
    note: str | None = None


_FAILURE_COLUMNS = "station, epoch, seq, dead_letter, reason, since, decided, decided_by, note"


def event_failure_add(
    conn: Connection,
    station: str,
    epoch: str,
    seq: int,
    dead_letter_id: int,
    reason: str,
    now: str,
) -> bool:
    """False when this event had already failed (a resend of it)."""
    cur = conn.execute(
        "INSERT INTO event_failures (station, epoch, seq, dead_letter, reason, since) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (station, epoch, seq, dead_letter_id, reason[:2000], now),
    )  # fmt: skip
    return cur.rowcount == 1


def event_failure_get(conn: Connection, station: str, epoch: str, seq: int) -> EventFailure | None:
    row = conn.execute(
        f"SELECT {_FAILURE_COLUMNS} FROM event_failures "
        "WHERE station = ? AND epoch = ? AND seq = ?",
        (station, epoch, seq),
    ).fetchone()
    return EventFailure(*row) if row else None


def event_failures(conn: Connection, undecided_only: bool = False) -> list[EventFailure]:
    """Failed events not applied since (a later apply removes the row), newest first."""
    where = Where().add("decided IS NULL") if undecided_only else Where()
    rows = conn.execute(
        f"SELECT {_FAILURE_COLUMNS} FROM event_failures {where.sql} ORDER BY since DESC",
        where.params,
    ).fetchall()
    return [EventFailure(*row) for row in rows]


def event_failure_decide(
    conn: Connection, station: str, epoch: str, seq: int, by: str, note: str, now: str
) -> bool:
    cur = conn.execute(
        "UPDATE event_failures SET decided = ?, decided_by = ?, note = ? "
        "WHERE station = ? AND epoch = ? AND seq = ? AND decided IS NULL",
        (now, by, note[:2000], station, epoch, seq),
    )
    return cur.rowcount == 1


def event_failures_to_skip(conn: Connection) -> list[EventFailure]:
    """Skips a supervisor decided that the ingest has not made yet (the stream is still
    just before them)."""
    rows = conn.execute(
        f"SELECT {', '.join('f.' + c for c in _FAILURE_COLUMNS.split(', '))} "
        "FROM event_failures f LEFT JOIN cursors c ON c.station = f.station "
        "AND c.epoch = f.epoch WHERE f.decided IS NOT NULL AND coalesce(c.applied, 0) = f.seq - 1"
    ).fetchall()
    return [EventFailure(*row) for row in rows]


def event_failures_open_any(conn: Connection) -> bool:
    return (
        conn.execute("SELECT 1 FROM event_failures WHERE decided IS NULL LIMIT 1").fetchone()
        is not None
    )


def event_failures_applied(conn: Connection, station: str, epoch: str, applied: int) -> list[int]:
    """Forget failed events that applied after all (resent after a fix): their seqs."""
    rows = conn.execute(
        "DELETE FROM event_failures WHERE station = ? AND epoch = ? AND seq <= ? "
        "AND decided IS NULL RETURNING seq",
        (station, epoch, applied),
    ).fetchall()
    return [row[0] for row in rows]
