"""An ingest worker's share of the stations and of the one-at-a-time duties.

Each turn (`tick`, a few times per lease) one transaction: say this worker is alive,
renew the leases it holds, give back what is above its fair share (each live ingest worker
ends with the floor or the ceiling of stations / workers: `_balance`), take expired leases
up to that share, and hold or take the duties (`outbox`, `housekeeping`). A worker cut off
from the broker gives everything back at once (its events could not reach it). A worker that is SIGKILLed stops renewing: its leases expire
after `lease_s` and the others take them. What it had not applied comes again from the
station's journal (the new owner asks with a resync; so does a worker that takes back its
own lease after it ran out, since the fence left what came meanwhile), and the ledger's unique
(station, epoch, seq) keeps even an overlap from applying anything twice.

A central hub's ingest workers own its sites' movement streams the same way: a site is
one more row of `station_leases`, keyed `site:{id}` (a station id never holds a colon), and
balanced, taken over and fenced with the stations (docs/multi-site.md).

A web worker only says it is alive (the overview and /healthz list the workers), with one
statement of its own (`beat`): not in a writing transaction, so never behind the writer
lock an ingest worker's batch or the housekeeping holds. The single process (`--role all`)
has none of this: it owns every station.
"""

import math
import os
import secrets
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from hub import store
from hub.store.connection import Connection

OUTBOX = "outbox"
HOUSEKEEPING = "housekeeping"
DUTIES = (OUTBOX, HOUSEKEEPING)
# Turns per lease: a lease survives two missed turns.
TICKS_PER_LEASE = 3
# Rows of workers silent this long are removed (each run of a worker adds one).
FORGET_S = 24 * 3600.0
# The lease key of a site's stream at a central hub: no station id has this prefix.
SITE_PREFIX = "site:"


def site_stream(site: str) -> str:
    """The lease key of `site`'s movement stream."""
    return SITE_PREFIX + site


def stream_site(stream: str) -> str | None:
    """The site whose stream `stream` is, or None for a station."""
    return stream[len(SITE_PREFIX):] if stream.startswith(SITE_PREFIX) else None


# At most this much of the host name goes into a worker id: the id is also the name of the
# worker's PostgreSQL sessions (application_name, cut at 63 bytes by the server).
HOST_IN_ID = 36


def worker_id(role: str) -> str:
    """host:pid:role:random, unique per run (the same pid may come again after a reboot)."""
    host = socket.gethostname()[:HOST_IN_ID]
    return f"{host}:{os.getpid()}:{role}:{secrets.token_hex(4)}"


def worker_pid(worker: str) -> int | None:
    """The process id in a `worker_id`; None for '' (a lease nobody holds)."""
    return int(worker.split(":")[1]) if worker else None


@dataclass(frozen=True)
class Change:
    """What one tick changed for this worker."""

    gained: frozenset[str] = frozenset()
    lost: frozenset[str] = frozenset()
    # Held before, but the lease ran out (turns came too late) and this worker took it
    # back: meanwhile the fence left the station's events unapplied, as after a move.
    retaken: frozenset[str] = frozenset()


