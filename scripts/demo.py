"""The demo: broker, hub, a dock station and a pack station, a receiver and a packer at work.

The stations are the real `python -m station` processes. Their devices are this script's
twins at the operating-system boundary: serial scanners and a scale (MT-SICS) on pseudo-
terminals, loopback TCP printers (ESC/POS put-away slips at the dock, ZPL shipping labels
at the bench), and gpiozero's mock pins for buzzer, LEDs and button.

Stock flows as in a warehouse: when a product runs low the demo orders it from the
supplier through the hub's API; the receiver at the dock scans the purchase order, each
product's bin and its case (GS1 codes with lot and expiry for the teas), and the put-away
slip prints. The packer badges in, packs orders created through the API from the bins the
hub names on the kiosk (first expiry first) and puts the parcel on the scale; the
shipping label prints. Between jobs both stations count bins the hub sends them; the dock
takes a customer return now and then, and the bench builds a mug gift set
(scripts/lib/demo_returns.py). Both make every mistake the stations catch
(scripts/lib/demo_floor.py). Run it with
`scripts/demo`; `--tour` stops once every verdict has been seen (and fails if one was
not what the demo expected); `--seed N` replays a run's random choices (it prints its seed).
`--postgres` keeps the ledger in a PostgreSQL cluster the demo starts under its `--var`
(scripts/lib/pg_cluster.py) and runs the hub as several processes (docs/scaling.md): two
ingest workers sharing the stations and two web processes behind nginx on one address.
"""

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts" / "lib")]

from demo_floor import (  # noqa: E402
    PAR_LEVEL,
    PRODUCTS,
    REORDER_POINT,
    SAMPLER,
    SUPERVISOR,
    SUPPLIER,
    Bench,
    Shift,
    TourError,
)
from demo_returns import KIT_BIN, KitPacker, ReturnsReceiver, kit_record  # noqa: E402
from pg_cluster import FolderCluster  # noqa: E402

from hub import brokerconf  # noqa: E402
from hub.webproxy import WebProxy  # noqa: E402
from kit.nginx import Nginx  # noqa: E402
from kit.ports import free_port, wait_for_port  # noqa: E402

SITE = "demo"
TOKEN = "demo"
WEB_USER, WEB_PASSWORD = "supervisor", "demo"
# With --postgres: the hub's processes (docs/scaling.md, "Roles").
INGEST_WORKERS = 2
WEB_PROCESSES = 2


