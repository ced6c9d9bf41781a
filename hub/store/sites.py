"""A central hub's view of its sites: their movements applied once by (site, ledger_seq),
the movements held behind a gap, each site's stock, and the state of each site's link.

Plain SQL that SQLite and PostgreSQL both accept (ON CONFLICT, CASE, no two-argument
max/min), as the PostgreSQL backend of branch pgstore needs.
"""

from dataclasses import dataclass

from hub.store.connection import Connection


@dataclass(frozen=True)
class SiteLink:
    site: str
    applied: int  # every movement of the site up to it is applied
    known: int  # the highest ledger_seq the centre has seen (a movement or a stock message)
    link: str  # up / down / unknown
    link_changed: str | None
    hub_state: str
    last_applied: str | None
    behind_since: str | None


@dataclass(frozen=True)
class SiteMovement:
    """One movement of a site, as its message carries it."""

    site: str
    ledger_seq: int
    type: str
    sku: str
    location: str
    lot: str
    owner: str
    delta: int
    value: int
    ts: str  # the site hub's clock when its ledger took the movement


_LINK = "site, applied, known, link, link_changed, hub_state, last_applied, behind_since"


def site_link_ensure(conn: Connection, site: str) -> None:
    conn.execute("INSERT INTO site_links (site) VALUES (?) ON CONFLICT (site) DO NOTHING", (site,))


def site_link_get(conn: Connection, site: str) -> SiteLink | None:
    row = conn.execute(f"SELECT {_LINK} FROM site_links WHERE site = ?", (site,)).fetchone()
    return SiteLink(*row) if row else None


def site_links(conn: Connection) -> list[SiteLink]:
    rows = conn.execute(f"SELECT {_LINK} FROM site_links ORDER BY site").fetchall()
    return [SiteLink(*row) for row in rows]


def site_known_raise(conn: Connection, site: str, seq: int, now: str) -> None:
    """The site has at least `seq` movements: raise `known`, and note since when the
    centre is behind."""
    conn.execute(
        "UPDATE site_links SET known = CASE WHEN known < ? THEN ? ELSE known END WHERE site = ?",
        (seq, seq, site),
    )
    _behind(conn, site, now)


def site_applied_set(conn: Connection, site: str, applied: int, now: str) -> None:
    conn.execute(
        "UPDATE site_links SET applied = ?, last_applied = ?, "
        "known = CASE WHEN known < ? THEN ? ELSE known END WHERE site = ?",
        (applied, now, applied, applied, site),
    )
    _behind(conn, site, now)


def _behind(conn: Connection, site: str, now: str) -> None:
    conn.execute(
        "UPDATE site_links SET behind_since = CASE WHEN known > applied "
        "THEN COALESCE(behind_since, ?) ELSE NULL END WHERE site = ?",
        (now, site),
    )


def site_link_set(conn: Connection, site: str, link: str, now: str) -> None:
    conn.execute(
        "UPDATE site_links SET link = ?, link_changed = ? WHERE site = ?", (link, now, site)
    )


def site_hub_state_set(conn: Connection, site: str, state: str) -> None:
    conn.execute("UPDATE site_links SET hub_state = ? WHERE site = ?", (state, site))


def site_movement_add(conn: Connection, movement: SiteMovement, payload: str, now: str) -> None:
    """Record one movement and change the site's balance and value by it (qty = qty + delta
    in the transaction). The UNIQUE (site, ledger_seq) refuses a second one."""
    m = movement
    conn.execute(
        "INSERT INTO site_movements (site, ledger_seq, type, sku, location, lot, owner, delta, "
        "value, payload, applied, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (m.site, m.ledger_seq, m.type, m.sku, m.location, m.lot, m.owner, m.delta, m.value,
         payload, now, m.ts),
    )  # fmt: skip
    conn.execute(
        "INSERT INTO site_balances VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (site, sku, location, lot, owner) DO UPDATE SET "
        "qty = site_balances.qty + excluded.qty, value = site_balances.value + excluded.value",
        (m.site, m.sku, m.location, m.lot, m.owner, m.delta, m.value),
    )


def site_movement_payload(conn: Connection, site: str, seq: int) -> str | None:
    row = conn.execute(
        "SELECT payload FROM site_movements WHERE site = ? AND ledger_seq = ?", (site, seq)
    ).fetchone()
    return row[0] if row else None


def site_pending_put(conn: Connection, site: str, seq: int, payload: str, now: str) -> None:
    conn.execute(
        "INSERT INTO site_pending VALUES (?, ?, ?, ?) ON CONFLICT (site, ledger_seq) DO NOTHING",
        (site, seq, payload, now),
    )


def site_pending_get(conn: Connection, site: str, seq: int) -> str | None:
    row = conn.execute(
        "SELECT payload FROM site_pending WHERE site = ? AND ledger_seq = ?", (site, seq)
    ).fetchone()
    return row[0] if row else None


def site_pending_take(conn: Connection, site: str, seq: int) -> str | None:
    row = conn.execute(
        "DELETE FROM site_pending WHERE site = ? AND ledger_seq = ? RETURNING payload",
        (site, seq),
    ).fetchone()
    return row[0] if row else None


