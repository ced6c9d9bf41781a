"""The last step of scripts/check-pi-install: the broker, hub and station that the
installers put into two arm64 roots, started by hand as their units would start them (no
systemd runs in a chroot), and one order scanned on a pseudo-terminal serial scanner
through to a shipment in the hub's ledger. Standard library only: it runs on the host.

  python3 scripts/lib/pi_check.py --hub-root DIR --station-root DIR
"""

import argparse
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
import tty
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

OPT = "/opt/warehouse/current"
SETTINGS_TOOL = f"{OPT}/scripts/lib/toml_settings.py"
BROKER_CONF = "/etc/warehouse/mosquitto/mosquitto.conf"
CHECK_BROKER_CONF = "/etc/warehouse/mosquitto/check.conf"
# Emulated arm64 Python starts in tens of seconds, not one.
START_TIMEOUT_S = 300.0
SCAN_TIMEOUT_S = 180.0
PRODUCT = {"sku": "PI-CHECK", "name": "Pi check", "gtins": [{"gtin": "4006381333931"}]}
ORDER = {"order": "SO-PI-CHECK", "lines": [{"sku": "PI-CHECK", "qty": 1}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.5)


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Pi:
    """One arm64 root, as a machine: commands run chrooted with a clean environment."""

    root: Path

    def command(self, *args: str, user: str | None = None, cwd: str = "/") -> list[str]:
        inner = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
                 f"PYTHONPATH={OPT}", "PYTHONUNBUFFERED=1", *args]  # fmt: skip
        if user:
            inner = ["runuser", "-u", user, "--", *inner]
        return ["chroot", str(self.root), "sh", "-c", 'cd "$1" && shift && exec "$@"', "sh",
                cwd, *inner]  # fmt: skip

    def run(self, *args: str) -> None:
        subprocess.run(self.command(*args), check=True)

    def set_keys(self, config: str, *settings: str) -> None:
        """Set keys with the installed tool, as a technician would edit the file."""
        pairs = [arg for setting in settings for arg in ("--set", setting)]
        self.run("python3", SETTINGS_TOOL, config, *pairs)

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")


