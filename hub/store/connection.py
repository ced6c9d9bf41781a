"""Connecting, the schema and its migrations, transactions: where the hub's database shows
most.

The query modules of `hub.store` take the connection made here. A second backend changes
this module first; the SQLite SQL still in the query modules is listed in
docs/architecture.md ("The hub's SQL").
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = (Path(__file__).parent.parent / "schema.sql").read_text()


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, durable commits."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


# A ledger made by an older hub is brought up to date when the new one starts (after
# `scripts/update`): each step runs once, in order, on a ledger whose `user_version` is
# below its number, before schema.sql (which then adds what is new, and whose indexes may
# need the step's columns). A new ledger is made at the latest version by schema.sql and
# skips them. A released step is never edited: add the next one.
MIGRATIONS: list[tuple[int, str]] = [
    (1, "ALTER TABLE sku_activity ADD COLUMN pick_location TEXT"),
    (2, "ALTER TABLE dead_letters ADD COLUMN source TEXT NOT NULL DEFAULT ''"),
    (3, "ALTER TABLE dead_letters ADD COLUMN size INTEGER NOT NULL DEFAULT 0"),
    (4, "ALTER TABLE dead_letters ADD COLUMN digest TEXT NOT NULL DEFAULT ''"),
    (5, "ALTER TABLE dead_letters ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1"),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def create_schema(conn: sqlite3.Connection) -> None:
    """Make the ledger's tables, or bring an older ledger's up to date."""
    fresh = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'movements'").fetchone()
    version = SCHEMA_VERSION if fresh is None else schema_version(conn)
    steps = "".join(f"{sql};\n" for number, sql in MIGRATIONS if number > version)
    # One transaction: in autocommit each of the ~80 statements was its own durable
    # commit (an fsync each), most of the hub's start-up and of every test's set-up.
    conn.executescript(
        f"BEGIN IMMEDIATE;\n{steps}{SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"
    )


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        # SQLite has already rolled back after some errors (SQLITE_FULL): a second ROLLBACK
        # would fail and hide the real error.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def rehearsal(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A transaction that always rolls back: run a change for its checks, keep nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