def site_pending_drop_applied(conn: Connection, site: str, applied: int) -> None:
    conn.execute("DELETE FROM site_pending WHERE site = ? AND ledger_seq <= ?", (site, applied))


def site_pending_count(conn: Connection, site: str) -> int:
    return conn.execute("SELECT count(*) FROM site_pending WHERE site = ?", (site,)).fetchone()[0]


def site_feed_set(
    conn: Connection, site: str, key: str, state: str, payload: str, now: str
) -> None:
    conn.execute(
        "INSERT INTO site_feeds VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, key) DO UPDATE SET "
        "state = excluded.state, payload = excluded.payload, received = excluded.received",
        (site, key, state, payload, now),
    )


def site_alert_set(
    conn: Connection, site: str, alert_id: int, state: str, payload: str, now: str
) -> None:
    """A site's alert as its last message said, by id; a cleared alert stays cleared (a
    `raised` that comes after it is older: a site never raises an alert id again)."""
    conn.execute(
        "INSERT INTO site_feeds VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, key) DO UPDATE SET "
        "state = excluded.state, payload = excluded.payload, received = excluded.received "
        "WHERE site_feeds.state <> 'cleared' OR excluded.state = 'cleared'",
        (site, f"alert/{alert_id}", state, payload, now),
    )


def site_feed_counts(conn: Connection, site: str) -> dict[str, int]:
    """How many of the site's stations are online and how many of its alerts are open."""
    rows = conn.execute(
        "SELECT CASE WHEN key LIKE 'station/%' THEN 'station' ELSE 'alert' END AS kind, "
        "state, count(*) FROM site_feeds WHERE site = ? GROUP BY kind, state",
        (site,),
    ).fetchall()
    found = {(kind, state): n for kind, state, n in rows}
    return {"stations_online": found.get(("station", "online"), 0),
            "alerts_open": found.get(("alert", "raised"), 0)}  # fmt: skip


def site_stock(
    conn: Connection, site: str | None, sku: str | None, limit: int, after: str
) -> list[tuple[str, str, int, int]]:
    """(site, sku, qty, value) per site and SKU with a balance line, in (sku, site) order:
    `site` and `sku` narrow it; `limit` SKUs after SKU `after`."""
    # Conditions are added, not `? IS NULL OR ...`: PostgreSQL cannot type a NULL parameter.
    where, params = ["sku > ?"], [after]
    if site is not None:
        where.append("site = ?")
        params.append(site)
    if sku is not None:
        where.append("sku = ?")
        params.append(sku)
    condition = " AND ".join(where)
    skus = conn.execute(
        f"SELECT DISTINCT sku FROM site_balances WHERE {condition} ORDER BY sku LIMIT ?",
        (*params, limit),
    ).fetchall()
    if not skus:
        return []
    return conn.execute(
        f"SELECT site, sku, sum(qty), sum(value) FROM site_balances WHERE {condition} "
        "AND sku <= ? GROUP BY site, sku ORDER BY sku, site",
        (*params, skus[-1][0]),
    ).fetchall()


def site_lines(conn: Connection, site: str) -> list[tuple[str, str, str, str, int, int]]:
    """(sku, location, lot, owner, qty, value) of every balance line of the site."""
    return conn.execute(
        "SELECT sku, location, lot, owner, qty, value FROM site_balances WHERE site = ? "
        "ORDER BY sku, location, lot, owner",
        (site,),
    ).fetchall()


def check_sites(conn: Connection) -> list[dict]:
    """What breaks a central hub's invariants: a site's balance line that is not the sum
    of its applied movements (qty or value), or a site whose applied movements are not
    exactly 1..applied."""
    lines = conn.execute(
        "SELECT b.site, b.sku, b.location, b.lot, b.owner, b.qty, b.value, "
        "COALESCE(m.qty, 0), COALESCE(m.value, 0) FROM site_balances b LEFT JOIN ("
        "SELECT site, sku, location, lot, owner, sum(delta) AS qty, sum(value) AS value "
        "FROM site_movements GROUP BY site, sku, location, lot, owner) m ON m.site = b.site "
        "AND m.sku = b.sku AND m.location = b.location AND m.lot = b.lot AND m.owner = b.owner "
        "WHERE b.qty != COALESCE(m.qty, 0) OR b.value != COALESCE(m.value, 0) "
        "ORDER BY b.site, b.sku, b.location, b.lot, b.owner"
    ).fetchall()
    found = [{"site": r[0], "sku": r[1], "location": r[2], "lot": r[3], "owner": r[4],
              "balance": r[5], "value": r[6], "movements": r[7], "movements_value": r[8]}
             for r in lines]  # fmt: skip
    streams = conn.execute(
        "SELECT l.site, l.applied, count(m.id), COALESCE(max(m.ledger_seq), 0) "
        "FROM site_links l LEFT JOIN site_movements m ON m.site = l.site "
        "GROUP BY l.site, l.applied ORDER BY l.site"
    ).fetchall()
    found += [{"site": site, "applied": applied, "movements": count, "max_ledger_seq": top}
              for site, applied, count, top in streams
              if not (count == applied == top)]  # fmt: skip
    return found
