"""Messages the hub set aside with the reason: what it could neither apply nor publish.
Bounded: the first bytes of each payload, a repeat counted on its row, caps per source."""

import hashlib

from hub.store.conditions import Where
from hub.store.connection import Connection

# A dead letter keeps the first bytes of its payload: enough to see what it was, while a
# flood of big invalid messages cannot fill the disk (255 KB each grew the ledger 30-fold).
DEAD_LETTER_PAYLOAD_BYTES = 4096


def dead_letter(
    conn: Connection,
    topic: str,
    payload: bytes,
    reason: str,
    now: str,
    source: str = "",
) -> int:
    """Keep a message set aside, and its id. One that is already kept (same topic and
    payload: a station resending it) is counted on its row, not stored again."""
    digest = hashlib.sha256(topic.encode() + b"\0" + payload).hexdigest()
    # Whatever arrived is kept: a NUL in the topic or in the reason (which may quote the
    # payload) is one that PostgreSQL's text cannot hold, so it is shown as U+FFFD (the
    # payload keeps every byte).
    topic, reason, source = (text.replace("\0", "\ufffd") for text in (topic, reason, source))
    conn.execute(
        "INSERT INTO dead_letter_counts (source, received) VALUES (?, 1) "
        "ON CONFLICT (source) DO UPDATE SET received = dead_letter_counts.received + 1",
        (source,),
    )
    row = conn.execute(
        "UPDATE dead_letters SET repeats = repeats + 1 WHERE digest = ? AND topic = ? RETURNING id",
        (digest, topic),
    ).fetchone()
    if row is not None:
        return row[0]
    cur = conn.execute(
        "INSERT INTO dead_letters (topic, payload, reason, received, source, size, digest) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (topic, payload[:DEAD_LETTER_PAYLOAD_BYTES], reason[:2000], now, source, len(payload),
         digest),
    )  # fmt: skip
    return cur.fetchone()[0]


def dead_letters(conn: Connection, limit: int = 100) -> list[dict]:
    rows = conn.execute(
        "SELECT id, topic, payload, reason, received, source, size, repeats FROM dead_letters "
        "ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        {"id": r[0], "topic": r[1], "payload": bytes(r[2])[:2000].decode("utf-8", "replace"),
         "reason": r[3], "received": r[4], "source": r[5], "size": r[6], "repeats": r[7]}
        for r in rows
    ]  # fmt: skip


def dead_letter_sources_over(conn: Connection, keep: int) -> list[str]:
    return [row[0] for row in conn.execute(
        "SELECT source FROM dead_letters GROUP BY source HAVING count(*) > ?", (keep,)
    )]  # fmt: skip


def dead_letters_drop(
    conn: Connection, source: str | None, keep: int, before: str | None = None
) -> int:
    """Delete the oldest dead letters (of `source`, or of all when None) beyond the newest
    `keep`, and those received before `before`; each source's `dropped` counts them."""
    of_source = Where().equal("source", source)
    newest = f"SELECT id FROM dead_letters {of_source.sql} ORDER BY id DESC LIMIT ?"
    where = (
        Where()
        .equal("source", source)
        .add(
            f"(id NOT IN ({newest}) OR received < coalesce(?, ''))", *of_source.params, keep, before
        )
    )
    rows = conn.execute(
        f"DELETE FROM dead_letters {where.sql} RETURNING source", where.params
    ).fetchall()
    dropped: dict[str, int] = {}
    for (row_source,) in rows:
        dropped[row_source] = dropped.get(row_source, 0) + 1
    conn.executemany(
        "INSERT INTO dead_letter_counts (source, received, dropped) VALUES (?, ?, ?) "
        "ON CONFLICT (source) DO UPDATE SET dropped = dead_letter_counts.dropped + excluded.dropped",
        [(name, n, n) for name, n in dropped.items()],
    )
    return len(rows)


def dead_letter_counts(conn: Connection) -> list[dict]:
    """Per source: dead letters received in all (repeats too), kept now, dropped by the caps."""
    rows = conn.execute(
        "SELECT c.source, c.received, c.dropped, "
        "(SELECT count(*) FROM dead_letters d WHERE d.source = c.source) "
        "FROM dead_letter_counts c ORDER BY c.received DESC"
    ).fetchall()
    return [{"source": r[0], "received": r[1], "dropped": r[2], "kept": r[3]} for r in rows]
