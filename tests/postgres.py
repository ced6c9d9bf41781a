"""The hub's tests on PostgreSQL: `HUB_TEST_DB=postgresql` runs them against a real cluster
the test run starts itself (Debian's binaries, a temporary folder, a Unix socket), with a
fresh database for each ledger a test opens.

Tests name their ledger by a path, as on SQLite; `ledger_target(path)` gives the SQLite
path unchanged, or on PostgreSQL the URL of a database made for that path (a copy of a
template that already holds the schema: far faster than making the schema each time).

A database a test is done with is emptied and kept for the next one (`put_back`), unless
its shape is not the template's or it grew big: copying the template is copying its 579
files, 0.3-0.9 s on the CI's sandboxed file system, and a PostgreSQL pass makes over a
thousand ledgers; emptying one takes 70 ms.
"""

import contextlib
import functools
import glob
import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from hub import store

SWITCH = "HUB_TEST_DB"
# Set while the session's cluster runs: the admin URL of its `postgres` database.
ADMIN_URL = "HUB_TEST_PG_ADMIN"
TEMPLATE = "hub_template"


def enabled() -> bool:
    return os.environ.get(SWITCH, "sqlite") == "postgresql"


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (scripts/test installs it)")
    return found[-1]


PREFIX = "hub-test-pg-"
OWNER = "owner.pid"  # the test process that made the cluster


@dataclass
class Cluster:
    """A throw-away PostgreSQL cluster in a new folder. As root (the CI), its server runs as
    `postgres`, which Debian's package creates (initdb refuses to run as root): the folder
    is then in /tmp, where that user can reach it, not in pytest's private one."""

    dir: Path

    @classmethod
    def new(cls) -> "Cluster":
        """A cluster in a new folder of the temporary directory, after stopping and removing
        those whose test run is gone: a run killed before its clean-up (a timeout, ^C
        twice, SIGKILL) left its server running and its folder behind."""
        sweep_stale(Path(tempfile.gettempdir()))
        cluster = cls(Path(tempfile.mkdtemp(prefix=PREFIX)))
        (cluster.dir / OWNER).write_text(str(os.getpid()))
        return cluster

    @property
    def socket_dir(self) -> Path:
        return self.dir / "socket"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    def start(self) -> "Cluster":
        self.socket_dir.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        data = str(self.dir / "data")
        # C.UTF-8: text sorts by code point, as SQLite's does (keyset pages, sku ranges).
        self._run(pg_bin("initdb"), "-D", data, "-U", "postgres", "--auth=trust",
                  "--locale=C.UTF-8", "-E", "UTF8")  # fmt: skip
        # fsync off: a test's cluster is thrown away, never recovered after a power cut. A
        # commit still writes its WAL out of the server's memory before it returns
        # (synchronous_commit on, PostgreSQL's default): without the fsync that costs only
        # a write, and `restart` (an immediate stop, as a crash) then keeps every commit a
        # test or a hub was told of. With it off, one made within the WAL writer's 200 ms
        # of a restart was lost: a database's rename, a batch a hub had acked.
        options = (f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off "
                   "-c full_page_writes=off -c max_connections=200")  # fmt: skip
        self._run(pg_bin("pg_ctl"), "-D", data, "-o", options, "-l", str(self.dir / "log"),
                  "-w", "start")  # fmt: skip
        (self.dir / "options").write_text(options)
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {TEMPLATE}")
        conn = store.connect(self.url(TEMPLATE))
        store.create_schema(conn)
        conn.close()
        return self

    def database(self, name: str) -> str:
        """The URL of a new database `name` that holds the schema and no rows."""
        return new_database(self.url("postgres"), name)

    def restart(self) -> None:
        """Stop at once (every connection broken, as a crash would) and start again."""
        data = str(self.dir / "data")
        self._run(pg_bin("pg_ctl"), "-D", data, "-m", "immediate", "stop")
        self._run(pg_bin("pg_ctl"), "-D", data, "-o", (self.dir / "options").read_text(),
                  "-l", str(self.dir / "log"), "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._run(pg_bin("pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.dir)


