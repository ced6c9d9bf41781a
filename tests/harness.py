"""Real processes for end-to-end tests: the hub and stations as `python -m ...` children
(their scanner: the serial scanner's twin on a pseudo-terminal). No project module is
mocked."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub import store
from kit import children
from kit.ports import free_port, wait_for_port
from kit.waiting import wait_until
from station.drivers.sim.serial_scanner import SimSerialScanner
from tests.broker import Broker
from tests.postgres import ledger_target

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token-of-the-harness"
# Tests cut and restore links all the time: a client that backed off to the default 10 s
# would leave most of a scenario's time to waiting, not to what is tested.
RECONNECT_MAX_S = 1.0


@dataclass
class Process:
    """A child process with its own config file and log."""

    name: str
    args: list[str]
    log_path: Path
    process: subprocess.Popen | None = None
    log_from: int = 0
    env: dict[str, str] = field(default_factory=dict)  # on top of this process's own

    def start(self) -> None:
        self.log_from = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **self.env}
        self.process = children.start([sys.executable, *self.args], cwd=ROOT, stdout=log,
                                      stderr=log, env=env)  # fmt: skip

    def kill(self) -> None:
        """SIGKILL: no chance to flush or say goodbye (a pulled plug for the process)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_since_start(self) -> str:
        """What the current run has logged (the file collects every restart)."""
        with open(self.log_path, "rb") as f:
            f.seek(self.log_from)
            return f.read().decode(errors="replace")


@dataclass
class Hub:
    dir: Path
    broker: Broker
    password: str
    web_port: int = field(default_factory=free_port)
    proc: Process | None = None
    extra_config: str = ""  # more TOML sections
    web_config: str = ""  # more keys of [web]
    env: dict[str, str] = field(default_factory=dict)  # e.g. systemd's NOTIFY_SOCKET
    site: str = "test"
    username: str = "hub"  # its user on the broker (each ingest worker is its own)
    hub_config: str = ""  # more keys of [hub]
    role: str = "all"  # `python -m hub run --role`
    data_dir: Path | None = None  # shared by the processes of one hub (default: dir/data)
    ingest_config: str = ""  # more keys of [ingest]

    @property
    def config_path(self) -> Path:
        return self.dir / "hub.toml"

    @property
    def data_path(self) -> Path:
        return self.data_dir or self.dir / "data"

    @property
    def db_path(self) -> Path:
        return self.data_path / "ledger.db"

    @property
    def database(self) -> str:
        """The hub's ledger on this run's backend (tests.postgres): its SQLite file's path,
        or the URL of its PostgreSQL database."""
        return ledger_target(self.db_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def write_config(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            f'[hub]\nsite = "{self.site}"\ndata_dir = "{self.data_path}"\n{self.hub_config}'
            f'[mqtt]\nport = {self.broker.port}\nusername = "{self.username}"\n'
            f'password = "{self.password}"\nreconnect_max_s = {RECONNECT_MAX_S}\n'
            f"[web]\nport = {self.web_port}\n{self.web_config}"
            f'[api]\ntokens = ["{TOKEN}"]\n'
            f"[ingest]\nresync_after_s = 0.5\n{self.ingest_config}"
            f"{self._database_config()}{self.extra_config}"
        )

    def start(self) -> "Hub":
        self.write_config()
        args = ["-m", "hub", "run", "--config", str(self.config_path)]
        if self.role != "all":
            args += ["--role", self.role]
        self.proc = Process("hub", args, self.dir / "hub.log", env=self.env)
        self.proc.start()
        wait_for_port(self.web_port, timeout=60)
        if self.role == "web":
            return self
        # A test's first message must not beat the hub's subscription to the broker (a
        # station's uplink would resend it; a test client publishes once). The bound is
        # generous: a loaded CI machine has taken more than 20 s here.
        try:
            wait_until(lambda: "hub subscribed" in self.proc.log_since_start(), 60,
                       "the hub's subscriptions")  # fmt: skip
        except TimeoutError as e:
            raise TimeoutError(f"{e}; the hub logged:\n{self.proc.log_since_start()}") from e
        return self

    def _database_config(self) -> str:
        target = self.database
        return f'[database]\nurl = "{target}"\n' if target != str(self.db_path) else ""

    def kill(self) -> None:
        self.proc.kill()

    def stop(self) -> None:
        self.proc.stop()

    def api(self, method: str, path: str, body: Any = None, token: str | None = TOKEN) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def health(self) -> tuple[int, dict]:
        """`/healthz`'s status and body: 200 or 503, with what stalled."""
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=10) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = store.connect(self.database)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


