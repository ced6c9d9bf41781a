"""Consignment settlement: what is owed to each owner for units sold, and the settlements
recorded against it."""

from hub.store.conditions import Where
from hub.store.connection import Connection


def consignment_owed_between(
    conn: Connection, since: str, until: str
) -> list[tuple[str, str, int, int]]:
    """(owner, sku, units, owed micros) of consignment sales on days [since, until]."""
    return conn.execute(
        "SELECT owner, sku, sum(qty), sum(qty * unit_cost) FROM consignment_owed "
        "WHERE day BETWEEN ? AND ? GROUP BY owner, sku ORDER BY owner, sku",
        (since, until),
    ).fetchall()


def settlement_last(conn: Connection, owner: str) -> tuple[int, str] | None:
    """(through_id, until_day) of the owner's last settlement."""
    return conn.execute(
        "SELECT through_id, until_day FROM consignment_settlements WHERE owner = ? "
        "ORDER BY id DESC LIMIT 1",
        (owner,),
    ).fetchone()


def owed_unsettled(
    conn: Connection, owner: str, after_id: int, until: str
) -> list[tuple[str, int, int, int]]:
    """(sku, units, owed micros, last owed id) of the owner's sales after owed row
    `after_id` on days up to `until`."""
    return conn.execute(
        "SELECT sku, sum(qty), sum(qty * unit_cost), max(id) FROM consignment_owed "
        "WHERE owner = ? AND id > ? AND day <= ? GROUP BY sku ORDER BY sku",
        (owner, after_id, until),
    ).fetchall()


def settlement_add(
    conn: Connection, owner: str, through_id: int, until: str, units: int,
    amount: int, now: str, by: str, note: str,
) -> int:  # fmt: skip
    cur = conn.execute(
        "INSERT INTO consignment_settlements (owner, through_id, until_day, units, amount, "
        "recorded, by, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (owner, through_id, until, units, amount, now, by, note),
    )
    return cur.fetchone()[0]


def settlements(conn: Connection, owner: str | None, limit: int) -> list[dict]:
    where = Where().equal("owner", owner)
    rows = conn.execute(
        "SELECT id, owner, through_id, until_day, units, amount, recorded, by, note "
        f"FROM consignment_settlements {where.sql} ORDER BY id DESC LIMIT ?",
        (*where.params, limit),
    ).fetchall()
    keys = ("id", "owner", "through_id", "until", "units", "amount", "recorded", "by", "note")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def consignment_owners(conn: Connection) -> list[str]:
    return [row[0] for row in conn.execute(
        "SELECT DISTINCT owner FROM consignment_owed ORDER BY owner")]  # fmt: skip