@dataclass
class Started:
    name: str
    process: subprocess.Popen
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{self.text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(name: str, command: list[str], log: Path) -> Started:
    print(f"starting {name}: {' '.join(command)}", flush=True)
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    return Started(name, process, log)


class Api:
    def __init__(self, port: int, token: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.token = token

    def call(self, method: str, path: str, body: object = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.loads(reply.read())


def broker_config(hub: Pi, port: int) -> None:
    """The installed broker config, listening on a free loopback port instead of 1883."""
    text = hub.path(BROKER_CONF).read_text()
    text, found = re.subn(r"(?m)^listener 1883\b.*$", f"listener {port} 127.0.0.1", text)
    if found != 1:
        raise RuntimeError(f"no `listener 1883` line in the installed {BROKER_CONF}")
    hub.path(CHECK_BROKER_CONF).write_text(text)


def open_pty_for(station: Pi, user: str) -> tuple[int, str]:
    """A pty whose far end the station's user opens, as it would a USB serial scanner."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    path = os.ttyname(slave)
    passwd = station.path("/etc/passwd").read_text().splitlines()
    uid = next(int(line.split(":")[2]) for line in passwd if line.startswith(f"{user}:"))
    os.chown(path, uid, -1)
    return master, path


def station_config(station: Pi, broker_port: int, scanner: str) -> None:
    config = "/etc/warehouse/station.toml"
    station.set_keys(config, 'mqtt.host="127.0.0.1"', f"mqtt.port={broker_port}",
                     "mqtt.reconnect_max_s=2.0", f"kiosk.port={free_port()}",
                     # The note install-station printed: plain Debian has no lgpio.
                     'feedback.pin_factory="none"')  # fmt: skip
    with station.path(config).open("a") as out:
        out.write(f'\n[[scanners]]\nname = "check"\nkind = "serial"\nport = "{scanner}"\n')


def cached_order(station: Pi) -> bool:
    path = station.path("/var/lib/warehouse-station/cache.db")
    if not path.exists():
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        topic = f"%/orders/{ORDER['order']}"
        query = "SELECT count(*) FROM retained WHERE kind = 'orders' AND topic LIKE ?"
        return conn.execute(query, (topic,)).fetchone()[0] > 0
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def shipped(api: Api) -> list[dict]:
    movements = api.call("GET", "/api/movements?limit=20")["movements"]
    return [m for m in movements if m["type"] == "shipment" and m["sku"] == PRODUCT["sku"]]


def check(hub: Pi, station: Pi, logs: Path) -> None:
    broker_port, web_port = free_port(), free_port()
    broker_config(hub, broker_port)
    hub.set_keys("/etc/warehouse/hub.toml", f"mqtt.port={broker_port}", f"web.port={web_port}",
                 'web.host="127.0.0.1"')  # fmt: skip
    token = tomllib.loads(hub.path("/etc/warehouse/hub.toml").read_text())["api"]["tokens"][0]
    master, scanner = open_pty_for(station, "warehouse")
    station_config(station, broker_port, scanner)
    started: list[Started] = []
    try:
        broker = start("mosquitto", hub.command("/usr/sbin/mosquitto", "-c", CHECK_BROKER_CONF),
                       logs / "mosquitto.log")  # fmt: skip
        started.append(broker)
        wait_until(lambda: broker.alive() or listening(broker_port), 60, "the broker")
        hub_run = hub.command(f"{OPT}/venv/bin/python", "-m", "hub", "run", "--config",
                              "/etc/warehouse/hub.toml", user="warehouse",
                              cwd="/var/lib/warehouse-hub")  # fmt: skip
        hub_process = start("hub", hub_run, logs / "hub.log")
        started.append(hub_process)
        wait_until(lambda: hub_process.alive() or "hub subscribed" in hub_process.text(),
                   START_TIMEOUT_S, "the hub's subscriptions")  # fmt: skip
        api = Api(web_port, token)
        api.call("POST", "/api/products", [PRODUCT])
        api.call("POST", "/api/orders", ORDER)
        station_run = station.command(f"{OPT}/venv/bin/python", "-m", "station", "run",
                                      "--config", "/etc/warehouse/station.toml",
                                      user="warehouse", cwd="/var/lib/warehouse-station")  # fmt: skip
        station_process = start("station", station_run, logs / "station.log")
        started.append(station_process)
        wait_until(lambda: station_process.alive() or "device check: ready" in
                   station_process.text(), START_TIMEOUT_S, "the station's scanner open")  # fmt: skip
        wait_until(lambda: station_process.alive() or cached_order(station), SCAN_TIMEOUT_S,
                   "the order cached on the station")  # fmt: skip
        for code in ["OP:pi-check", ORDER["order"], PRODUCT["gtins"][0]["gtin"]]:
            os.write(master, code.encode() + b"\r")
        moved = wait_until(lambda: station_process.alive() or shipped(api), SCAN_TIMEOUT_S,
                           "the shipment in the hub's ledger")  # fmt: skip
        print(f"in the ledger: {json.dumps(moved)}")
    except Exception:
        for process in started:
            print(f"--- {process.name} log ---\n{process.text()[-4000:]}", file=sys.stderr)
        raise
    finally:
        for process in reversed(started):
            process.stop()
        os.close(master)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hub-root", type=Path, required=True)
    parser.add_argument("--station-root", type=Path, required=True)
    args = parser.parse_args(argv)
    logs = args.hub_root.parent / "logs"
    logs.mkdir(exist_ok=True)
    try:
        check(Pi(args.hub_root), Pi(args.station_root), logs)
    except (TimeoutError, RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"pi_check: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
