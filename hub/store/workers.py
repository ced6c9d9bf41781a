"""Several hub processes on one database: who is alive, which ingest worker owns which
station's stream, and who does the one-at-a-time duties (outbox, housekeeping).

Plain SQL both backends accept: a lease is taken by an UPDATE whose WHERE says it has
expired, inside the caller's transaction (SQLite's write lock, PostgreSQL's row lock), so
two workers can never both take one. Times are unix seconds of the workers' clocks.
"""

import json
from dataclasses import dataclass

from hub.store.connection import Connection, json_values


@dataclass(frozen=True)
class Worker:
    id: str
    host: str
    pid: int
    role: str
    started: float
    heartbeat: float


def worker_beat(conn: Connection, worker: Worker) -> None:
    conn.execute(
        "INSERT INTO workers (id, host, pid, role, started, heartbeat) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat",
        (worker.id, worker.host, worker.pid, worker.role, worker.started, worker.heartbeat),
    )


def workers_live(conn: Connection, since: float) -> list[Worker]:
    """The workers that beat at `since` or later, oldest first."""
    rows = conn.execute(
        "SELECT id, host, pid, role, started, heartbeat FROM workers WHERE heartbeat >= ? "
        "ORDER BY started, id",
        (since,),
    ).fetchall()
    return [Worker(*row) for row in rows]


def workers_forget(conn: Connection, before: float) -> None:
    """Rows of workers silent since before `before` (each run adds one)."""
    conn.execute("DELETE FROM workers WHERE heartbeat < ?", (before,))


def worker_gone(conn: Connection, worker: str) -> None:
    """A worker stopping cleanly: its row and its leases go, so others take them at once."""
    conn.execute("DELETE FROM workers WHERE id = ?", (worker,))
    conn.execute("UPDATE station_leases SET expires_at = 0 WHERE worker = ?", (worker,))
    conn.execute("UPDATE duty_leases SET expires_at = 0 WHERE worker = ?", (worker,))


def station_lease_add(conn: Connection, station: str) -> None:
    """A station to be owned (free until a worker takes it)."""
    conn.execute(
        "INSERT INTO station_leases (station, worker, expires_at) VALUES (?, '', 0) "
        "ON CONFLICT (station) DO NOTHING",
        (station,),
    )


def station_leases_add_known(conn: Connection) -> None:
    """Every station the ledger knows gets a lease row (the first worker on an old ledger)."""
    conn.execute(
        "INSERT INTO station_leases (station, worker, expires_at) "
        "SELECT station, '', 0 FROM stations WHERE true ON CONFLICT (station) DO NOTHING"
    )


def station_leases(conn: Connection) -> list[tuple[str, str, float]]:
    """(station, worker, expires_at) of every station, by station."""
    return conn.execute(
        "SELECT station, worker, expires_at FROM station_leases ORDER BY station"
    ).fetchall()


def station_leases_renew(conn: Connection, worker: str, now: float, until: float) -> list[str]:
    """Extend the unexpired leases `worker` holds; the stations it still owns."""
    conn.execute(
        "UPDATE station_leases SET expires_at = ? WHERE worker = ? AND expires_at >= ?",
        (until, worker, now),
    )
    rows = conn.execute(
        "SELECT station FROM station_leases WHERE worker = ? AND expires_at >= ?", (worker, now)
    ).fetchall()
    return [row[0] for row in rows]


def station_lease_take(
    conn: Connection, station: str, worker: str, now: float, until: float
) -> bool:
    """Take `station` if its lease has expired: whether this worker has it now."""
    taken = conn.execute(
        "UPDATE station_leases SET worker = ?, expires_at = ? WHERE station = ? AND expires_at < ?",
        (worker, until, station, now),
    )
    return taken.rowcount == 1


def station_lease_release(conn: Connection, station: str, worker: str) -> None:
    conn.execute(
        "UPDATE station_leases SET expires_at = 0 WHERE station = ? AND worker = ?",
        (station, worker),
    )


def station_owned(conn: Connection, station: str, worker: str, now: float) -> bool:
    """Inside the applying transaction: whether `worker` holds `station`'s unexpired lease."""
    row = conn.execute(
        "SELECT 1 FROM station_leases WHERE station = ? AND worker = ? AND expires_at >= ?",
        (station, worker, now),
    ).fetchone()
    return row is not None


def stations_owned(conn: Connection, stations: list[str], worker: str, now: float) -> set[str]:
    """`station_owned` of `stations`, in one statement: those whose lease `worker` holds."""
    rows = conn.execute(
        "SELECT station FROM station_leases "
        f"WHERE station IN ({json_values(conn)}) AND worker = ? AND expires_at >= ?",
        (json.dumps(stations), worker, now),
    ).fetchall()
    return {station for (station,) in rows}


def duty_hold(conn: Connection, duty: str, worker: str, now: float, until: float) -> bool:
    """Renew the duty if `worker` has it, else take it if it expired: whether it has it."""
    conn.execute(
        "INSERT INTO duty_leases (duty, worker, expires_at) VALUES (?, '', 0) "
        "ON CONFLICT (duty) DO NOTHING",
        (duty,),
    )
    held = conn.execute(
        "UPDATE duty_leases SET worker = ?, expires_at = ? "
        "WHERE duty = ? AND (worker = ? AND expires_at >= ? OR expires_at < ?)",
        (worker, until, duty, worker, now, now),
    )
    return held.rowcount == 1


def duty_leases(conn: Connection) -> list[tuple[str, str, float]]:
    return conn.execute("SELECT duty, worker, expires_at FROM duty_leases ORDER BY duty").fetchall()
