"""Connecting, the schema and its migrations, transactions: where the hub's database shows
most.

The hub's database is a SQLite file (a path) or PostgreSQL (a `postgresql://` URL, from
`[database] url`). The query modules of `hub.store` take the connection made here and write
SQL both accept; what differs is bridged in `hub.store.postgres` (docs/architecture.md,
"The hub's SQL").
"""

import contextlib
import re
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from hub.store.written import Written

if TYPE_CHECKING:
    from hub.store import postgres

POSTGRES_URL_SCHEMES = ("postgresql://", "postgres://")
SCHEMA = (Path(__file__).parent.parent / "schema.sql").read_text()

# psycopg (and hub.store.postgres, which bridges it) is imported at the first PostgreSQL
# connection, never by a hub on its SQLite file: it is 12 MB of the hub's resident memory
# (issue 20's bench 6). A psycopg error, or a PostgreSQL connection, can only exist in a
# process that has imported it, so the error classes below are psycopg's only once it is.


def _postgres() -> ModuleType:
    from hub.store import postgres

    return postgres


def _psycopg() -> ModuleType | None:
    return sys.modules.get("psycopg")


def db_errors() -> tuple[type[Exception], ...]:
    """The database failed (disk, connection, server): the hub stops or retries, never
    blames a message for it."""
    psycopg = _psycopg()
    return (sqlite3.Error,) if psycopg is None else (sqlite3.Error, psycopg.Error)


def item_errors() -> tuple[type[Exception], ...]:
    """One message's fault, not the database's: a constraint, or a value the database cannot
    store."""
    psycopg = _psycopg()
    ours = (sqlite3.IntegrityError, sqlite3.DataError)
    return ours if psycopg is None else (*ours, psycopg.errors.IntegrityError,
                                         psycopg.errors.DataError)  # fmt: skip


def data_errors() -> tuple[type[Exception], ...]:
    """A value the database cannot store (on PostgreSQL a NUL character in text): the web
    answers 422, the ingest sets the message aside (item_errors)."""
    psycopg = _psycopg()
    return (sqlite3.DataError,) if psycopg is None else (sqlite3.DataError,
                                                         psycopg.errors.DataError)  # fmt: skip


class Rows(Protocol):
    """What the store reads of a statement's result: sqlite3's cursor or psycopg's."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the store uses of a connection, the one type its functions take: a
    `sqlite3.Connection`, or a `postgres.Connection` (PostgreSQL's, with the same calls);
    `connect` makes either."""

    # A writing transaction's outbox rows held back to its end (store.outbox_batched).
    outbox_rows: Any
    # What a writing transaction knows of the rows it writes (store.written); None
    # outside one.
    written: Written | None

    def execute(self, sql: str, parameters: Any = ..., /) -> Rows: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Rows: ...

    def execute_later(self, sql: str, parameters: Any, /) -> None:
        """`execute`, of a write whose result nobody reads: on PostgreSQL, in a
        `writes_held` block, sent with the rows of the same statement before the next
        other statement runs."""

    @property
    def in_transaction(self) -> bool: ...

    def close(self) -> None: ...


class SqliteConnection(sqlite3.Connection):
    """sqlite3's connection with what the store keeps on a connection (`Connection`)."""

    outbox_rows: Any = None
    written: Written | None = None

    def execute_later(self, sql: str, parameters: Any, /) -> None:
        # In the process: there is no round trip to save.
        self.execute(sql, parameters)


def connect(target: str | Path) -> Connection:
    """A connection to a SQLite file or a `postgresql://` URL, in autocommit mode
    (transactions are explicit); on SQLite WAL and durable commits."""
    if is_postgres_url(target):
        return _postgres().connect(str(target))
    conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=30,
                           factory=SqliteConnection)  # fmt: skip
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    # PostgreSQL's GREATEST/LEAST (SQLite's own are two-argument max/min, which PostgreSQL
    # lacks): the queries use these names on both. NULLs are ignored, as PostgreSQL does.
    conn.create_function("greatest", -1, _greatest, deterministic=True)
    conn.create_function("least", -1, _least, deterministic=True)
    return conn


def for_process(target: str | Path, name: str) -> str | Path:
    """What process `name` connects to: on PostgreSQL the URL with its sessions named
    `name` (how a holder of the writer lock stuck inside its transaction is known and
    ended: hub.store.writer_lock) and TCP keepalives; a SQLite path as it is."""
    return _postgres().writer_lock.session_url(str(target), name) if is_postgres_url(target) \
        else target


