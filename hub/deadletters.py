"""The bounds on dead letters: at most so many per source and in all, for so many days.
The oldest go first; each source's counts (received, dropped) are kept for good."""

from datetime import datetime, timedelta

from hub import store
from hub.config import DeadLetterSection
from hub.store.connection import Connection


def trim(conn: Connection, limits: DeadLetterSection, now: datetime) -> int:
    """Drop what is over a cap or older than the retention (inside the caller's
    transaction): how many were dropped."""
    dropped = 0
    for source in store.dead_letter_sources_over(conn, limits.per_source):
        dropped += store.dead_letters_drop(conn, source, limits.per_source)
    before = (now - timedelta(days=limits.keep_days)).isoformat()
    return dropped + store.dead_letters_drop(conn, None, limits.total, before)
