"""Station events the hub could not apply, and the one way past them: a supervisor's
decision to skip, recorded with who, when and why. The ingest makes the skip (a `skipped`
event in the seq's place) and applies what waited behind it."""

from dataclasses import asdict

from hub import store
from hub.store.connection import Connection


class SkipError(ValueError):
    """Why this skip cannot be decided; says which."""


def listing(conn: Connection) -> list[dict]:
    return [asdict(failure) for failure in store.event_failures(conn)]


def decide_skip(
    conn: Connection, station: str, epoch: str, seq: int, by: str, note: str, now: str
) -> None:
    """Record the decision (the ingest acts on it within a second). `note` is required:
    the ledger then says why that event is not in it."""
    note = note.strip()
    if not note:
        raise SkipError("say why the event is skipped (note)")
    with store.transaction(conn):
        failure = store.event_failure_get(conn, station, epoch, seq)
        if failure is None:
            raise SkipError(f"no failed event {station} epoch {epoch} seq {seq}")
        if failure.decided is not None:
            raise SkipError(f"{station} epoch {epoch} seq {seq} was already skipped by "
                            f"{failure.decided_by} at {failure.decided}")  # fmt: skip
        store.event_failure_decide(conn, station, epoch, seq, by, note, now)
