"""What the hub publishes, kept until the broker has it (what it cannot publish becomes a
dead letter)."""

import logging
from collections.abc import Iterable

from hub.store.connection import Connection
from hub.store.dead_letters import dead_letter
from protocol.envelope import MAX_PAYLOAD_BYTES, utc_now

log = logging.getLogger(__name__)


def outbox_put(conn: Connection, topic: str, payload: bytes, retain: bool) -> None:
    if len(payload) > MAX_PAYLOAD_BYTES:
        # The broker closes the connection of a client publishing more, and paho sends it
        # again after every reconnect: the hub's link would never stay up. Kept where a
        # supervisor sees it instead (the topic keeps its previous retained message).
        reason = f"not published: {len(payload)} bytes exceed the limit of {MAX_PAYLOAD_BYTES}"
        log.error("outbox message on %s %s", topic, reason)
        dead_letter(conn, topic, payload, reason, utc_now().isoformat(), "outbox")
        return
    if retain:
        conn.execute("DELETE FROM outbox WHERE topic = ? AND retain = 1", (topic,))
    conn.execute(
        "INSERT INTO outbox (topic, payload, retain) VALUES (?, ?, ?)",
        (topic, payload, int(retain)),
    )


def outbox_read(conn: Connection, after_id: int, limit: int) -> list[tuple[int, str, bytes, bool]]:
    rows = conn.execute(
        "SELECT id, topic, payload, retain FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    ).fetchall()
    return [(r[0], r[1], bytes(r[2]), bool(r[3])) for r in rows]


def outbox_last_id(conn: Connection) -> int:
    """The newest row's id (ids only rise: a new one means something was written)."""
    return conn.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0]


def outbox_first_id(conn: Connection) -> int:
    """The oldest unpublished row's id, 0 if none."""
    return conn.execute("SELECT coalesce(min(id), 0) FROM outbox").fetchone()[0]


def outbox_delete(conn: Connection, ids: Iterable[int]) -> None:
    conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])


def outbox_set_aside(conn: Connection, row_id: int, reason: str, now: str) -> str | None:
    """An outbox row that cannot be published: kept as a dead letter with why, out of the
    publisher's way. Its topic, or None if it is gone already."""
    row = conn.execute(
        "DELETE FROM outbox WHERE id = ? RETURNING topic, payload", (row_id,)
    ).fetchone()
    if row is None:
        return None
    dead_letter(conn, row[0], bytes(row[1]), f"not published: {reason}", now, "outbox")
    return row[0]
