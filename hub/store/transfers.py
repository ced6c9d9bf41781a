"""Transfers between sites: the centre's record of each (and a site's copy of the ones it
sends or receives), and at the receiving site the sender's cost layers still in transit.

Plain SQL that SQLite and PostgreSQL both accept (ON CONFLICT, RETURNING, CASE).
"""

from dataclasses import dataclass

from hub.store.connection import Connection


@dataclass(frozen=True)
class TransferRow:
    transfer: str
    from_site: str
    to_site: str
    status: str
    created: str
    shipped: str | None
    received: str | None
    booked_out: bool
    payload: str


@dataclass(frozen=True)
class TransitLayer:
    sku: str
    n: int
    lot: str
    qty_left: int
    unit_cost: int
    received: str


_COLUMNS = "transfer, from_site, to_site, status, created, shipped, received, booked_out, payload"


def transfer_put(
    conn: Connection, transfer: str, from_site: str, to_site: str, status: str,
    payload: str, now: str,
) -> None:  # fmt: skip
    """Create the transfer, or record its new state (stamping when it shipped and was
    received the first time this hub learns it)."""
    conn.execute(
        "INSERT INTO transfers (transfer, from_site, to_site, status, created, payload) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (transfer) DO UPDATE SET "
        "status = excluded.status, payload = excluded.payload",
        (transfer, from_site, to_site, status, now, payload),
    )
    conn.execute(
        "UPDATE transfers SET "
        "shipped = CASE WHEN transfers.shipped IS NULL AND ? IN ('in_transit', 'received') "
        "THEN ? ELSE transfers.shipped END, "
        "received = CASE WHEN transfers.received IS NULL AND ? = 'received' "
        "THEN ? ELSE transfers.received END WHERE transfer = ?",
        (status, now, status, now, transfer),
    )


def transfer_get(conn: Connection, transfer: str) -> TransferRow | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM transfers WHERE transfer = ?",
                       (transfer,)).fetchone()  # fmt: skip
    return _row(row) if row else None


def transfer_list(conn: Connection, status: str | None, limit: int) -> list[TransferRow]:
    # A condition added, not `? IS NULL OR ...`: PostgreSQL cannot type a NULL parameter.
    where, params = ("WHERE status = ? ", [status]) if status is not None else ("", [])
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM transfers {where}ORDER BY created DESC, transfer LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [_row(r) for r in rows]


def transfers_unfinished(conn: Connection, limit: int) -> list[TransferRow]:
    """Transfers not yet received (to pack, or in transit), oldest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM transfers WHERE status IN ('open', 'in_transit') "
        "ORDER BY created, transfer LIMIT ?",
        (limit,),
    ).fetchall()
    return [_row(r) for r in rows]


def transfer_booked_out(conn: Connection, transfer: str) -> bool:
    """Mark the sender's transit booked out; False if it was already (apply once)."""
    row = conn.execute(
        "UPDATE transfers SET booked_out = 1 WHERE transfer = ? AND booked_out = 0 "
        "RETURNING transfer",
        (transfer,),
    ).fetchone()
    return row is not None


def _row(row: tuple) -> TransferRow:
    return TransferRow(*row[:7], bool(row[7]), row[8])


def transit_layers_put(
    conn: Connection, transfer: str, layers: list[tuple[str, str, int, int, str]]
) -> None:
    """(sku, lot, qty, unit_cost, received) oldest first per sku, once per transfer."""
    counts: dict[str, int] = {}
    rows = []
    for sku, lot, qty, cost, received in layers:
        counts[sku] = counts.get(sku, 0) + 1
        rows.append((transfer, sku, counts[sku], lot, qty, cost, received))
    conn.executemany(
        "INSERT INTO transfer_layers (transfer, sku, n, lot, qty_left, unit_cost, received) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (transfer, sku, n) DO NOTHING",
        rows,
    )


def transit_layers(conn: Connection, transfer: str, sku: str) -> list[TransitLayer]:
    rows = conn.execute(
        "SELECT sku, n, lot, qty_left, unit_cost, received FROM transfer_layers "
        "WHERE transfer = ? AND sku = ? AND qty_left > 0 ORDER BY n",
        (transfer, sku),
    ).fetchall()
    return [TransitLayer(*r) for r in rows]