def give_up_after(conn: Connection, seconds: float) -> None:
    """A statement on `conn` fails after waiting `seconds` (a lock included) rather than as
    long as it takes: for a connection whose one short write must not hang behind others.
    PostgreSQL: `statement_timeout`; SQLite: the wait for the file's write lock."""
    ms = max(1, int(seconds * 1000))
    conn.execute(f"SET statement_timeout = {ms}" if is_postgres(conn)
                 else f"PRAGMA busy_timeout = {ms}")  # fmt: skip


def open_pool(url: str, size: int) -> "postgres.ConnectionPool":
    """PostgreSQL connections kept for the web's requests (`connect_pooled`)."""
    return _postgres().open_pool(url, size)


def connect_pooled(pool: "postgres.ConnectionPool") -> Connection:
    """A connection of `pool`; its `close()` gives it back."""
    return _postgres().pooled(pool)


def _greatest(*values):
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _least(*values):
    present = [v for v in values if v is not None]
    return min(present) if present else None


def is_postgres_url(target: str | Path) -> bool:
    """Whether `connect(target)` opens PostgreSQL (else a SQLite file)."""
    return isinstance(target, str) and target.startswith(POSTGRES_URL_SCHEMES)


def is_postgres(conn: Connection) -> bool:
    postgres = sys.modules.get("hub.store.postgres")
    return postgres is not None and isinstance(conn, postgres.Connection)


def json_values(conn: Connection) -> str:
    """A subquery of the values of a JSON array given as its one parameter (`json.dumps`
    of a list): `WHERE sku IN ({json_values(conn)})` reads a set of rows in one statement
    on both backends, through the column's index."""
    return dialect(conn, sqlite="SELECT value FROM json_each(?)",
                   postgresql="SELECT jsonb_array_elements_text(CAST(? AS jsonb))")  # fmt: skip


def dialect(conn: Connection, sqlite: str, postgresql: str) -> str:
    """The one SQL text of each backend, where no text suits both: SQLite's planner hints
    (`+column`, `INDEXED BY`) that PostgreSQL's planner neither has nor needs."""
    return postgresql if is_postgres(conn) else sqlite


