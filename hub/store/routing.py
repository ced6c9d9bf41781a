"""Orders routed by a central hub to its sites: at a site, which of its orders came from
the centre; at the centre, each routed order and where it stands (docs/multi-site.md).

Plain SQL that SQLite and PostgreSQL both accept (ON CONFLICT, qualified upsert columns).
"""

from dataclasses import dataclass

from hub.store.conditions import Where
from hub.store.connection import Connection


def from_centre_add(conn: Connection, order_id: str, now: str) -> None:
    conn.execute(
        "INSERT INTO from_centre (order_id, received) VALUES (?, ?) "
        "ON CONFLICT (order_id) DO NOTHING",
        (order_id, now),
    )


def from_centre_has(conn: Connection, order_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM from_centre WHERE order_id = ?", (order_id,)).fetchone()
    return row is not None


def from_centre_changed(conn: Connection, since: str | None, until: str | None,
                        limit: int) -> list[tuple[str, str]]:  # fmt: skip
    """(order, status) of the orders the centre routed here whose status changed between
    `since` and `until` (ISO times, None: no bound), oldest change first, at most `limit`:
    what a site republishes when the centre asks it to resend (hub.site_restate)."""
    where = Where().between("o.updated", since, until)
    rows = conn.execute(
        "SELECT o.order_id, o.status FROM orders o JOIN from_centre f ON f.order_id = o.order_id "
        f"{where.sql} ORDER BY o.updated, o.order_id LIMIT ?",
        (*where.params, limit),
    ).fetchall()
    return [(order_id, status) for order_id, status in rows]


@dataclass(frozen=True)
class CentralOrder:
    order_id: str
    payload: str
    site: str
    state: str
    reason: str | None
    next_site: str | None
    created: str
    updated: str


_COLUMNS = "order_id, payload, site, state, reason, next_site, created, updated"


def central_order_put(conn: Connection, order: CentralOrder) -> None:
    """Create or replace the centre's record of a routed order."""
    o = order
    conn.execute(
        f"INSERT INTO central_orders ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (order_id) DO UPDATE SET payload = excluded.payload, "
        "site = excluded.site, state = excluded.state, reason = excluded.reason, "
        "next_site = excluded.next_site, updated = excluded.updated",
        (o.order_id, o.payload, o.site, o.state, o.reason, o.next_site, o.created, o.updated),
    )


def central_order_get(conn: Connection, order_id: str) -> CentralOrder | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM central_orders WHERE order_id = ?", (order_id,)
    ).fetchone()
    return CentralOrder(*row) if row else None


def central_orders_list(
    conn: Connection, site: str | None, state: str | None, limit: int, offset: int
) -> list[CentralOrder]:
    """Newest first; `site` and `state` narrow it."""
    where, params = ["1 = 1"], []
    for column, value in (("site", site), ("state", state)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM central_orders WHERE {' AND '.join(where)} "
        "ORDER BY created DESC, order_id LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    return [CentralOrder(*row) for row in rows]


def central_orders_in(conn: Connection, states: tuple[str, ...]) -> list[CentralOrder]:
    """The orders in one of `states` (those that still take stock at their site)."""
    marks = ", ".join("?" for _ in states)
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM central_orders WHERE state IN ({marks})", states
    ).fetchall()
    return [CentralOrder(*row) for row in rows]


def site_on_hand(conn: Connection, skus: list[str]) -> list[tuple[str, str, int]]:
    """(site, sku, on hand) of `skus` at every site, from the sites' replayed balances."""
    if not skus:
        return []
    marks = ", ".join("?" for _ in skus)
    return conn.execute(
        f"SELECT site, sku, sum(qty) FROM site_balances WHERE sku IN ({marks}) "
        "GROUP BY site, sku",
        skus,
    ).fetchall()


def site_committed_set(conn: Connection, site: str, sku: str, committed: int,
                       quarantined: int, ledger_seq: int) -> None:  # fmt: skip
    """A site's stock message said what its open orders hold of `sku` and how much of it
    is in held locations (a snapshot at `ledger_seq`: one of an earlier position changes
    nothing)."""
    conn.execute(
        "INSERT INTO site_committed (site, sku, committed, quarantined, ledger_seq) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, sku) DO UPDATE SET "
        "committed = excluded.committed, quarantined = excluded.quarantined, "
        "ledger_seq = excluded.ledger_seq WHERE excluded.ledger_seq >= site_committed.ledger_seq",
        (site, sku, committed, quarantined, ledger_seq),
    )


def site_not_available(conn: Connection) -> list[tuple[str, str, int, int]]:
    """(site, sku, committed, quarantined) of every SKU a site's stock messages told of."""
    return conn.execute(
        "SELECT site, sku, committed, quarantined FROM site_committed ORDER BY site, sku"
    ).fetchall()


def site_committed(conn: Connection, skus: list[str]) -> list[tuple[str, str, int, int]]:
    """(site, sku, committed, quarantined) of `skus` at every site, as their stock messages
    last said."""
    if not skus:
        return []
    marks = ", ".join("?" for _ in skus)
    return conn.execute(
        f"SELECT site, sku, committed, quarantined FROM site_committed WHERE sku IN ({marks})",
        skus,
    ).fetchall()
