"""The demo: broker, hub and two simulated stations, and a packer and a receiver at work.

The stations are the real `python -m station` processes; their scanners are pseudo-
terminals this script types into, as a serial scanner would. Run it with `scripts/demo`.
"""

import argparse
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import tty
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub import brokerconf  # noqa: E402

SITE = "demo"
TOKEN = "demo"
WEB_USER, WEB_PASSWORD = "supervisor", "demo"

PRODUCTS = [
    ("MUG-WHT", "Mug, white, 350 ml", "4006381333931", 340),
    ("MUG-BLK", "Mug, black, 350 ml", "4006381333948", 340),
    ("TEA-EARL", "Earl Grey, 100 bags", "5012345678900", 210),
    ("TEA-GRN", "Green tea, 50 bags", "5012345678917", 120),
    ("SPOON-S", "Teaspoon, steel", "7622210449283", 25),
    ("COAST-4", "Coasters, set of 4", "8712345678906", 160),
    ("KETTLE-1", "Kettle, 1.7 l", "4015000961234", 1150),
    ("FILTER-P", "Paper filters, 100", "4311501234567", 90),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing came up on port {port}")


class Scanner:
    """The typing end of a pseudo-terminal the station reads as its serial scanner."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def scan(self, code: str) -> None:
        os.write(self.master, code.encode() + b"\r")


class Demo:
    def __init__(self, var: Path, web_port: int, broker_port: int, pace: float) -> None:
        self.var = var
        self.web_port = web_port
        self.broker_port = broker_port
        self.pace = pace
        self.children: list[subprocess.Popen] = []
        self.passwords: dict[str, str] = {}
        self.rng = random.Random()

    # --- processes ----------------------------------------------------------------
    def start(self) -> None:
        self.var.mkdir(parents=True, exist_ok=True)
        self._broker()
        self._hub()
        self.pack = self._station("pack-1", "pack")
        self.dock = self._station("dock-1", "receive")
        print(f"web:    http://127.0.0.1:{self.web_port}/   (log in as {WEB_USER} / "
              f"{WEB_PASSWORD})", flush=True)  # fmt: skip
        print(f"broker: mqtt://127.0.0.1:{self.broker_port}", flush=True)
        print(f"api token: {TOKEN}   (curl -H 'Authorization: Bearer {TOKEN}' "
              f"http://127.0.0.1:{self.web_port}/api/stations)", flush=True)  # fmt: skip
        print(f"watch:  mosquitto_sub -p {self.broker_port} -u observer_demo "
              f"-P {self.passwords['observer_demo']} -t 'wh/v1/#' -v", flush=True)  # fmt: skip
        print(f"logs:   {self.var}/*.log    (Ctrl-C stops everything)", flush=True)

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.var / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        child = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=log, env=env,
                                 start_new_session=True)  # fmt: skip
        self.children.append(child)
        return child

    def _broker(self) -> None:
        layout = brokerconf.BrokerLayout(self.var / "broker", port=self.broker_port)
        brokerconf.write_config(layout, run_as_root=os.geteuid() == 0)
        for name, role in (("hub", "hub"), ("pack-1", "station"), ("dock-1", "station"),
                           ("observer_demo", "reader")):  # fmt: skip
            password = self._password(name)
            brokerconf.add_user(layout, name, password, role)
        self._spawn("mosquitto", ["mosquitto", "-c", str(layout.conf)])
        wait_for_port(self.broker_port)

    def _password(self, name: str) -> str:
        """Stable across restarts of the demo, so the stations' configs stay valid."""
        path = self.var / "secrets.json"
        known = json.loads(path.read_text()) if path.exists() else {}
        known.setdefault(name, secrets.token_urlsafe(12))
        path.write_text(json.dumps(known))
        self.passwords[name] = known[name]
        return known[name]

    def _hub(self) -> None:
        config = self.var / "hub.toml"
        config.write_text(
            f'[hub]\nsite = "{SITE}"\ndata_dir = "{self.var / "hub"}"\n'
            f'[mqtt]\nport = {self.broker_port}\nusername = "hub"\n'
            f'password = "{self._password("hub")}"\n'
            f"[web]\nport = {self.web_port}\n"
            f'[api]\ntokens = ["{TOKEN}"]\n'
        )
        self._web_user(config)
        self._spawn("hub", [sys.executable, "-m", "hub", "run", "--config", str(config)])
        wait_for_port(self.web_port)

    def _web_user(self, config: Path) -> None:
        """The demo's supervisor login, made with the same CLI an operator would use."""
        base = [sys.executable, "-m", "hub", "user"]
        listed = subprocess.run([*base, "list", "--config", str(config)], cwd=ROOT,
                                capture_output=True, text=True, check=True)  # fmt: skip
        if not any(line.split("\t")[0] == WEB_USER for line in listed.stdout.splitlines()):
            subprocess.run([*base, "add", WEB_USER, "--role", "supervisor", "--password-stdin",
                            "--config", str(config)], cwd=ROOT, input=WEB_PASSWORD + "\n",
                           text=True, check=True, capture_output=True)  # fmt: skip

    def _station(self, name: str, mode: str) -> Scanner:
        scanner = Scanner()
        config = self.var / f"{name}.toml"
        config.write_text(
            f'[station]\nid = "{name}"\nsite = "{SITE}"\nmode = "{mode}"\n'
            f'data_dir = "{self.var / name}"\n'
            f'[mqtt]\nport = {self.broker_port}\nusername = "{name}"\n'
            f'password = "{self.passwords[name]}"\n'
            f"[kiosk]\nport = {free_port()}\n"
            f'[[scanners]]\nname = "hand"\nkind = "serial"\nport = "{scanner.path}"\n'
        )
        self._spawn(name, [sys.executable, "-m", "station", "run", "--config", str(config)])
        return scanner

    def stop(self) -> None:
        """Stations first, then the hub, then the broker: each says goodbye to the next."""
        for child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()

    # --- the workload ---------------------------------------------------------------
    def api(self, method: str, path: str, body: object = None) -> object:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.web_port}{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def seed(self) -> None:
        self.api("POST", "/api/products", [
            {"sku": sku, "name": name, "gtins": [{"gtin": gtin}], "unit_weight_g": str(grams)}
            for sku, name, gtin, grams in PRODUCTS
        ])  # fmt: skip

    def work(self) -> None:
        number = int(time.time()) % 100000
        while True:
            number += 1
            self.pack_one_order(f"SO-{number}")

    def pack_one_order(self, order: str) -> None:
        lines = self.rng.sample(PRODUCTS, self.rng.randint(1, 3))
        qty = {sku: self.rng.randint(1, 3) for sku, *_ in lines}
        self.api("POST", "/api/orders", {
            "order": order, "lines": [{"sku": sku, "qty": q} for sku, q in qty.items()],
        })  # fmt: skip
        time.sleep(2 * self.pace)  # the retained order reaches the station
        self.pack.scan(order)
        for sku, _name, gtin, _grams in lines:
            for _ in range(qty[sku]):
                time.sleep(self.pace)
                if self.rng.random() < 0.08:  # the wrong item, caught at the bench
                    wrong = self.rng.choice([p for p in PRODUCTS if p[0] not in qty])
                    self.pack.scan(wrong[2])
                    time.sleep(self.pace)
                self.pack.scan(gtin)
        time.sleep(3 * self.pace)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--web-port", type=int, default=8080)
    parser.add_argument("--broker-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--var", type=Path, default=ROOT / "var" / "demo")
    parser.add_argument("--pace", type=float, default=0.7, help="seconds between scans")
    args = parser.parse_args()
    demo = Demo(args.var, args.web_port, args.broker_port or free_port(), args.pace)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        demo.start()
        demo.seed()
        demo.work()
    except KeyboardInterrupt:
        pass
    except (urllib.error.URLError, OSError) as exc:
        print(f"demo stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