def sweep_stale(parent: Path) -> list[Path]:
    """Stop the server of, and remove, each test cluster in `parent` whose owning process
    has ended; the folders removed. A folder naming no owner is left alone (another run may
    be making it right now)."""
    removed = []
    for folder in sorted(parent.glob(f"{PREFIX}*")):
        try:
            owner = int((folder / OWNER).read_text())
        except (OSError, ValueError):
            continue
        if alive(owner):
            continue
        if (folder / "data" / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                Cluster(folder).stop()
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, ended and not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def ledger_target(path: str | Path) -> str:
    """What a test's ledger at `path` is on this run's backend: the path itself, or the URL
    of a PostgreSQL database made for it (once: the same path gives the same database)."""
    admin_url = os.environ.get(ADMIN_URL)
    if admin_url is None:
        return str(path)
    if str(path) == ":memory:":
        # A new, empty ledger each time, as on SQLite: one database emptied again (what
        # property tests ask for hundreds of times; making a database takes most of a second).
        url = new_database(admin_url, "t_memory")
        _empty(url)
        return url
    key = str(Path(path).resolve())
    return new_database(admin_url, "t_" + hashlib.sha1(key.encode()).hexdigest()[:20])


def _empty(url: str) -> None:
    """Delete every row and restart every id, as in a database made from the template.
    Only the tables that hold rows and the ids that moved are touched: a test leaves most
    of the 72 tables empty, and a statement for each was most of a property example's time
    (found in one round trip: 54 -> 33 ms, the rest a new session's first look at each
    table)."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        tables = [name for (name,) in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname != 'hub_schema' "
            "ORDER BY c.oid DESC"  # made later first: a referencing table before its target
        )]  # fmt: skip
        filled = " UNION ALL ".join(
            f"SELECT {i} WHERE EXISTS (SELECT FROM {table})" for i, table in enumerate(tables)
        )
        for (i,) in conn.execute(filled + " ORDER BY 1").fetchall():
            conn.execute(f"DELETE FROM {tables[i]}")
        # An id never handed out reads as NULL, as after setval(..., 1, false).
        conn.execute(
            "SELECT setval(format('%I', sequencename), 1, false) FROM pg_sequences "
            "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
        )


def new_database(admin_url: str, name: str, template: str = TEMPLATE) -> str:
    """The URL of database `name`, made (once) as a copy of `template`, or of the schema's
    template an emptied one put back by an earlier test (FILE_COPY: a copy of the
    template's files, twice as fast as through the WAL for a small template)."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if exists.fetchone() is None and not (template == TEMPLATE and _take_kept(admin, name)):
            admin.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
    return _url(admin_url, name)


def _url(admin_url: str, name: str) -> str:
    return admin_url.replace("/postgres?", f"/{name}?")


KEPT = "kept_"  # the prefix of an emptied database waiting for its next test


def _take_kept(admin: psycopg.Connection, name: str) -> bool:
    """Whether a kept database was there and is now named `name`."""
    kept = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s LIMIT 1",
                         (KEPT.replace("_", "\\_") + "%",)).fetchone()  # fmt: skip
    if kept is None:
        return False
    admin.execute(f"ALTER DATABASE {kept[0]} RENAME TO {name}")
    return True


def test_databases() -> set[str]:
    return _databases("t\\_%")


def kept_databases() -> set[str]:
    return _databases(KEPT.replace("_", "\\_") + "%")


def _databases(like: str) -> set[str]:
    with psycopg.connect(os.environ[ADMIN_URL], autocommit=True) as admin:
        names = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (like,))
        return {name for (name,) in names.fetchall()}


# What makes a database the template's shape: its tables' columns and defaults, indexes,
# constraints, functions and triggers, and the schema version it records.
_SHAPE = """
SELECT md5(string_agg(item, E'\\n' ORDER BY item)) FROM (
    SELECT concat_ws(' ', c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod),
                     a.attnotnull, pg_get_expr(d.adbin, d.adrelid)) AS item
    FROM pg_class c
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
    WHERE c.relnamespace = current_schema()::regnamespace
    UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()
    UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
        WHERE connamespace = current_schema()::regnamespace
    UNION ALL SELECT proname || ' ' || md5(prosrc) FROM pg_proc
        WHERE pronamespace = current_schema()::regnamespace
    UNION ALL SELECT tgname FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT s::text FROM hub_schema s
) shape
"""
BIG = 32_000_000  # bytes over the template's: dead rows a later test would scan past


def put_back(names: set[str]) -> None:
    """Empty test databases and keep them for later tests; drop those a test changed the
    shape of or filled (each is some 10 MB of files)."""
    admin_url = os.environ[ADMIN_URL]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        template = _template_shape(admin_url)
        for name in names:
            # A hub the test SIGKILLed may have left a session on it.
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))  # fmt: skip
            if _keepable(admin, admin_url, name, template):
                _empty(_url(admin_url, name))
                if _keep(admin, name):
                    continue
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _keep(admin: psycopg.Connection, name: str) -> bool:
    """Renamed to wait for a later test; not when a session is still on it (the rename
    waits up to 5 s for ended ones to go, and ends autovacuum's)."""
    try:
        # A name of its own: one path's database (":memory:"'s) is put back many times.
        admin.execute(f"ALTER DATABASE {name} RENAME TO {KEPT}{secrets.token_hex(8)}")
    except psycopg.errors.ObjectInUse:
        return False
    return True


def _keepable(admin: psycopg.Connection, admin_url: str, name: str,
              template: str | None) -> bool:
    """Whether `name` has the template's shape and did not grow big."""
    size = admin.execute("SELECT pg_database_size(%s) - pg_database_size(%s)",
                         (name, TEMPLATE)).fetchone()[0]  # fmt: skip
    return template is not None and size <= BIG and _shape(_url(admin_url, name)) == template


@functools.cache  # the template never changes while its cluster runs
def _template_shape(admin_url: str) -> str | None:
    return _shape(_url(admin_url, TEMPLATE))


def _shape(url: str) -> str | None:
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute(_SHAPE).fetchone()[0]
    except psycopg.Error:  # no hub_schema (a test dropped it): not the template's shape
        return None