class Demo:
    def __init__(self, var: Path, web_port: int, broker_port: int, pace: float,
                 https_port: int | None = None, postgres: bool = False) -> None:  # fmt: skip
        self.var = var
        # With HTTPS, nginx answers on https_port and redirects web_port to it; the hub
        # itself listens on a free loopback port behind it. With --postgres, nginx answers
        # on web_port (plain HTTP) for the web processes, each on a free loopback port.
        self.https_port = https_port
        self.public_port = web_port
        self.web_port = free_port() if https_port or postgres else web_port
        self.more_web_ports = (
            tuple(free_port() for _ in range(WEB_PROCESSES - 1)) if postgres else ()
        )
        self.cluster = FolderCluster(var / "postgres") if postgres else None
        self.nginx: Nginx | None = None
        self.broker_port = broker_port
        self.pace = pace
        self.children: list[subprocess.Popen] = []
        self.benches: list[Bench] = []
        self.passwords: dict[str, str] = {}
        self.stopping = threading.Event()
        self.failed = False  # a worker stopped the demo on an error

    # --- processes ----------------------------------------------------------------
    def start(self) -> None:
        self._private_var()
        if self.cluster:
            self.cluster.start()
        self._broker()
        self._hub()
        self.seed()
        self.dock = self._station("dock-1", "receive", "slips", "escpos", "putaway")
        self.pack = self._station("pack-1", "pack", "parcel", "zpl", "shipping")
        api = f"http://127.0.0.1:{self.web_port}"
        web = f"{api}/"
        if self.https_port:
            self._web_proxy()
            web = (f"https://localhost:{self.https_port}/   (trust {self.var}/tls/ca.crt; "
                   f"http://127.0.0.1:{self.public_port}/ redirects there)")  # fmt: skip
        elif self.cluster:
            self._web_proxy()
            api = f"http://127.0.0.1:{self.public_port}"
            web = f"{api}/"
        print(f"web:    {web}   (log in as {WEB_USER} / {WEB_PASSWORD})", flush=True)
        print(f"broker: mqtt://127.0.0.1:{self.broker_port}", flush=True)
        print(f"kiosks: dock-1 http://127.0.0.1:{self.dock.kiosk_port}/   "
              f"pack-1 http://127.0.0.1:{self.pack.kiosk_port}/", flush=True)  # fmt: skip
        print(f"api token: {TOKEN}   (curl -H 'Authorization: Bearer {TOKEN}' "
              f"{api}/api/stations)", flush=True)  # fmt: skip
        print(f"watch:  mosquitto_sub -p {self.broker_port} -u observer_demo "
              f"-P {self.passwords['observer_demo']} -t 'wh/v1/#' -v", flush=True)  # fmt: skip
        if self.cluster:
            print(f"ledger: {self.cluster.url}   ({INGEST_WORKERS} ingest workers, "
                  f"{WEB_PROCESSES} web processes behind nginx)", flush=True)  # fmt: skip
        print(f"logs:   {self.var}/*.log    (Ctrl-C stops everything)", flush=True)

    def _private_var(self) -> None:
        """The demo's passwords, configs, journals and ledger are for this user only, as
        the installed units keep theirs (0600 files, 0700 folders): files made from here
        on, by the demo and its children, through the umask; an older var/demo by hand."""
        # Folders above it with the usual modes (PostgreSQL's user must pass through them
        # when the demo runs as root: scripts/lib/pg_cluster.py).
        self.var.parent.mkdir(parents=True, exist_ok=True)
        os.umask(0o077)
        self.var.mkdir(parents=True, exist_ok=True)
        _owner_only(self.var)

    def _web_proxy(self) -> None:
        """HTTPS as install-hub --tls sets it up: the site CA (scripts/make-ca) and nginx;
        or, for --postgres alone, nginx on plain HTTP in front of the web processes."""
        cert = key = None
        if self.https_port:
            tls = self.var / "tls"
            subprocess.run([str(ROOT / "scripts" / "make-ca"), str(tls), "localhost",
                            "127.0.0.1"], check=True, capture_output=True)  # fmt: skip
            cert, key = tls / "server.crt", tls / "server.key"
        proxy = WebProxy(cert, key, hub_port=self.web_port, https_port=self.https_port or 0,
                         http_port=self.public_port, listen=("127.0.0.1",),
                         more_hub_ports=self.more_web_ports)  # fmt: skip
        self.nginx = Nginx(self.var / "nginx", proxy).start()

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.var / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        child = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=log, env=env,
                                 start_new_session=True)  # fmt: skip
        self.children.append(child)
        return child

    def _broker(self) -> None:
        layout = brokerconf.BrokerLayout(self.var / "broker", port=self.broker_port, site=SITE)
        brokerconf.write_config(layout, run_as_root=os.geteuid() == 0)
        for name, role in (("hub", "hub"), ("pack-1", "station"), ("dock-1", "station"),
                           ("observer_demo", "reader"), ("erp_demo", "integration"),
                           *self._worker_users()):  # fmt: skip
            password = self._password(name)
            brokerconf.add_user(layout, name, password, role)
        _owner_only(layout.dir)  # brokerconf opens acl and passwd to Mosquitto's group
        self._spawn("mosquitto", ["mosquitto", "-c", str(layout.conf)])
        wait_for_port(self.broker_port)

    def _worker_users(self) -> list[tuple[str, str]]:
        """Each ingest worker is its own broker user (docs/scaling.md, "Roles")."""
        count = INGEST_WORKERS if self.cluster else 0
        return [(f"hub-{i}", "hub") for i in range(1, count + 1)]

    def _password(self, name: str) -> str:
        """Stable across restarts of the demo, so the stations' configs stay valid."""
        path = self.var / "secrets.json"
        known = json.loads(path.read_text()) if path.exists() else {}
        known.setdefault(name, secrets.token_urlsafe(12))
        path.write_text(json.dumps(known))
        self.passwords[name] = known[name]
        return known[name]

    def _hub(self) -> None:
        """The single hub process; with --postgres its cluster, then the ingest workers
        and the web processes (hub.toml is the first web process's: `hub check`, `hub
        user` and the tests read the ledger through it)."""
        config = self.var / "hub.toml"
        self._hub_config(config, "hub", self.web_port)
        self._web_user(config)
        if self.cluster is None:
            self._spawn("hub", [sys.executable, "-m", "hub", "run", "--config", str(config)])
            wait_for_port(self.web_port)
            return
        for i in range(1, INGEST_WORKERS + 1):
            worker, port = self.var / f"hub-ingest-{i}.toml", free_port()
            self._hub_config(worker, f"hub-{i}", port)
            self._spawn(f"hub-ingest-{i}", [sys.executable, "-m", "hub", "run", "--config",
                                            str(worker), "--role", "ingest"])  # fmt: skip
            wait_for_port(port)
        for i, port in enumerate((self.web_port, *self.more_web_ports), start=1):
            web = config if i == 1 else self.var / f"hub-web-{i}.toml"
            if i > 1:
                self._hub_config(web, "hub", port)
            self._spawn(f"hub-web-{i}", [sys.executable, "-m", "hub", "run", "--config",
                                         str(web), "--role", "web"])  # fmt: skip
            wait_for_port(port)

    def _hub_config(self, path: Path, user: str, port: int) -> None:
        behind_proxy = self.https_port or self.cluster
        database = f'[database]\nurl = "{self.cluster.url}"\n' if self.cluster else ""
        path.write_text(
            f'[hub]\nsite = "{SITE}"\ndata_dir = "{self.var / "hub"}"\ndemo = true\n'
            f'[mqtt]\nport = {self.broker_port}\nusername = "{user}"\n'
            f'password = "{self._password(user)}"\n'
            f"[web]\nport = {port}\n"
            + ('trusted_proxy = "127.0.0.1"\n' if behind_proxy else "")
            + f'[api]\ntokens = ["{TOKEN}"]\n{database}'
        )

    def _web_user(self, config: Path) -> None:
        """The demo's supervisor login, made with the same CLI an operator would use."""
        base = [sys.executable, "-m", "hub", "user"]
        listed = subprocess.run([*base, "list", "--config", str(config)], cwd=ROOT,
                                capture_output=True, text=True, check=True)  # fmt: skip
        if not any(line.split("\t")[0] == WEB_USER for line in listed.stdout.splitlines()):
            subprocess.run([*base, "add", WEB_USER, "--role", "supervisor", "--password-stdin",
                            "--config", str(config)], cwd=ROOT, input=WEB_PASSWORD + "\n",
                           text=True, check=True, capture_output=True)  # fmt: skip

    def _station(self, name: str, mode: str, printer: str, language: str, role: str) -> Bench:
        bench = Bench(self.var, name, free_port(), printer, language, role)
        self.benches.append(bench)
        config = self.var / f"{name}.toml"
        config.write_text(
            f'[station]\nid = "{name}"\nsite = "{SITE}"\nmode = "{mode}"\n'
            f'data_dir = "{self.var / name / "data"}"\nsupervisors = ["{SUPERVISOR}"]\n'
            f'[mqtt]\nport = {self.broker_port}\nusername = "{name}"\n'
            f'password = "{self.passwords[name]}"\n'
            f"{bench.devices}"
        )
        self._spawn(name, [sys.executable, "-m", "station", "run", "--config", str(config)])
        return bench

    def stop(self) -> None:
        """Workers first, then stations, hub and broker (each says goodbye to the next),
        then the simulated devices."""
        self.stopping.set()
        if self.nginx:
            self.nginx.stop()
        for child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        if self.cluster:
            self.cluster.stop()
        for bench in self.benches:
            bench.close()

    # --- the hub's API ----------------------------------------------------------------
    def api(self, method: str, path: str, body: object = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.web_port}{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def seed(self) -> None:
        self.api("POST", "/api/suppliers", {"supplier": SUPPLIER, "name": "Tea & Co",
                                            "lead_time_days": 3})  # fmt: skip
        self.api("POST", "/api/locations", [{"code": bin_} for bin_ in
                                            sorted({p.bin for p in PRODUCTS} | {KIT_BIN})])  # fmt: skip
        self.api("POST", "/api/products", [
            {"sku": p.sku, "name": p.name, "gtins": [{"gtin": p.gtin}],
             "unit_weight_g": str(p.grams), "lot_tracked": p.lots, "serial_tracked": p.serials,
             "suppliers": [{"supplier": SUPPLIER, "unit_cost": p.cost}],
             **({"reorder_point": REORDER_POINT, "par_level": PAR_LEVEL} if p in PRODUCTS
                else {})}
            for p in [*PRODUCTS, SAMPLER]
        ])  # fmt: skip
        self.api("POST", "/api/products", kit_record())

    # --- the workers ----------------------------------------------------------------
    def run(self, tour: bool, seed: int) -> None:
        """The receiver and the packer, each in its own thread, until Ctrl-C (or, on a
        tour, until both have made each of their mistakes once). `seed`: their random
        choices (which bin to count, what an order holds, when to make a mistake again)."""
        shift = Shift(self.api, self.pace, self.stopping, strict=tour, seed=seed)
        shift.say(f"seed {seed}: --seed {seed} makes the same random choices again")
        # Order numbers from the clock: a restarted demo does not reuse a shipped one.
        people = [ReturnsReceiver(shift, self.dock),
                  KitPacker(shift, self.pack, int(time.time()) % 10**6)]  # fmt: skip
        workers = [threading.Thread(target=self._worker, args=(person.run,), daemon=True)
                   for person in people]  # fmt: skip
        for worker in workers:
            worker.start()
        while not self.stopping.wait(0.5):
            if tour and all(person.toured for person in people):
                shift.say("tour complete: every verdict seen")
                return

    def _worker(self, job: Callable[[], None]) -> None:
        try:
            job()
        except (urllib.error.URLError, OSError, TourError) as exc:
            if not self.stopping.is_set():
                print(f"demo stopped: {exc}", file=sys.stderr, flush=True)
                self.failed = True
                self.stopping.set()


def _owner_only(top: Path) -> None:
    for path in [top, *top.rglob("*")]:
        if not path.is_symlink() and (path.is_dir() or path.is_file()):
            path.chmod(path.stat().st_mode & 0o700)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--web-port", type=int, default=8080)
    parser.add_argument("--broker-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--var", type=Path, default=ROOT / "var" / "demo")
    parser.add_argument("--pace", type=float, default=0.7, help="seconds between scans")
    parser.add_argument("--tour", action="store_true",
                        help="stop once every mistake was made and caught; exit 1 if a "
                             "verdict was not the one expected")  # fmt: skip
    parser.add_argument("--tls", action="store_true",
                        help="serve the web page over HTTPS through nginx, as install-hub "
                             "--tls does (--web-port then redirects to --https-port)")  # fmt: skip
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument("--postgres", action="store_true",
                        help="the ledger in a PostgreSQL cluster under --var, the hub as "
                             f"{INGEST_WORKERS} ingest workers and {WEB_PROCESSES} web "
                             "processes behind nginx (docs/scaling.md)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=None,
                        help="the workers' random choices (default: a new one, printed)")  # fmt: skip
    args = parser.parse_args()
    demo = Demo(args.var, args.web_port, args.broker_port or free_port(), args.pace,
                args.https_port if args.tls else None, args.postgres)  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        demo.start()
        demo.run(args.tour, secrets.randbelow(10**6) if args.seed is None else args.seed)
    except KeyboardInterrupt:
        pass
    except (urllib.error.URLError, OSError) as exc:
        print(f"demo stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        demo.stop()
    return 1 if demo.failed else 0


if __name__ == "__main__":
    sys.exit(main())
