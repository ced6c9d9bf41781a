"""The ledger: applied events, their movements, the balances the movements add up to, the
reversals between events, and the checks that balances and events are whole."""

import json
from collections.abc import Iterable
from dataclasses import dataclass

from hub.store.conditions import page
from hub.store.connection import Connection, json_values, written_of
from hub.store.written import unread


def event_insert(
    conn: Connection,
    station: str,
    epoch: str,
    seq: int,
    type_: str,
    ts: str,
    hub_ts: str,
    data: bytes,
) -> int:
    event_id = next_id(conn, "events")
    conn.execute_later(
        "INSERT INTO events (id, station, epoch, seq, type, ts, hub_ts, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (event_id, station, epoch, seq, type_, ts, hub_ts, data.decode()),
    )
    return event_id


def next_id(conn: Connection, table: str) -> int:
    """The id of the next row of `events`, `movements` or `alerts` in this writing
    transaction: the highest + 1, read once a transaction and counted on from there (the
    transaction holds the one writer lock from its start: nobody else numbers rows
    meanwhile). So an insert need not return its id, and on PostgreSQL it waits for
    nothing, sent with the others (store.writes_held): the `RETURNING id` of an event's
    and a movement's insert were a round trip each, the most of an ingest worker's waits. Gapless as a movement's
    id must be (docs/multi-site.md): a rollback gives the numbers back, a savepoint's too
    (store.savepoint)."""
    ids = written_of(conn, f"a row of {table} is numbered").ids
    if table not in ids:
        ids[table] = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
    ids[table] += 1
    return ids[table]


def event_content(
    conn: Connection, station: str, epoch: str, seq: int
) -> tuple[str, str, str] | None:
    """(type, ts, data) of an applied station event, as `event_insert` stored them."""
    return conn.execute(
        "SELECT type, ts, data FROM events WHERE station = ? AND epoch = ? AND seq = ?",
        (station, epoch, seq),
    ).fetchone()


def event_type(conn: Connection, event_id: int) -> str | None:
    row = conn.execute("SELECT type FROM events WHERE id = ?", (event_id,)).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class Movement:
    id: int
    event_id: int
    type: str
    sku: str
    location: str
    lot: str
    owner: str
    delta: int
    ts: str
    hub_ts: str


# A movement's id is the ledger_seq a central hub applies in order, waiting on any hole:
# gapless, numbered by `next_id` (docs/multi-site.md).
_MOVEMENT_INSERT = (
    "INSERT INTO movements (id, event_id, type, sku, location, lot, owner, delta, ts, hub_ts) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def movement_add(
    conn: Connection,
    event_id: int,
    type_: str,
    sku: str,
    location: str,
    lot: str,
    owner: str,
    delta: int,
    ts: str,
    hub_ts: str,
) -> tuple[Movement, int]:
    """Record one movement and change its balance by `delta`; returns it and the new balance."""
    movement_id = next_id(conn, "movements")
    conn.execute_later(
        _MOVEMENT_INSERT, (movement_id, event_id, type_, sku, location, lot, owner, delta, ts, hub_ts)
    )
    # qty = qty + delta inside the transaction: never read-modify-write. The new balance is
    # counted from the one read at the start (`balances_read_ahead`), not read back.
    key = (sku, location, lot, owner)
    balance = _balance(conn, key) + delta
    conn.execute_later(
        "INSERT INTO balances (sku, location, lot, owner, qty) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (sku, location, lot, owner) DO UPDATE SET qty = balances.qty + excluded.qty",
        (sku, location, lot, owner, delta),
    )
    conn.written.balances[key] = balance
    movement = Movement(
        movement_id, event_id, type_, sku, location, lot, owner, delta, ts, hub_ts
    )
    return movement, balance


def balances_read_ahead(conn: Connection, skus: Iterable[str]) -> None:
    """Read every balance of those of `skus` not read yet in this writing transaction, in
    one statement (store.written): a movement of theirs then reads nothing back."""
    written = written_of(conn, "balances are read ahead")
    new = unread(skus, written.balance_skus)
    if not new:
        return
    rows = conn.execute(
        "SELECT sku, location, lot, owner, qty FROM balances "
        f"WHERE sku IN ({json_values(conn)})",
        (json.dumps(new),),
    ).fetchall()
    for sku, location, lot, owner, qty in rows:
        written.balances[(sku, location, lot, owner)] = qty
    written.balance_skus.update(new)


def _balance(conn: Connection, key: tuple[str, str, str, str]) -> int:
    """The line's balance as it stands in this writing transaction (a SKU not read ahead
    is read now, every line of it)."""
    balances_read_ahead(conn, [key[0]])
    return conn.written.balances.get(key, 0)


