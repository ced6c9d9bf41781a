"""FIFO cost layers: what each unit in stock cost, the flows that took units out of layers,
and consigned stock owed to its owners."""

import json
from collections.abc import Iterable
from dataclasses import dataclass

from hub.store.connection import Connection, json_values, written_of
from hub.store.written import unread


@dataclass(frozen=True)
class Layer:
    id: int
    received: str
    qty_left: int
    unit_cost: int
    kind: str
    movement_id: int


def layers_open(
    conn: Connection, sku: str, location: str, lot: str, prefer_movement: int = 0
) -> list[Layer]:
    """Open layers (deficits included), the preferred movement's first, then oldest first."""
    rows = conn.execute(
        "SELECT id, received, qty_left, unit_cost, kind, movement_id FROM cost_layers "
        "WHERE sku = ? AND location = ? AND lot = ? AND qty_left != 0 "
        "ORDER BY movement_id != ?, received, id",
        (sku, location, lot, prefer_movement),
    ).fetchall()
    return [Layer(*row) for row in rows]


def layers_deficit(conn: Connection, sku: str, location: str, lot: str) -> list[Layer]:
    """The line's deficits (units issued before a layer covered them), oldest first: what a
    receipt settles. Read through their own small index: reading every open layer, as
    `layers_open` does, grew with each receipt into a line that has not sold out yet. In a
    writing transaction, only for a line that owes units (store.written: a receipt into
    one that owes nothing, the usual case, then waits for nothing on PostgreSQL)."""
    written = conn.written
    if written is not None:
        deficit_lines_read_ahead(conn, [sku])
        if (sku, location, lot) not in written.owing:
            return []
    rows = conn.execute(
        "SELECT id, received, qty_left, unit_cost, kind, movement_id FROM cost_layers "
        "WHERE sku = ? AND location = ? AND lot = ? AND qty_left < 0 ORDER BY received, id",
        (sku, location, lot),
    ).fetchall()
    return [Layer(*row) for row in rows]