@dataclass
class Station:
    dir: Path
    broker: Broker
    station_id: str
    password: str
    scanner: SimSerialScanner
    mode: str = "pack"
    extra_config: str = ""
    station_config: str = ""  # more keys of [station]
    kiosk_port: int = 0  # give a free port to read the station's screen with `snapshot()`
    proc: Process | None = None
    site: str = "test"
    # Set while the scanner port is open: a packer waits for a dark screen to come back.
    up: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def config_path(self) -> Path:
        return self.dir / "station.toml"

    @property
    def journal_path(self) -> Path:
        return self.dir / "data" / "journal.db"

    def start(self, wait: bool = True) -> "Station":
        """Start the station; with `wait`, return once its scanner port is open.

        Codes typed before that are gone, as they are at a real bench: pyserial's open()
        flushes what the port had queued (and a USB scanner's tty keeps nothing while closed).
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            f'[station]\nid = "{self.station_id}"\nsite = "{self.site}"\nmode = "{self.mode}"\n'
            f'data_dir = "{self.dir / "data"}"\n{self.station_config}'
            f'[mqtt]\nport = {self.broker.port}\nusername = "{self.station_id}"\n'
            f'password = "{self.password}"\nresend_after_s = 1.0\n'
            f"reconnect_max_s = {RECONNECT_MAX_S}\n"
            f"[kiosk]\nport = {self.kiosk_port}\n"
            f'[[scanners]]\nname = "hand"\nkind = "serial"\nport = "{self.scanner.path}"\n'
            f"{self.extra_config}"
        )
        self.proc = Process(self.station_id,
                            ["-m", "station", "run", "--config", str(self.config_path)],
                            self.dir / "station.log")  # fmt: skip
        self.proc.start()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        """Until the scanner is open (the supervisor logs "device hand: ready")."""

        def ready() -> bool:
            if not self.proc.running:
                raise RuntimeError(f"{self.station_id} exited:\n{self.proc.log_since_start()}")
            return "device hand: ready" in self.proc.log_since_start()

        wait_until(ready, timeout, f"{self.station_id}'s scanner open")
        self.up.set()

    def kill(self) -> None:
        self.up.clear()
        self.proc.kill()

    def stop(self) -> None:
        self.up.clear()
        self.proc.stop()

    def journal(self) -> list[tuple[int, str]]:
        """(seq, type) of every journaled event, read from the real journal file."""
        if not self.journal_path.exists():
            return []
        conn = sqlite3.connect(self.journal_path, timeout=10)
        try:
            return conn.execute("SELECT seq, type FROM journal ORDER BY seq").fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            conn.close()

    def cached(self, kind: str, key: str | None = None) -> int:
        """How many retained messages of `kind` (orders, purchase-orders, catalog,
        count-tasks), or of the one `key`, the station has in its cache file."""
        path = self.dir / "data" / "cache.db"
        if not path.exists():
            return 0
        pattern = f"%/{kind}/{key}" if key is not None else "%"
        conn = sqlite3.connect(path, timeout=5)
        try:
            return conn.execute(
                "SELECT count(*) FROM retained WHERE kind = ? AND topic LIKE ?", (kind, pattern)
            ).fetchone()[0]
        except sqlite3.OperationalError:
            return 0
        finally:
            conn.close()

    def snapshot(self) -> dict:
        """What the station's kiosk screen shows now ({} until the kiosk answers)."""
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.kiosk_port}/snapshot", timeout=5
            ) as reply:
                return json.loads(reply.read())["snapshot"]
        except (urllib.error.URLError, ConnectionError):
            return {}

    def epoch(self) -> str:
        conn = sqlite3.connect(self.journal_path, timeout=10)
        try:
            return conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0]
        finally:
            conn.close()
