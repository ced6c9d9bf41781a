"""What makes every station event apply once: the stations and their epochs, each
(station, epoch)'s applied cursor, events held until the ones before them arrive."""

import json
from dataclasses import dataclass

from hub.store.connection import Connection, json_values


def cursor_get(conn: Connection, station: str, epoch: str) -> int:
    row = conn.execute(
        "SELECT applied FROM cursors WHERE station = ? AND epoch = ?", (station, epoch)
    ).fetchone()
    return row[0] if row else 0


def cursor_set(conn: Connection, station: str, epoch: str, applied: int, now: str) -> None:
    conn.execute_later(
        "INSERT INTO cursors (station, epoch, applied, updated) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (station, epoch) "
        "DO UPDATE SET applied = excluded.applied, updated = excluded.updated",
        (station, epoch, applied, now),
    )


def cursors(conn: Connection) -> list[tuple[str, str, int]]:
    return conn.execute("SELECT station, epoch, applied FROM cursors").fetchall()


def pending_put(
    conn: Connection, station: str, epoch: str, seq: int, payload: bytes, now: str
) -> None:
    conn.execute(
        "INSERT INTO pending VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (station, epoch, seq, payload, now),
    )


def pending_any(conn: Connection, station: str, epoch: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pending WHERE station = ? AND epoch = ? LIMIT 1", (station, epoch)
    ).fetchone()
    return row is not None


def pending_get(conn: Connection, station: str, epoch: str, seq: int) -> bytes | None:
    row = conn.execute(
        "SELECT payload FROM pending WHERE station = ? AND epoch = ? AND seq = ?",
        (station, epoch, seq),
    ).fetchone()
    return bytes(row[0]) if row else None


def pending_take(conn: Connection, station: str, epoch: str, seq: int) -> bytes | None:
    row = conn.execute(
        "DELETE FROM pending WHERE station = ? AND epoch = ? AND seq = ? RETURNING payload",
        (station, epoch, seq),
    ).fetchone()
    return row[0] if row else None


def pending_drop_applied(conn: Connection, station: str, epoch: str, applied: int) -> None:
    conn.execute(
        "DELETE FROM pending WHERE station = ? AND epoch = ? AND seq <= ?",
        (station, epoch, applied),
    )


@dataclass(frozen=True)
class Gap:
    station: str
    epoch: str
    applied: int
    first_held: int
    held: int
    since: str


def gaps(conn: Connection) -> list[Gap]:
    rows = conn.execute(
        "SELECT p.station, p.epoch, coalesce(c.applied, 0), min(p.seq), count(*), min(p.received) "
        "FROM pending p LEFT JOIN cursors c ON c.station = p.station AND c.epoch = p.epoch "
        "GROUP BY p.station, p.epoch, c.applied ORDER BY p.station, p.epoch"
    ).fetchall()
    return [Gap(*row) for row in rows]


_SEEN = (
    "INSERT INTO stations (station, first_seen, last_seen) VALUES (?, ?, ?) "
    "ON CONFLICT (station) DO UPDATE SET last_seen = excluded.last_seen"
)


def station_seen(conn: Connection, station: str, now: str) -> str | None:
    """Note that the station was heard from `now`; returns its current epoch (None while
    none is known)."""
    return conn.execute(_SEEN + " RETURNING epoch", (station, now, now)).fetchone()[0]


def stations_seen(conn: Connection, stations: list[str], now: str) -> dict[str, str | None]:
    """`station_seen` of each of `stations`: their current epochs read in one statement,
    and each noted heard from `now` in one statement (none of it read back)."""
    epochs: dict[str, str | None] = dict.fromkeys(stations)
    epochs.update(conn.execute(
        f"SELECT station, epoch FROM stations WHERE station IN ({json_values(conn)})",
        (json.dumps(stations),),
    ).fetchall())  # fmt: skip
    conn.executemany(_SEEN, [(station, now, now) for station in stations])
    return epochs


def cursors_of(conn: Connection, stations: list[str]) -> dict[tuple[str, str], int]:
    """The applied cursor of every journal (station, epoch) of `stations`, in one statement."""
    rows = conn.execute(
        "SELECT station, epoch, applied FROM cursors "
        f"WHERE station IN ({json_values(conn)})",
        (json.dumps(stations),),
    ).fetchall()
    return {(station, epoch): applied for station, epoch, applied in rows}


def pending_journals(conn: Connection, stations: list[str]) -> set[tuple[str, str]]:
    """The journals (station, epoch) of `stations` that hold events, in one statement."""
    rows = conn.execute(
        "SELECT DISTINCT station, epoch FROM pending "
        f"WHERE station IN ({json_values(conn)})",
        (json.dumps(stations),),
    ).fetchall()
    return {(station, epoch) for station, epoch in rows}


def station_epoch(conn: Connection, station: str) -> str | None:
    row = conn.execute("SELECT epoch FROM stations WHERE station = ?", (station,)).fetchone()
    return row[0] if row else None


def station_set_epoch(conn: Connection, station: str, epoch: str) -> None:
    conn.execute_later("UPDATE stations SET epoch = ? WHERE station = ?", (epoch, station))


def station_status_set(conn: Connection, station: str, state: str, status: bytes, now: str) -> None:
    station_seen(conn, station, now)
    conn.execute(
        "UPDATE stations SET state = ?, status = ? WHERE station = ?",
        (state, status.decode(), station),
    )


def station_status_get(conn: Connection, station: str) -> bytes | None:
    row = conn.execute("SELECT status FROM stations WHERE station = ?", (station,)).fetchone()
    return row[0].encode() if row and row[0] else None


def station_list(conn: Connection) -> list[dict]:
    rows = conn.execute(
        "SELECT s.station, s.epoch, s.state, s.status, s.first_seen, s.last_seen, "
        "coalesce(c.applied, 0) FROM stations s "
        "LEFT JOIN cursors c ON c.station = s.station AND c.epoch = s.epoch ORDER BY s.station"
    ).fetchall()
    keys = ("station", "epoch", "state", "status", "first_seen", "last_seen", "applied")
    return [dict(zip(keys, row, strict=True)) for row in rows]
