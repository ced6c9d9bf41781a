"""PostgreSQL's one writer at a time, and what ends a holder that is stuck (docs/scaling.md,
"A process stuck inside its transaction").

Every writing transaction first takes one advisory lock, held until it ends. A hub process
frozen while it holds it (a long GC or swap pause, a VM suspended: SIGSTOP in the tests),
or whose host is cut off from the server, keeps it: the server sees its session waiting
for the client (`idle in transaction`, or `active` on ClientRead inside a pipeline not yet
synced) and keeps it until TCP gives up, hours later, and every other writer waits.
PostgreSQL's own timeouts cannot tell such a session from a healthy one that is busy in
its client: `idle_in_transaction_session_timeout` does not see a session stopped
mid-pipeline (it is `active`), `statement_timeout` does not count while the server waits
for the client, and either one, set low, would end a long legitimate transaction (the
daily housekeeping, tens of seconds on a big catalog).

So the proof that a holder is stuck is its own process's: each hub process names its
sessions (`application_name`, its worker id) and renews a liveness row
(`hub_processes.alive_until`, on the server's clock) from a thread of its own, on a
connection of its own, without the writer lock: a process keeps renewing it however long
its transactions take, and stops only when the whole process stops, or cannot reach the
server. A writer that has waited `WAIT_CHECK_MS` for the lock (`lock_timeout`) looks at
the holder: a session named by a process whose row has expired is ended
(`pg_terminate_backend`: its transaction rolls back whole, the lock is free); any other
holder (a process alive, a session of a tool or of a person, a process with no row) is
waited for, as before. Functions here take psycopg's connection itself (this is the
PostgreSQL backend's own business).
"""

import logging
import urllib.parse
from dataclasses import dataclass

import psycopg

log = logging.getLogger(__name__)

# The advisory lock every writing transaction takes first (any constant: the hub's own).
WRITER_LOCK = 0x57_48_55_42  # "WHUB"
# How long a writer waits for the lock before it looks at who holds it (and again each
# time). Losing its place in the lock's queue each time costs nothing that matters: the
# lock is held longer than this only by a long transaction or a stuck one.
WAIT_CHECK_MS = 1000

# The liveness of the hub's processes (PostgreSQL only: made with the prelude).
TABLE = """
CREATE TABLE IF NOT EXISTS hub_processes (
    name text PRIMARY KEY,                  -- the application_name of its sessions
    alive_until double precision NOT NULL   -- unix seconds, the server's clock
);
"""

# One round trip: the transaction, the lock within WAIT_CHECK_MS, and the rest of the
# transaction without that limit (the session's own lock_timeout again).
_BEGIN = (f"BEGIN; SET LOCAL lock_timeout = {WAIT_CHECK_MS}; "
          f"SELECT pg_advisory_xact_lock({WRITER_LOCK}); SET LOCAL lock_timeout = DEFAULT")  # fmt: skip

# The writer lock's holder, ended when its process's liveness row has expired, in one
# statement: the holder, the lock and the row are read as they are when it is ended (a
# holder that has just committed is no longer in pg_locks).
_END_STUCK = f"""
SELECT a.pid, a.application_name, a.state, p.alive_until, pg_terminate_backend(a.pid)
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
JOIN hub_processes p ON p.name = a.application_name
WHERE l.locktype = 'advisory' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = 0 AND l.objid = {WRITER_LOCK} AND l.objsubid = 1
  AND p.alive_until < extract(epoch FROM clock_timestamp())
"""

_BEAT = """
INSERT INTO hub_processes (name, alive_until)
VALUES (%s, extract(epoch FROM clock_timestamp()) + %s)
ON CONFLICT (name) DO UPDATE SET alive_until = excluded.alive_until
"""
# Rows of processes gone this long are removed (each run of a process adds one).
FORGET_S = 24 * 3600


@dataclass(frozen=True)
class Ended:
    """A writer-lock holder ended as stuck."""

    pid: int
    name: str
    state: str
    alive_until: float


def begin(raw: psycopg.Connection) -> None:
    """BEGIN and the writer lock; while another session holds it, its holder is looked at
    every WAIT_CHECK_MS and ended if its process is stuck."""
    while True:
        try:
            raw.execute(_BEGIN)
            return
        except psycopg.errors.LockNotAvailable:
            raw.execute("ROLLBACK")  # nothing was done in it yet
        try:
            ended_now = end_stuck_holder(raw)
        except psycopg.errors.InsufficientPrivilege as exc:
            # Another database role than the holder's, without pg_signal_backend: wait.
            log.warning("cannot end the writer lock's stuck holder: %s", exc)
            continue
        for ended in ended_now:
            log.warning("ended the writer lock's holder %s (backend pid %d, %s): its process "
                        "has not said it is alive since %.1f (server clock)", ended.name,
                        ended.pid, ended.state, ended.alive_until)  # fmt: skip


def end_stuck_holder(raw: psycopg.Connection) -> list[Ended]:
    """End the writer lock's holder if it is a hub process's session whose liveness row has
    expired; what was ended (nothing when the holder is alive, or not a hub process).
    Runs outside a transaction."""
    try:
        rows = raw.execute(_END_STUCK).fetchall()
    except psycopg.errors.UndefinedTable:  # a ledger not yet brought up to this version
        return []
    return [Ended(pid, name, state, until) for pid, name, state, until, done in rows if done]


def beat(raw: psycopg.Connection, name: str, alive_s: float) -> None:
    """Process `name` is alive for `alive_s` more seconds (autocommit, no writer lock)."""
    raw.execute(_BEAT, (name, alive_s))


def forget(raw: psycopg.Connection) -> None:
    """Remove the rows of processes gone for a day."""
    raw.execute("DELETE FROM hub_processes WHERE alive_until < "
                "extract(epoch FROM clock_timestamp()) - %s", (FORGET_S,))  # fmt: skip


# Client side (libpq): a connection whose server went away without a word (its host cut
# off, a failover to a standby) fails after about idle + interval * count seconds instead
# of waiting on it for hours. Server side (the `options` of the session, settable by any
# role): the server ends the session of a client host that went away as soon, rather than
# after the kernel's two hours. Neither applies to a Unix socket, nor to a frozen process
# (its host's kernel still answers), which the liveness rows above are for.
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "10", "keepalives_interval": "5",
              "keepalives_count": "3", "tcp_user_timeout": "30000"}  # fmt: skip
SERVER_KEEPALIVES = ("-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 "
                     "-c tcp_keepalives_count=3 -c tcp_user_timeout=30000")  # fmt: skip


def session_url(url: str, name: str) -> str:
    """`url` for the sessions of process `name`: named so (application_name: what
    pg_stat_activity shows, and what ends it when stuck), with TCP keepalives on both
    ends (the keepalives the configured URL sets are kept)."""
    parts = urllib.parse.urlsplit(url)
    params = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    for key, value in {**KEEPALIVES, "options": SERVER_KEEPALIVES}.items():
        params.setdefault(key, value)
    params["application_name"] = name  # the process's, whatever the URL said
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="/")
    return urllib.parse.urlunsplit(parts._replace(query=query))