@dataclass
class Ownership:
    conn: Connection
    role: str
    lease_s: float
    clock: Callable[[], float] = time.time
    started: float = field(default_factory=time.time)
    sites: tuple[str, ...] = ()  # a central hub's sites: streams to own as stations are
    stations: frozenset[str] = frozenset()  # the streams (stations, sites) this worker applies
    duties: frozenset[str] = frozenset()
    _valid_until: float = 0.0  # monotonic: past it, nothing this worker held is sure
    id: str = ""  # worker_id(role) unless given (the process's name on the database)

    def __post_init__(self) -> None:
        self.id = self.id or worker_id(self.role)

    @property
    def period_s(self) -> float:
        return self.lease_s / TICKS_PER_LEASE

    def tick(self, serving: bool = True) -> Change:
        """One turn (raises on a database error: the caller's heartbeat then stops).
        `serving`: false for an ingest worker cut off from the broker, which then neither
        counts as alive nor holds anything, so the others take its stations and duties."""
        began = time.monotonic()
        held: set[str] = set()
        renewed: set[str] = set()
        duties: frozenset[str] = frozenset()
        with store.transaction(self.conn):
            # The clock read once the writer lock is ours: a turn that waited for it (a long
            # batch of another worker) must not renew to a time already past.
            now = self.clock()
            until = now + self.lease_s
            me = store.Worker(self.id, socket.gethostname(), os.getpid(), self.role,
                              self.started, now)  # fmt: skip
            if not serving:  # at once, rather than when the leases run out
                store.worker_gone(self.conn, self.id)
            else:
                store.worker_beat(self.conn, me)
            if serving and self.role == "ingest":
                renewed = set(store.station_leases_renew(self.conn, self.id, now, until))
                held = self._balance(set(renewed), now, until)
                duties = frozenset(d for d in DUTIES
                                   if store.duty_hold(self.conn, d, self.id, now, until))  # fmt: skip
            store.workers_forget(self.conn, now - FORGET_S)
        # Sure of it for one turn less than the lease: another worker may take it once the
        # lease has passed, and this one has stopped by then even if a turn came late.
        self._valid_until = began + self.lease_s - self.period_s
        change = Change(frozenset(held - self.stations), frozenset(self.stations - held),
                        frozenset((held - renewed) & self.stations))  # fmt: skip
        self.stations, self.duties = frozenset(held), duties
        return change

    def beat(self) -> None:
        """A web worker's turn: its row says it is alive, in one statement (autocommit), not
        a writing transaction: a live web process is listed however long the ingest
        workers hold the writer lock (it used to wait for it, and its row went stale)."""
        store.worker_beat(self.conn, store.Worker(self.id, socket.gethostname(), os.getpid(),
                                                  self.role, self.started, self.clock()))  # fmt: skip

    def _balance(self, held: set[str], now: float, until: float) -> set[str]:
        """Each live worker ends with floor or ceil of stations / workers: one above the
        ceiling gives the rest back, one above the floor gives one back while another has
        less than the floor (a worker back from a restart); free leases go to who has room."""
        live = {w.id for w in store.workers_live(self.conn, now - self.lease_s)
                if w.role == "ingest"}  # fmt: skip
        leases = store.station_leases(self.conn)
        low, share = len(leases) // max(1, len(live)), math.ceil(len(leases) / max(1, len(live)))
        counts = Counter(w for _s, w, expires_at in leases if expires_at >= now and w in live)
        keep = share
        if len(held) > low and any(counts[w] < low for w in live):
            keep = min(share, len(held) - 1)
        for station in sorted(held)[keep:]:
            store.station_lease_release(self.conn, station, self.id)
            held.discard(station)
        for station, _worker, expires_at in leases:
            if len(held) >= keep:
                break
            if expires_at < now and store.station_lease_take(self.conn, station, self.id,
                                                             now, until):  # fmt: skip
                held.add(station)
        return held

    @property
    def sure_until(self) -> float:
        """Monotonic time until which this worker's leases surely hold (from its last
        renewal): an applying transaction closes by then, so that the next turn renews
        them before they run out under it."""
        return self._valid_until

    def holds(self, duty: str) -> bool:
        """Whether this worker surely has `duty` now (not past its last renewal's lease)."""
        return duty in self.duties and time.monotonic() < self._valid_until

    def owns(self, station: str) -> bool:
        """This worker's view between ticks (the applying transaction checks the row)."""
        return station in self.stations and time.monotonic() < self._valid_until

    def fence(self, conn: Connection, station: str) -> bool:
        """Inside the applying transaction: whether the lease row says this worker."""
        return store.station_owned(conn, station, self.id, self.clock())

    def fence_all(self, conn: Connection, stations: list[str]) -> set[str]:
        """`fence` of several stations, in one statement: those this worker applies."""
        return store.stations_owned(conn, stations, self.id, self.clock())

    def start(self) -> None:
        with store.transaction(self.conn):
            store.station_leases_add_known(self.conn)
            for site in self.sites:
                store.station_lease_add(self.conn, site_stream(site))

    def stop(self) -> bool:
        """A clean stop: the others take this worker's stations at their next tick.
        Whether other ingest workers are alive."""
        with store.transaction(self.conn):
            store.worker_gone(self.conn, self.id)
            since = self.clock() - self.lease_s
            others = any(w.role == "ingest" for w in store.workers_live(self.conn, since))
        self.stations, self.duties = frozenset(), frozenset()
        return others