def transit_layer_take(conn: Connection, transfer: str, sku: str, n: int, qty: int):
    conn.execute(
        "UPDATE transfer_layers SET qty_left = qty_left - ? WHERE transfer = ? AND sku = ? "
        "AND n = ?",
        (qty, transfer, sku, n),
    )


def transfer_receipts_put(conn: Connection, transfer: str, ledger_seqs: list[int]) -> None:
    """The receiving site's movements that booked `transfer` in (once each)."""
    conn.executemany(
        "INSERT INTO transfer_receipts (transfer, ledger_seq) VALUES (?, ?) "
        "ON CONFLICT (transfer, ledger_seq) DO NOTHING",
        [(transfer, seq) for seq in ledger_seqs],
    )


def transfer_receipts(conn: Connection, transfer: str) -> list[int]:
    rows = conn.execute(
        "SELECT ledger_seq FROM transfer_receipts WHERE transfer = ? ORDER BY ledger_seq",
        (transfer,),
    ).fetchall()
    return [seq for (seq,) in rows]


def transfer_movements_put(conn: Connection, transfer: str, movement_ids: list[int]) -> None:
    """At the receiving site: these movements booked `transfer` in (named on `movements`)."""
    conn.executemany(
        "INSERT INTO transfer_movements (movement_id, transfer) VALUES (?, ?) "
        "ON CONFLICT (movement_id) DO NOTHING",
        [(movement_id, transfer) for movement_id in movement_ids],
    )


def transfers_unsettled(conn: Connection, limit: int) -> list[TransferRow]:
    """At the centre: the transfers whose units its replay of the two sites may count at
    both or at neither: shipped, and not yet marked settled (`transfer_settle`)."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM transfers WHERE settled = 0 "
        "AND status IN ('in_transit', 'received') ORDER BY transfer LIMIT ?",
        (limit,),
    ).fetchall()
    return [_row(r) for r in rows]


def transfers_to_settle(conn: Connection, sites: list[str]) -> list[str]:
    """At the centre: the received transfers not yet settled whose replay `sites` changed
    (as sender or receiver) and that are settled now: every receipt the receiver's report
    or movements named is applied here, and the sender's transit here is empty."""
    if not sites:
        return []
    marks = ", ".join("?" * len(sites))
    rows = conn.execute(
        "SELECT t.transfer FROM transfers t JOIN site_links l ON l.site = t.to_site "
        f"WHERE t.settled = 0 AND t.status = 'received' AND (t.from_site IN ({marks}) "
        f"OR t.to_site IN ({marks})) AND NOT EXISTS (SELECT 1 FROM transfer_receipts r "
        "WHERE r.transfer = t.transfer AND r.ledger_seq > l.applied) AND NOT EXISTS (SELECT 1 "
        "FROM site_balances b WHERE b.site = t.from_site AND b.location = 'transit-' || "
        "t.transfer AND (b.qty != 0 OR b.value != 0)) ORDER BY t.transfer",
        (*sites, *sites),
    ).fetchall()
    return [transfer for (transfer,) in rows]


def transfer_settle(conn: Connection, transfers: list[str]) -> None:
    """Mark them settled: the company counts their units where the sites' books put them."""
    conn.executemany("UPDATE transfers SET settled = 1 WHERE transfer = ?",
                     [(transfer,) for transfer in transfers])  # fmt: skip


def transfer_receipts_applied(conn: Connection, transfer: str,
                              site: str) -> list[tuple[str, int, int]]:  # fmt: skip
    """(sku, units, value) of the receiving `site`'s movements of `transfer` the centre has
    applied."""
    return conn.execute(
        "SELECT m.sku, sum(m.delta), sum(m.value) FROM transfer_receipts r JOIN "
        "site_movements m ON m.site = ? AND m.ledger_seq = r.ledger_seq "
        "WHERE r.transfer = ? GROUP BY m.sku",
        (site, transfer),
    ).fetchall()


def site_location_stock(conn: Connection, site: str, location: str) -> list[tuple[str, int, int]]:
    """(sku, qty, value) at one location of a site, as the centre replayed it."""
    return conn.execute(
        "SELECT sku, sum(qty), sum(value) FROM site_balances WHERE site = ? AND location = ? "
        "GROUP BY sku",
        (site, location),
    ).fetchall()