# A ledger made by an older hub is brought up to date when the new one starts (after
# `scripts/update`): each step runs once, in order, on a ledger whose version (SQLite's
# `user_version`, PostgreSQL's `hub_schema`) is below its number, before schema.sql (which
# then adds what is new, and whose indexes may need the step's columns). A new ledger is
# made at the latest version by schema.sql and skips them. A released step is never
# edited: add the next one. On PostgreSQL each step is translated as schema.sql is.
# A column that some ledgers of one version have and others lack (added to schema.sql
# before its step existed) is added by `ALTER TABLE IF EXISTS t ADD COLUMN IF NOT EXISTS
# c ...`: PostgreSQL runs that as it is; SQLite, which has neither IF, runs the plain
# ADD COLUMN only where the table is there without the column (`_sqlite_step`).
MIGRATIONS: list[tuple[int, str]] = [
    (1, "ALTER TABLE sku_activity ADD COLUMN pick_location TEXT"),
    (2, "ALTER TABLE dead_letters ADD COLUMN source TEXT NOT NULL DEFAULT ''"),
    (3, "ALTER TABLE dead_letters ADD COLUMN size INTEGER NOT NULL DEFAULT 0"),
    (4, "ALTER TABLE dead_letters ADD COLUMN digest TEXT NOT NULL DEFAULT ''"),
    (5, "ALTER TABLE dead_letters ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1"),
    # A central ledger made between the first multi-site commit and the day a site's
    # movement kept its hub's time (never released; schema.sql's index on it needs it).
    (6, "ALTER TABLE IF EXISTS site_movements ADD COLUMN IF NOT EXISTS ts TEXT NOT NULL "
        "DEFAULT ''"),
    (7, "ALTER TABLE IF EXISTS site_committed ADD COLUMN IF NOT EXISTS quarantined INTEGER "
        "NOT NULL DEFAULT 0"),
    # A transfer the centre's company total no longer corrects (central_transfers.settle);
    # a ledger made before transfers existed gets the table from schema.sql.
    (8, "ALTER TABLE IF EXISTS transfers ADD COLUMN IF NOT EXISTS settled INTEGER NOT NULL "
        "DEFAULT 0"),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def create_schema(conn: Connection) -> None:
    """Make the ledger's tables, or bring an older ledger's up to date."""
    if is_postgres(conn):
        _postgres().create_schema(conn, SCHEMA, MIGRATIONS)
        return
    fresh = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'movements'").fetchone()
    version = SCHEMA_VERSION if fresh is None else schema_version(conn)
    steps = "".join(f"{_sqlite_step(conn, sql)};\n" for number, sql in MIGRATIONS
                    if number > version)  # fmt: skip
    # One transaction: in autocommit each of the ~80 statements was its own durable
    # commit (an fsync each), most of the hub's start-up and of every test's set-up.
    conn.executescript(
        f"BEGIN IMMEDIATE;\n{steps}{SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"
    )


_ADD_IF_MISSING = re.compile(
    r"ALTER TABLE IF EXISTS (\w+) ADD COLUMN IF NOT EXISTS (\w+) (.*)", re.DOTALL
)


def _sqlite_step(conn: Connection, sql: str) -> str:
    """A migration step as SQLite runs it: an "add column if missing" is the plain ADD
    COLUMN where the table lacks it, else nothing (an empty statement)."""
    wanted = _ADD_IF_MISSING.fullmatch(sql)
    if wanted is None:
        return sql
    table, column, declaration = wanted.groups()
    have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    if not have or column in have:
        return ""
    return f"ALTER TABLE {table} ADD COLUMN {column} {declaration}"


def schema_version(conn: Connection) -> int:
    if is_postgres(conn):
        return _postgres().schema_version(conn)
    return conn.execute("PRAGMA user_version").fetchone()[0]


@contextmanager
def transaction(conn: Connection, durable: bool = True) -> Iterator[Connection]:
    """A writing transaction, committed when the block ends, rolled back if it raises.

    `durable=False` is for a change a crash may lose without harm: the outbox rows the
    broker has taken, which are then only published again, as subscribers expect
    (docs/reliability.md). Its commit does not wait for the disk (SQLite's
    `synchronous=NORMAL` for it, PostgreSQL's `synchronous_commit = off`): at a hub's
    low rates that wait was a second one per event, in the way of the next. Each
    database writes one log in order, so the next durable commit makes it durable too."""
    if durable or is_postgres(conn):
        yield from _transaction(conn, durable)
        return
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        yield from _transaction(conn, durable)
    finally:
        conn.execute("PRAGMA synchronous=FULL")


def _transaction(conn: Connection, durable: bool) -> Iterator[Connection]:
    _begin_write(conn)
    try:
        if not durable and is_postgres(conn):
            conn.execute("SET LOCAL synchronous_commit = off")
        yield conn
    except BaseException:
        # SQLite has already rolled back after some errors (SQLITE_FULL): a second ROLLBACK
        # would fail and hide the real error.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.written = None
    conn.execute("COMMIT")


@contextmanager
def writes_held(conn: Connection) -> Iterator[Connection]:
    """Inside a transaction: on PostgreSQL the writes given to `execute_later` are held and
    sent together, each statement's rows in one COPY or `executemany`, before the next
    other statement (postgres.Connection.execute_later: one `execute` each was most of an
    ingest worker's time). SQLite runs in the process: each runs at once, and the block
    runs as it is."""
    if is_postgres(conn):
        with conn.writes_held():
            yield conn
    else:
        yield conn


@contextmanager
def rehearsal(conn: Connection) -> Iterator[Connection]:
    """A transaction that always rolls back: run a change for its checks, keep nothing."""
    _begin_write(conn)
    try:
        yield conn
    finally:
        conn.written = None
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _begin_write(conn: Connection) -> None:
    """One writing transaction at a time, taken at its start: the domain code reads, then
    writes what it read, and must not interleave with another writer (so it may know the
    rows it writes without reading them back: store.written)."""
    if is_postgres(conn):
        conn.begin_write()
    else:
        conn.execute("BEGIN IMMEDIATE")
    conn.written = Written()


def written_of(conn: Connection, what: str) -> Written:
    """The writing transaction's knowledge of its rows (store.written); `what` (a read
    ahead, a numbered row) is refused outside one."""
    if conn.written is None:
        raise RuntimeError(f"{what} only in a writing transaction")
    return conn.written


def close_quietly(conn: Connection | None) -> None:
    """Close a connection the database may already have broken (before connecting anew):
    its failure to close is no news."""
    if conn is not None:
        with contextlib.suppress(*db_errors()):
            conn.close()


@contextmanager
def snapshot(conn: Connection) -> Iterator[Connection]:
    """A read-only transaction: everything read in it is one consistent state."""
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if is_postgres(conn)
                 else "BEGIN")  # fmt: skip
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
