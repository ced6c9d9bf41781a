"""`python -m hub migrate-db --from LEDGER.db --to postgresql://...`: move a site's ledger
from its SQLite file to PostgreSQL (docs/scaling.md), with the hub stopped.

Every table of the file is copied as it is, whatever tables schema.sql holds by then, in
one transaction (a failure leaves the PostgreSQL database as it was); the id sequences go
on after the highest id the file ever gave; then the tables are analyzed. Afterwards both are checked (`hub check`) and
compared: row counts of every table, every balance, every cost layer and every open order
must be equal, or the command says what differs and exits 1.
"""

import json
import sqlite3
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hub import store
from hub.check import check

# The rows a site runs on, compared after the copy (sorted in Python: the two databases
# may sort text differently).
COMPARED = {
    "balances": "SELECT sku, location, lot, owner, qty FROM balances",
    "cost layers": "SELECT id, sku, location, lot, movement_id, received, qty_in, qty_left, "
    "unit_cost, kind FROM cost_layers WHERE qty_left != 0",
    "open orders": "SELECT order_id, status, data, created, updated FROM orders "
    "WHERE closed IS NULL",
    "open order lines": "SELECT order_id, line, sku, qty, shipped, short, kit, role, supplier, "
    "po FROM order_lines WHERE open = 1",
    "stock value": "SELECT coalesce(sum(value_delta), 0) FROM daily_totals",
}


class MigrateError(Exception):
    """One line for the operator."""


@dataclass
class Outcome:
    tables: dict[str, int] = field(default_factory=dict)  # rows copied per table
    differences: list[str] = field(default_factory=list)
    source_ok: bool = False
    target_ok: bool = False

    @property
    def ok(self) -> bool:
        return self.source_ok and self.target_ok and not self.differences


def migrate(source_path: Path, url: str) -> Outcome:
    if not source_path.is_file():
        raise MigrateError(f"{source_path}: no ledger file")
    if not store.is_postgres_url(url):
        raise MigrateError(f"--to {url!r}: not a postgresql:// URL")
    source = store.connect(source_path)
    target = store.connect(url)
    try:
        store.create_schema(source)  # an older hub's file: brought up to date, as at start
        store.create_schema(target)
        outcome = Outcome()
        with store.transaction(target):
            _check_empty(target, _tables(source))
            for table in _tables(source):
                outcome.tables[table] = _copy_table(source, target, table)
            _continue_sequences(source, target)
        # Statistics now, not at autovacuum's first look: without them PostgreSQL plans the
        # hub's first batches and pages as if each table were a few pages long (an alert
        # key's look-up then reads every open alert).
        target.execute("ANALYZE")
        outcome.source_ok = check(source).ok
        outcome.target_ok = check(target).ok
        outcome.differences = _differences(source, target, outcome.tables)
        return outcome
    finally:
        source.close()
        target.close()


def _tables(source: sqlite3.Connection) -> list[str]:
    """The ledger's tables in the order they were made (a referenced table comes first)."""
    rows = source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY rowid"
    )
    return [row[0] for row in rows]


def _check_empty(target: store.Connection, tables: list[str]) -> None:
    for table in tables:
        if target.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
            raise MigrateError(f"the PostgreSQL database already holds rows ({table}): "
                               "migrate into a new, empty database")  # fmt: skip


def _columns(source: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """(name, declared type) of each column."""
    return [(row[1], row[2].upper()) for row in source.execute(f"PRAGMA table_info({table})")]


def _convert(value, declared: str):
    """A value as its PostgreSQL column takes it: SQLite keeps what it was given, so a
    BLOB column may hold text and an INTEGER column a whole float."""
    if value is None:
        return None
    if declared == "BLOB":
        return value.encode() if isinstance(value, str) else value
    if declared == "TEXT" and isinstance(value, bytes):
        return value.decode()
    if declared == "INTEGER" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _copy_table(source: sqlite3.Connection, target: store.Connection, table: str) -> int:
    columns = _columns(source, table)
    names = ", ".join(f'"{name}"' for name, _ in columns)
    rows = source.execute(f"SELECT {names} FROM {table}")
    copied = 0
    with target.raw.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_convert(v, t) for v, (_, t) in zip(row, columns, strict=True)])
            copied += 1
    return copied


def _continue_sequences(source: sqlite3.Connection, target: store.Connection) -> None:
    """Each identity column goes on after the highest id used: in the table, or (for an
    AUTOINCREMENT table such as the outbox) ever given, as SQLite's sqlite_sequence says."""
    ever = dict(source.execute("SELECT name, seq FROM sqlite_sequence").fetchall()
                if source.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")
                .fetchone() else [])  # fmt: skip
    identities = target.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    ).fetchall()
    for table, column in identities:
        highest = target.execute(f"SELECT coalesce(max({column}), 0) FROM {table}").fetchone()[0]
        after = max(highest, ever.get(table, 0))
        target.execute(
            "SELECT setval(pg_get_serial_sequence(?, ?), ?, false)", (table, column, after + 1)
        )


def _differences(
    source: store.Connection, target: store.Connection, copied: dict[str, int]
) -> list[str]:
    found = []
    for table, rows in copied.items():
        there = target.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        if there != rows:
            found.append(f"{table}: {rows} rows in the file, {there} in PostgreSQL")
    for what, query in COMPARED.items():
        mine = sorted((tuple(row) for row in source.execute(query).fetchall()), key=repr)
        theirs = sorted((tuple(row) for row in target.execute(query).fetchall()), key=repr)
        if mine != theirs:
            found.append(f"{what} differ")
    return found


def main(source: str, url: str) -> int:
    try:
        outcome = migrate(Path(source), url)
    except (MigrateError, *store.db_errors()) as exc:
        print(f"hub migrate-db: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"ok": outcome.ok, **asdict(outcome)}, indent=2))
    return 0 if outcome.ok else 1
