"""What the hub publishes, kept until the broker has it, and what it could neither apply nor
publish (dead letters)."""

import logging
import sqlite3
from collections.abc import Iterable

from protocol.envelope import MAX_PAYLOAD_BYTES, utc_now

log = logging.getLogger(__name__)


def dead_letter(
    conn: sqlite3.Connection, topic: str, payload: bytes, reason: str, now: str
) -> None:
    conn.execute(
        "INSERT INTO dead_letters (topic, payload, reason, received) VALUES (?, ?, ?, ?)",
        (topic, payload, reason[:2000], now),
    )


def dead_letters(conn: sqlite3.Connection, limit: int = 100) -> list[dict]:
    rows = conn.execute(
        "SELECT id, topic, payload, reason, received FROM dead_letters ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        {"id": r[0], "topic": r[1], "payload": bytes(r[2])[:2000].decode("utf-8", "replace"),
         "reason": r[3], "received": r[4]}
        for r in rows
    ]  # fmt: skip


def outbox_put(conn: sqlite3.Connection, topic: str, payload: bytes, retain: bool) -> None:
    if len(payload) > MAX_PAYLOAD_BYTES:
        # The broker closes the connection of a client publishing more, and paho sends it
        # again after every reconnect: the hub's link would never stay up. Kept where a
        # supervisor sees it instead (the topic keeps its previous retained message).
        reason = f"not published: {len(payload)} bytes exceed the limit of {MAX_PAYLOAD_BYTES}"
        log.error("outbox message on %s %s", topic, reason)
        dead_letter(conn, topic, payload, reason, utc_now().isoformat())
        return
    if retain:
        conn.execute("DELETE FROM outbox WHERE topic = ? AND retain = 1", (topic,))
    conn.execute(
        "INSERT INTO outbox (topic, payload, retain) VALUES (?, ?, ?)",
        (topic, payload, int(retain)),
    )


def outbox_read(
    conn: sqlite3.Connection, after_id: int, limit: int
) -> list[tuple[int, str, bytes, bool]]:
    rows = conn.execute(
        "SELECT id, topic, payload, retain FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    ).fetchall()
    return [(r[0], r[1], bytes(r[2]), bool(r[3])) for r in rows]


def outbox_delete(conn: sqlite3.Connection, ids: Iterable[int]) -> None:
    conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