def movement_get(conn: Connection, movement_id: int) -> Movement | None:
    row = conn.execute(
        "SELECT id, event_id, type, sku, location, lot, owner, delta, ts, hub_ts "
        "FROM movements WHERE id = ?",
        (movement_id,),
    ).fetchone()
    return Movement(*row) if row else None


def movements_of_event(conn: Connection, event_id: int) -> list[Movement]:
    rows = conn.execute(
        "SELECT id, event_id, type, sku, location, lot, owner, delta, ts, hub_ts "
        "FROM movements WHERE event_id = ? ORDER BY id",
        (event_id,),
    ).fetchall()
    return [Movement(*row) for row in rows]


def movements_of_sku(
    conn: Connection, sku: str, limit: int, before: int | None = None
) -> list[dict]:
    """The sku's movements before movement `before` (or the latest), newest first, with the
    station event's key and operator (the (sku, id) index)."""
    rows = conn.execute(
        "SELECT m.id, m.type, m.location, m.lot, m.owner, m.delta, m.ts, m.hub_ts, e.station, "
        "e.epoch, e.seq, json_extract(e.data, '$.operator') FROM movements m "
        "JOIN events e ON e.id = m.event_id WHERE m.sku = ? AND m.id < ? "
        "ORDER BY m.id DESC LIMIT ?",
        (sku, before if before is not None else 2**63 - 1, limit),
    ).fetchall()
    keys = ("id", "type", "location", "lot", "owner", "delta", "ts", "hub_ts", "station",
            "epoch", "seq", "operator")  # fmt: skip
    return [dict(zip(keys, row, strict=True)) for row in rows]


def movements_latest(conn: Connection, limit: int, before: int | None = None) -> list[dict]:
    """The movements before movement `before` (or the latest), newest first. The page's
    size is written out (conditions.page): planned for `LIMIT ?`, PostgreSQL's generic
    plan is one for a tenth of the ledger, read by parallel workers."""
    rows = conn.execute(
        "SELECT m.id, m.type, m.sku, m.location, m.lot, m.owner, m.delta, m.ts, m.hub_ts, "
        "e.station, e.epoch, e.seq FROM movements m JOIN events e ON e.id = m.event_id "
        f"WHERE m.id < ? ORDER BY m.id DESC {page(limit)}",
        (before if before is not None else 2**63 - 1,),
    ).fetchall()
    keys = ("id", "type", "sku", "location", "lot", "owner", "delta", "ts", "hub_ts",
            "station", "epoch", "seq")  # fmt: skip
    return [dict(zip(keys, row, strict=True)) for row in rows]


def balance_get(
    conn: Connection, sku: str, location: str, lot: str = "", owner: str = ""
) -> int:
    row = conn.execute(
        "SELECT qty FROM balances WHERE sku = ? AND location = ? AND lot = ? AND owner = ?",
        (sku, location, lot, owner),
    ).fetchone()
    return row[0] if row else 0


def on_hand(conn: Connection, sku: str) -> int:
    row = conn.execute("SELECT coalesce(sum(qty), 0) FROM balances WHERE sku = ?", (sku,))
    return row.fetchone()[0]


