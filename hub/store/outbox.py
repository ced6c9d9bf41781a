"""What the hub publishes, kept until the broker has it (what it cannot publish becomes a
dead letter)."""

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from hub.store.connection import Connection, json_values
from hub.store.dead_letters import dead_letter
from protocol.envelope import MAX_PAYLOAD_BYTES, utc_now

log = logging.getLogger(__name__)


@dataclass
class _Rows:
    """A block's outbox rows, in order; a retained topic's earlier ones dropped (None)."""

    rows: list[tuple[str, bytes, int] | None] = field(default_factory=list)
    retained: dict[str, int] = field(default_factory=dict)  # topic -> its row's index

    def add(self, topic: str, payload: bytes, retain: bool) -> None:
        if retain:
            earlier = self.retained.get(topic)
            if earlier is not None:
                self.rows[earlier] = None
            self.retained[topic] = len(self.rows)
        self.rows.append((topic, payload, int(retain)))


@contextmanager
def outbox_batched(conn: Connection) -> Iterator[Connection]:
    """Inside a transaction: what `outbox_put` puts is kept and written at the block's end,
    in order, given to `execute_later` (inside `store.writes_held` on PostgreSQL one COPY;
    and one statement for the retained topics' older rows), not two statements a message
    (an ingest batch's; each a round trip on PostgreSQL). A retained topic keeps only its
    last message of the block, where that one was put, as the message-by-message DELETE
    left it. After an error nothing is written (the transaction
    is rolled back). Nothing may read the outbox inside the block: its rows are not there
    yet (the reads here refuse to, `_unbatched`)."""
    if conn.outbox_rows is not None:  # already in one
        yield conn
        return
    block = conn.outbox_rows = _Rows()
    try:
        yield conn
        _write(conn, block)
    finally:
        conn.outbox_rows = None


@contextmanager
def savepoint(conn: Connection, name: str) -> Iterator[Connection]:
    """A savepoint inside a transaction: on an exception what the block did is undone,
    the outbox rows it put into an `outbox_batched` block too, and what the transaction
    knew of its rows is as before the block (store.written), and the exception goes on."""
    block = conn.outbox_rows
    mark = None if block is None else (list(block.rows), dict(block.retained))
    written = None if conn.written is None else conn.written.copy()
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield conn
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        if block is not None and mark is not None:
            block.rows, block.retained = mark
        if written is not None:
            conn.written = written
        raise
    conn.execute(f"RELEASE {name}")


def _write(conn: Connection, block: _Rows) -> None:
    if block.retained:
        # One statement for all the block's retained topics (a batch's stock messages: on
        # PostgreSQL one each was 30 us of psycopg's CPU, 10 an event of bench 7's).
        conn.execute(f"DELETE FROM outbox WHERE retain = 1 AND topic IN ({json_values(conn)})",
                     (json.dumps(list(block.retained)),))  # fmt: skip
    for row in block.rows:
        if row is not None:  # held with the batch's other rows (store.writes_held)
            conn.execute_later("INSERT INTO outbox (topic, payload, retain) VALUES (?, ?, ?)",
                               row)  # fmt: skip


def outbox_put(conn: Connection, topic: str, payload: bytes, retain: bool) -> None:
    if len(payload) > MAX_PAYLOAD_BYTES:
        # The broker closes the connection of a client publishing more, and paho sends it
        # again after every reconnect: the hub's link would never stay up. Kept where a
        # supervisor sees it instead (the topic keeps its previous retained message).
        reason = f"not published: {len(payload)} bytes exceed the limit of {MAX_PAYLOAD_BYTES}"
        log.error("outbox message on %s %s", topic, reason)
        dead_letter(conn, topic, payload, reason, utc_now().isoformat(), "outbox")
        return
    block = conn.outbox_rows
    if block is not None:
        block.add(topic, payload, retain)
        return
    if retain:
        conn.execute("DELETE FROM outbox WHERE topic = ? AND retain = 1", (topic,))
    conn.execute(
        "INSERT INTO outbox (topic, payload, retain) VALUES (?, ?, ?)",
        (topic, payload, int(retain)),
    )


def _unbatched(conn: Connection) -> Connection:
    """`conn`, refused inside an `outbox_batched` block, whose rows a read would not see."""
    if conn.outbox_rows is not None:
        raise RuntimeError("the outbox read inside an outbox_batched block: its rows are "
                           "written only at the block's end")  # fmt: skip
    return conn


def outbox_read(conn: Connection, after_id: int, limit: int) -> list[tuple[int, str, bytes, bool]]:
    rows = _unbatched(conn).execute(
        "SELECT id, topic, payload, retain FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    ).fetchall()
    return [(r[0], r[1], bytes(r[2]), bool(r[3])) for r in rows]


def outbox_last_id(conn: Connection) -> int:
    """The newest row's id (ids only rise: a new one means something was written)."""
    return _unbatched(conn).execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0]


def outbox_first_id(conn: Connection) -> int:
    """The oldest unpublished row's id, 0 if none."""
    return _unbatched(conn).execute("SELECT coalesce(min(id), 0) FROM outbox").fetchone()[0]


def outbox_delete(conn: Connection, ids: Iterable[int]) -> None:
    _unbatched(conn).executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])


def outbox_set_aside(conn: Connection, row_id: int, reason: str, now: str) -> str | None:
    """An outbox row that cannot be published: kept as a dead letter with why, out of the
    publisher's way. Its topic, or None if it is gone already."""
    row = _unbatched(conn).execute(
        "DELETE FROM outbox WHERE id = ? RETURNING topic, payload", (row_id,)
    ).fetchone()
    if row is None:
        return None
    dead_letter(conn, row[0], bytes(row[1]), f"not published: {reason}", now, "outbox")
    return row[0]