_LAYER_INSERT = (
    "INSERT INTO cost_layers (sku, location, lot, movement_id, received, qty_in, qty_left, "
    "unit_cost, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def deficit_lines_read_ahead(conn: Connection, skus: Iterable[str]) -> None:
    """Read which lines of those of `skus` not read yet in this writing transaction owe
    units, in one statement, through the deficits' own small index (store.written)."""
    written = written_of(conn, "deficits are read ahead")
    new = unread(skus, written.owing_skus)
    if not new:
        return
    rows = conn.execute(
        "SELECT DISTINCT sku, location, lot FROM cost_layers "
        f"WHERE sku IN ({json_values(conn)}) AND qty_left < 0",
        (json.dumps(new),),
    ).fetchall()
    written.owing.update((sku, location, lot) for sku, location, lot in rows)
    written.owing_skus.update(new)


def layer_add(
    conn: Connection, sku: str, location: str, lot: str, movement_id: int,
    received: str, qty: int, unit_cost: int, kind: str,
) -> None:  # fmt: skip
    """A layer of `qty` received units. Its id is not asked for: on PostgreSQL the insert
    then waits for nothing, sent with the others (store.writes_held), where a receipt
    makes one every time."""
    conn.execute_later(_LAYER_INSERT, (sku, location, lot, movement_id, received, qty, qty,
                                       unit_cost, kind))  # fmt: skip
    if conn.written is not None:
        conn.written.last_costs[sku] = unit_cost


def deficit_add(
    conn: Connection, sku: str, location: str, lot: str, movement_id: int,
    received: str, qty: int, unit_cost: int, kind: str,
) -> int:  # fmt: skip
    """A deficit layer of `qty` units issued beyond the line's layers; its id, which the
    issue's flow names."""
    if conn.written is not None:
        conn.written.owing.add((sku, location, lot))
    cur = conn.execute(_LAYER_INSERT + " RETURNING id",
                       (sku, location, lot, movement_id, received, 0, -qty, unit_cost,
                        kind))  # fmt: skip
    return cur.fetchone()[0]


def layer_take(conn: Connection, layer_id: int, qty: int) -> None:
    """qty_left - qty (a deficit is settled with a negative qty)."""
    conn.execute("UPDATE cost_layers SET qty_left = qty_left - ? WHERE id = ?", (qty, layer_id))


def layers_of_sku(conn: Connection, sku: str, limit: int) -> list[tuple]:
    """(location, lot, received, lot expiry, qty left, unit cost) of a sku's open layers,
    by location, lot and FIFO order (the cost_layers_open index)."""
    return conn.execute(
        "SELECT c.location, c.lot, c.received, l.expiry, c.qty_left, c.unit_cost "
        "FROM cost_layers c LEFT JOIN lots l ON l.sku = c.sku AND l.lot = c.lot "
        "WHERE c.sku = ? AND c.qty_left != 0 ORDER BY c.location, c.lot, c.received, c.id "
        "LIMIT ?",
        (sku, limit),
    ).fetchall()


def last_layer_cost(conn: Connection, sku: str) -> int | None:
    """The unit cost of the SKU's last received layer (None: it has none), read once a
    writing transaction (store.written: `layer_add` keeps it)."""
    written = conn.written
    if written is not None and sku in written.last_costs:
        return written.last_costs[sku]
    row = conn.execute(
        "SELECT unit_cost FROM cost_layers WHERE sku = ? AND qty_in > 0 ORDER BY id DESC LIMIT 1",
        (sku,),
    ).fetchone()
    cost = row[0] if row else None
    if written is not None:
        written.last_costs[sku] = cost
    return cost


def last_costs_read_ahead(conn: Connection, skus: Iterable[str]) -> None:
    """Read `last_layer_cost` of those of `skus` not read yet in this writing transaction,
    in one statement (store.written): a receipt with no cost of its own, or an issue, of
    theirs then waits for nothing."""
    written = written_of(conn, "last layer costs are read ahead")
    new = unread(skus, written.last_costs)
    if not new:
        return
    rows = conn.execute(
        f"WITH wanted(sku) AS ({json_values(conn)}) SELECT sku, (SELECT unit_cost FROM "
        "cost_layers c WHERE c.sku = wanted.sku AND qty_in > 0 ORDER BY id DESC LIMIT 1) "
        "FROM wanted",
        (json.dumps(new),),
    ).fetchall()
    written.last_costs.update(dict(rows))


def flow_add(
    conn: Connection, movement_id: int, sku: str, kind: str, layer_id: int | None,
    qty: int, unit_cost: int, value: int, day: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO cost_flows (movement_id, sku, kind, layer_id, qty, unit_cost, value, day) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (movement_id, sku, kind, layer_id, qty, unit_cost, value, day),
    )


def flows_of(conn: Connection, movement_id: int) -> list[tuple[str, int, int, str]]:
    """(kind, qty, unit cost, layer received) of the units a movement took out of layers."""
    return conn.execute(
        "SELECT f.kind, f.qty, f.unit_cost, coalesce(l.received, '') FROM cost_flows f "
        "LEFT JOIN cost_layers l ON l.id = f.layer_id WHERE f.movement_id = ? AND f.qty != 0 "
        "ORDER BY f.id",
        (movement_id,),
    ).fetchall()


def layer_value(conn: Connection, sku: str, location: str, lot: str) -> tuple[int, int]:
    """(qty, value micros) of the open layers of one balance line."""
    return conn.execute(
        "SELECT coalesce(sum(qty_left), 0), coalesce(sum(qty_left * unit_cost), 0) "
        "FROM cost_layers WHERE sku = ? AND location = ? AND lot = ? AND qty_left != 0",
        (sku, location, lot),
    ).fetchone()


def check_layers(conn: Connection) -> list[tuple[str, str, str, int, int]]:
    """(sku, location, lot, own balance, layer qty) where the two disagree: [] expected."""
    return conn.execute(
        "SELECT sku, location, lot, sum(b), sum(l) FROM ("
        "  SELECT sku, location, lot, qty AS b, 0 AS l FROM balances WHERE owner = ''"
        "  UNION ALL"
        "  SELECT sku, location, lot, 0, qty_left FROM cost_layers WHERE qty_left != 0"
        ") x GROUP BY sku, location, lot HAVING sum(b) != sum(l)"
    ).fetchall()


def consignment_owed_add(
    conn: Connection, movement_id: int, owner: str, sku: str, qty: int,
    unit_cost: int, day: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO consignment_owed (movement_id, owner, sku, qty, unit_cost, day) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (movement_id, owner, sku, qty, unit_cost, day),
    )


def consignment_owed_of(conn: Connection, movement_id: int) -> list[tuple[int, int]]:
    return conn.execute(
        "SELECT qty, unit_cost FROM consignment_owed WHERE movement_id = ?", (movement_id,)
    ).fetchall()


def consignment_price_set(conn: Connection, sku: str, owner: str, cost: int) -> None:
    conn.execute(
        "INSERT INTO consignment_prices VALUES (?, ?, ?) ON CONFLICT (sku, owner) "
        "DO UPDATE SET unit_cost = excluded.unit_cost",
        (sku, owner, cost),
    )


def consignment_price(conn: Connection, sku: str, owner: str) -> int | None:
    row = conn.execute(
        "SELECT unit_cost FROM consignment_prices WHERE sku = ? AND owner = ?", (sku, owner)
    ).fetchone()
    return row[0] if row else None


def consignment_totals(conn: Connection, since: str, until: str) -> list[tuple[str, int, int]]:
    """(owner, units sold, owed micros) over days [since, until]."""
    return conn.execute(
        "SELECT owner, sum(qty), sum(qty * unit_cost) FROM consignment_owed "
        "WHERE day BETWEEN ? AND ? GROUP BY owner ORDER BY owner",
        (since, until),
    ).fetchall()