def on_hand_by_sku(conn: Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT sku, sum(qty) FROM balances GROUP BY sku"))


def stock_lines(conn: Connection, sku: str) -> list[tuple[str, str, str, int]]:
    """(location, lot, owner, qty) of one sku, non-zero lines only."""
    return conn.execute(
        "SELECT location, lot, owner, qty FROM balances WHERE sku = ? AND qty != 0 "
        "ORDER BY location, lot, owner",
        (sku,),
    ).fetchall()


def stock_lines_of(conn: Connection, skus: list[str]) -> dict[str, list[tuple[str, str, str, int]]]:
    """`stock_lines` of each of `skus` (those with none left out), in one statement."""
    found: dict[str, list[tuple[str, str, str, int]]] = {}
    for sku, *line in conn.execute(
        "SELECT sku, location, lot, owner, qty FROM balances "
        f"WHERE sku IN ({json_values(conn)}) AND qty != 0 ORDER BY sku, location, lot, owner",
        (json.dumps(skus),),
    ):
        found.setdefault(sku, []).append(tuple(line))
    return found


def stock_list(
    conn: Connection, sku: str | None = None, limit: int = 100, after: str = ""
) -> list[tuple[str, int]]:
    """(sku, on hand) per sku after `after` in sku order (keyset: a deep page costs what the
    first does, where OFFSET would group and skip every sku before it); or one sku."""
    if sku:
        return conn.execute(
            "SELECT sku, sum(qty) FROM balances WHERE sku = ? GROUP BY sku", (sku,)
        ).fetchall()
    return conn.execute(
        "SELECT sku, sum(qty) FROM balances WHERE sku > ? GROUP BY sku ORDER BY sku LIMIT ?",
        (after, limit),
    ).fetchall()


def reversal_add(conn: Connection, event_id: int, reversal_event: int, reason: str):
    conn.execute("INSERT INTO reversals VALUES (?, ?, ?)", (event_id, reversal_event, reason))


def reversal_of(conn: Connection, event_id: int) -> int | None:
    query = "SELECT reversal_event FROM reversals WHERE event_id = ?"
    row = conn.execute(query, (event_id,)).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class LedgerMismatch:
    sku: str
    location: str
    lot: str
    owner: str
    balance: int
    movements: int


def check_ledger(conn: Connection) -> list[LedgerMismatch]:
    """Every balance equals the sum of its movements (and no movement lacks a balance)."""
    rows = conn.execute(
        "SELECT sku, location, lot, owner, sum(b), sum(m) FROM ("
        "  SELECT sku, location, lot, owner, qty AS b, 0 AS m FROM balances"
        "  UNION ALL"
        "  SELECT sku, location, lot, owner, 0, sum(delta) FROM movements"
        "  GROUP BY sku, location, lot, owner"
        ") x GROUP BY sku, location, lot, owner HAVING sum(b) != sum(m)"
    ).fetchall()
    return [LedgerMismatch(*row) for row in rows]


def duplicate_events(conn: Connection) -> int:
    """Events stored twice under one (station, epoch, seq): the schema forbids it; 0 expected."""
    return conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM events GROUP BY station, epoch, seq HAVING count(*) > 1) x"
    ).fetchone()[0]


def event_max_seqs(conn: Connection) -> list[tuple[str, str, int, int]]:
    """(station, epoch, count, max seq) of the applied events."""
    return conn.execute(
        "SELECT station, epoch, count(*), max(seq) FROM events GROUP BY station, epoch"
    ).fetchall()


def event_gaps(conn: Connection) -> list[tuple[str, str, int, int]]:
    """(station, epoch, count, max seq) where the applied seqs are not exactly 1..max."""
    return conn.execute(
        "SELECT station, epoch, count(*), max(seq) FROM events GROUP BY station, epoch "
        "HAVING count(*) != max(seq) OR min(seq) != 1"
    ).fetchall()


def ledger_position(conn: Connection) -> int:
    """The highest ledger_seq (movement id) so far; 0 for an empty ledger. In a writing
    transaction, what `next_id` counts from: read once there for both."""
    ids = None if conn.written is None else conn.written.ids
    if ids is not None and "movements" in ids:
        return ids["movements"]
    position = conn.execute("SELECT coalesce(max(id), 0) FROM movements").fetchone()[0]
    if ids is not None:
        ids["movements"] = position
    return position


def movement_hub_ts_before(conn: Connection, ledger_seq: int) -> str | None:
    """The hub's time of the newest movement below `ledger_seq` (None: there is none)."""
    row = conn.execute(
        "SELECT hub_ts FROM movements WHERE id < ? ORDER BY id DESC LIMIT 1", (ledger_seq,)
    ).fetchone()
    return row[0] if row else None


def ledger_holes(conn: Connection) -> int:
    """How many ledger_seqs below the highest no movement has (0: exactly 1..n). Only a
    PostgreSQL ledger numbered by an older hub has any: a centre waits on each."""
    return conn.execute("SELECT coalesce(max(id), 0) - count(*) FROM movements").fetchone()[0]


@dataclass(frozen=True)
class MovementRecord:
    """A movement with its station event's key and its value: what `movements` carries."""

    id: int
    station: str
    epoch: str
    seq: int
    type: str
    sku: str
    location: str
    lot: str
    owner: str
    delta: int
    ts: str
    hub_ts: str
    value: int | None  # None: no FIFO value (someone else's stock)
    transfer: str | None = None  # a receipt of a transfer between sites: the transfer


def movement_records(
    conn: Connection, first: int, last: int, limit: int
) -> list[MovementRecord]:
    """Movements `first`..`last` in ledger order, at most `limit`."""
    rows = conn.execute(
        "SELECT m.id, e.station, e.epoch, e.seq, m.type, m.sku, m.location, m.lot, m.owner, "
        "m.delta, m.ts, m.hub_ts, v.value, t.transfer FROM movements m "
        "JOIN events e ON e.id = m.event_id LEFT JOIN movement_values v ON v.movement_id = m.id "
        "LEFT JOIN transfer_movements t ON t.movement_id = m.id "
        "WHERE m.id >= ? AND m.id <= ? ORDER BY m.id LIMIT ?",
        (first, last, limit),
    ).fetchall()
    return [MovementRecord(*row) for row in rows]

