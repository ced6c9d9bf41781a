"""The real parts the benchmark runs: Mosquitto with the project's generated config, the
hub and stations as `python -m ...` processes, and the events simulated stations send."""

import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from hub import brokerconf
from kit.ports import free_port, wait_for_port
from kit.waiting import wait_until
from protocol.envelope import encode_event
from protocol.events import Receipt, Scan

ROOT = Path(__file__).resolve().parents[2]
SITE = "bench"
TOKEN = "bench-token-of-the-runs"
HUB_PASSWORD = "hub-secret"
# What a hub has applied once its outbox is empty (everything its events publish is out),
# else 0: the bare hubs publish their ack in the turn of their commit, and under a flood a
# hub's outbox runs behind its ledger. The same SQL on both backends.
SETTLED_SQL = ("SELECT CASE WHEN EXISTS (SELECT 1 FROM outbox) THEN 0 "
               "ELSE coalesce(sum(applied), 0) END FROM cursors")  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far: on a shared machine a steadier
    measure of its work than the wall-clock time, which other processes stretch."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def station_ids(count: int) -> list[str]:
    return [f"st-{i:03d}" for i in range(1, count + 1)]


def station_password(station: str) -> str:
    return f"pw-{station}"


class Broker:
    """Mosquitto on a free loopback port, configured by hub/brokerconf.py as in production."""

    def __init__(self, dir: Path, stations: list[str], extra_hubs: tuple[str, ...] = ()) -> None:
        self.layout = brokerconf.BrokerLayout(dir=dir, port=free_port(), site=SITE)
        brokerconf.write_config(self.layout, run_as_root=os.geteuid() == 0,
                                log_file=dir / "mosquitto.log")  # fmt: skip
        for name in ("hub", *extra_hubs):
            brokerconf.add_user(self.layout, name, HUB_PASSWORD, "hub")
        for station in stations:
            brokerconf.add_user(self.layout, station, station_password(station), "station")
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.layout.conf)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    @property
    def port(self) -> int:
        return self.layout.port

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class Child:
    """A `python ...` child process with its own log file."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log_path = log
        self._log_from = log.stat().st_size if log.exists() else 0  # a restart appends
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        with open(log, "ab") as out:
            self.started = time.monotonic()
            self.process = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=out,
                                            stderr=out, env=env)  # fmt: skip

    def log(self) -> str:
        """What this run of the process has logged."""
        with open(self.log_path, "rb") as f:
            f.seek(self._log_from)
            return f.read().decode(errors="replace")

    def wait_log(self, pattern: str, timeout: float = 30.0) -> re.Match:
        def found():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.log_path.name}: exited early:\n{self.log()[-2000:]}")
            return re.search(pattern, self.log())

        return wait_until(found, timeout, f"{pattern!r} in {self.log_path}", step=0.005)

    def peak_rss_mb(self) -> float:
        """VmHWM: the most resident memory the process has had so far."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kib = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
        return kib / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class HubProcess(Child):
    def __init__(self, dir: Path, broker: Broker, data_dir: Path | None = None) -> None:
        dir.mkdir(parents=True, exist_ok=True)
        self.dir = dir
        self.data_dir = data_dir or dir / "data"
        self.web_port = free_port()
        config = dir / "hub.toml"
        config.write_text(
            f'[hub]\nsite = "{SITE}"\ndata_dir = "{self.data_dir}"\n'
            f'[mqtt]\nport = {broker.port}\nusername = "hub"\npassword = "{HUB_PASSWORD}"\n'
            f"[web]\nport = {self.web_port}\n"
            f'[api]\ntokens = ["{TOKEN}"]\n'
        )
        super().__init__(["-m", "hub", "run", "--config", str(config)], dir / "hub.log")
        wait_for_port(self.web_port, timeout=60)
        self.wait_log("hub connected")

    @property
    def db_path(self) -> Path:
        return self.data_dir / "ledger.db"

    def applied_total(self) -> int:
        """Events applied, over all stations (the cursors table: a few rows, cheap to read)."""
        conn = sqlite3.connect(self.db_path, timeout=10)
        try:
            return conn.execute("SELECT coalesce(sum(applied), 0) FROM cursors").fetchone()[0]
        finally:
            conn.close()

    def settled_total(self) -> int:
        """`applied_total` once the outbox is empty, else 0 (SETTLED_SQL)."""
        conn = sqlite3.connect(self.db_path, timeout=10)
        try:
            return conn.execute(SETTLED_SQL).fetchone()[0]
        finally:
            conn.close()


class StationProcess(Child):
    def __init__(self, dir: Path, broker: Broker, station: str, scanner_port: str) -> None:
        dir.mkdir(parents=True, exist_ok=True)
        config = dir / "station.toml"
        config.write_text(
            f'[station]\nid = "{station}"\nsite = "{SITE}"\ndata_dir = "{dir / "data"}"\n'
            f'[mqtt]\nport = {broker.port}\nusername = "{station}"\n'
            f'password = "{station_password(station)}"\n'
            f"[kiosk]\nport = 0\n"
            f'[[scanners]]\nname = "hand"\nkind = "serial"\nport = "{scanner_port}"\n'
        )
        super().__init__(["-m", "station", "run", "--config", str(config)], dir / "station.log")


# --- what simulated stations send ---------------------------------------------------------
def event_data(station_index: int, seq: int):
    """A pack bench's day in small: two scans for every receipt-sized movement.

    1,000 SKUs over 200 locations, so balances, stock messages and alerts all do work.
    """
    sku = f"SKU-{(station_index * 7919 + seq) % 1000:05d}"
    if seq % 3:
        return Scan(code=f"0400638{seq % 1000000:06d}", verdict="ok", mode="pack",
                    order=f"SO-{seq // 10}", sku=sku)  # fmt: skip
    return Receipt(sku=sku, qty=1 + seq % 5, location=f"A-{seq % 200:03d}")


def encoded_events(station: str, station_index: int, epoch: str, count: int) -> list[bytes]:
    ts = datetime.now(UTC)
    return [encode_event(station, epoch, seq, event_data(station_index, seq), ts)
            for seq in range(1, count + 1)]  # fmt: skip
