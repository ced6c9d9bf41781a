"""A PostgreSQL cluster of its own in a folder, for `scripts/demo --postgres` (under its
`--var`) and `scripts/bench` (its PostgreSQL rows): Debian's binaries
(/usr/lib/postgresql/*/bin), a Unix socket only (no TCP port to collide with a site's
server), durable commits as configured by default (fsync, synchronous_commit on). Started
again in the same folder, it finds the cluster and its database where it left them.

As root (initdb and the server refuse to run as root) the folder belongs to Debian's
`postgres` user, which must be able to reach it: the folder's parent (the demo's `--var`)
is then opened for traversal only (0711), and a folder above it that shuts `postgres` out
is named.
"""

import glob
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

DATABASE = "warehouse"


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError("PostgreSQL is not installed (scripts/demo --postgres "
                                "and scripts/bench install Debian's postgresql package)")  # fmt: skip
    return found[-1]


@dataclass
class FolderCluster:
    dir: Path  # e.g. <var>/postgres

    @property
    def socket_dir(self) -> Path:
        return self.dir / "socket"

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def user(self) -> str:
        """The cluster's superuser, the hub's user too: whoever runs it."""
        return "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.getuid()).pw_name

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@/{DATABASE}?host={self.socket_dir}"

    def start(self) -> "FolderCluster":
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._give_to_postgres()
        if not (self.data / "PG_VERSION").exists():
            # C.UTF-8: text sorts by code point, as on SQLite (docs/scaling.md).
            # trust: the socket is in a folder only this user (and root) can enter.
            self._run(pg_bin("initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust",
                      "--locale=C.UTF-8", "-E", "UTF8")  # fmt: skip
        options = f"-k {self.socket_dir} -c listen_addresses='' -c max_connections=100"
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.dir / "postgres.log"), "-w", "start")  # fmt: skip
        admin = f"postgresql://{self.user}@/postgres?host={self.socket_dir}"
        with psycopg.connect(admin, autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if found.fetchone() is None:
                conn.execute(f"CREATE DATABASE {DATABASE}")
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def _give_to_postgres(self) -> None:
        shutil.chown(self.dir, "postgres")
        shutil.chown(self.socket_dir, "postgres")
        self.dir.parent.chmod(0o711)
        for folder in [*reversed(self.dir.parents)]:
            reach = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x",
                                    str(folder)], check=False)  # fmt: skip
            if reach.returncode != 0:
                raise PermissionError(f"PostgreSQL's user `postgres` cannot reach {folder}: "
                                      "give it a folder (the demo's --var) it can pass through "
                                      f"(or chmod o+x {folder})")  # fmt: skip

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False,
                              cwd="/")  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
