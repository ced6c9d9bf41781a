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

from demo_company import Centre, SiteOfCompany, TransferDesk  # noqa: E402
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
from kit import children  # noqa: E402
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
                 https_port: int | None = None, site: str = SITE,
                 company: SiteOfCompany | None = None, postgres: bool = False) -> None:  # fmt: skip
        """`company`: this demo is one site of a company (scripts/lib/demo_company.py):
        its broker bridges to the central broker, and its orders go in at the centre.
        `postgres`: the ledger on a PostgreSQL cluster of its own, with several hub
        processes (docs/scaling.md)."""
        self.var = var
        self.site = site
        self.company = company
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
        self.stopping = company.stopping if company else threading.Event()
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
        if self.company is None:
            self.print_addresses()

    def print_addresses(self, label: str = "") -> None:
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
        observer = f"observer_{self.site}"
        print(f"{label}web:    {web}   (log in as {WEB_USER} / {WEB_PASSWORD})", flush=True)
        print(f"{label}broker: mqtt://127.0.0.1:{self.broker_port}", flush=True)
        print(f"{label}kiosks: dock-1 http://127.0.0.1:{self.dock.kiosk_port}/   "
              f"pack-1 http://127.0.0.1:{self.pack.kiosk_port}/", flush=True)  # fmt: skip
        print(f"{label}api token: {TOKEN}   (curl -H 'Authorization: Bearer {TOKEN}' "
              f"{api}/api/stations)", flush=True)  # fmt: skip
        print(f"{label}watch:  mosquitto_sub -p {self.broker_port} -u {observer} "
              f"-P {self.passwords[observer]} -t 'wh/v1/#' -v", flush=True)  # fmt: skip
        if self.cluster:
            print(f"{label}ledger: {self.cluster.url}   ({INGEST_WORKERS} ingest workers, "
                  f"{WEB_PROCESSES} web processes behind nginx)", flush=True)  # fmt: skip
        print(f"{label}logs:   {self.var}/*.log    (Ctrl-C stops everything)", flush=True)

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
        # Its own process group (Ctrl-C reaches the demo, which stops them in order), and
        # it dies with the demo however the demo dies (kit/children.py).
        child = children.start(args, cwd=ROOT, stdout=log, stderr=log, env=env)
        self.children.append(child)
        return child

    def _broker(self) -> None:
        layout = brokerconf.BrokerLayout(self.var / "broker", port=self.broker_port,
                                         site=self.site,
                                         bridge=self.company.bridge if self.company else None)  # fmt: skip
        brokerconf.write_config(layout, run_as_root=os.geteuid() == 0)
        for name, role in (("hub", "hub"), ("pack-1", "station"), ("dock-1", "station"),
                           (f"observer_{self.site}", "reader"),
                           (f"erp_{self.site}", "integration"),
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
        web_user(config)
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
            f'[hub]\nsite = "{self.site}"\ndata_dir = "{self.var / "hub"}"\ndemo = true\n'
            f'[mqtt]\nport = {self.broker_port}\nusername = "{user}"\n'
            f'password = "{self._password(user)}"\n'
            f"[web]\nport = {port}\n"
            + ('trusted_proxy = "127.0.0.1"\n' if behind_proxy else "")
            + f'[api]\ntokens = ["{TOKEN}"]\n{database}'
            + (self.company.centre_section() if self.company else "")
        )

    def _station(self, name: str, mode: str, printer: str, language: str, role: str) -> Bench:
        bench = Bench(self.var, name, free_port(), printer, language, role)
        self.benches.append(bench)
        config = self.var / f"{name}.toml"
        config.write_text(
            f'[station]\nid = "{name}"\nsite = "{self.site}"\nmode = "{mode}"\n'
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
    def run(self, tour: bool, seed: int | None = None) -> None:
        """The receiver and the packer, each in its own thread, until Ctrl-C (or, on a
        tour, until both have made each of their mistakes once). `seed`: their random
        choices (which bin to count, what an order holds, when to make a mistake again)."""
        people = self.start_workers(tour, seed)
        while not self.stopping.wait(0.5):
            if tour and all(person.toured for person in people):
                people[0].shift.say("tour complete: every verdict seen")
                return

    def start_workers(self, tour: bool = False, seed: int | None = None) -> list:
        """The receiver and the packer at work, each in its own thread. `seed`: their
        random choices (which bin to count, what an order holds, when to make a mistake
        again); a new one, printed, by default."""
        seed = secrets.randbelow(10**6) if seed is None else seed
        post = self.company.order_desk() if self.company else None
        shift = Shift(self.api, self.pace, self.stopping, strict=tour, seed=seed,
                      post_order=post, where=f"{self.site} " if self.company else "",
                      site=self.site if self.company else None)  # fmt: skip
        shift.say(f"seed {seed}: --seed {seed} makes the same random choices again")
        # Order numbers from the clock: a restarted demo does not reuse a shipped one (a
        # company's sites each number in their own million).
        first = int(time.time()) % 10**6 + (self.company.order_offset if self.company else 0)
        people = [ReturnsReceiver(shift, self.dock), KitPacker(shift, self.pack, first)]
        for person in people:
            threading.Thread(target=self._worker, args=(person.run,), daemon=True).start()
        return people

    def _worker(self, job: Callable[[], None]) -> None:
        try:
            job()
        except (urllib.error.URLError, OSError, TourError) as exc:
            if not self.stopping.is_set():
                print(f"demo stopped: {exc}", file=sys.stderr, flush=True)
                self.failed = True
                self.stopping.set()


def web_user(config: Path) -> None:
    """The demo's supervisor login, made with the same CLI an operator would use."""
    base = [sys.executable, "-m", "hub", "user"]
    listed = subprocess.run([*base, "list", "--config", str(config)], cwd=ROOT,
                            capture_output=True, text=True, check=True)  # fmt: skip
    if not any(line.split("\t")[0] == WEB_USER for line in listed.stdout.splitlines()):
        subprocess.run([*base, "add", WEB_USER, "--role", "supervisor", "--password-stdin",
                        "--config", str(config)], cwd=ROOT, input=WEB_PASSWORD + "\n",
                       text=True, check=True, capture_output=True)  # fmt: skip


def run_company(var: Path, web_port: int, pace: float, count: int) -> int:
    """A central hub on `web_port` and `count` sites (s1, s2...), until Ctrl-C: the
    central web address is printed first, then each site's."""
    os.umask(0o077)
    stopping = threading.Event()
    centre = Centre(var / "centre", web_port, TOKEN)
    ids = [f"s{n}" for n in range(1, count + 1)]
    sites: list[Demo] = []
    try:
        centre.start_broker(ids)
        for index, site in enumerate(ids):
            company = SiteOfCompany(site, centre.bridge(site), stopping, centre.api, index)
            sites.append(Demo(var / site, free_port(), free_port(), pace, site=site,
                              company=company))  # fmt: skip
        centre.start_hub({d.site: f"http://127.0.0.1:{d.web_port}" for d in sites}, web_user)
        for demo in sites:
            demo.start()
        print(f"centre: http://127.0.0.1:{web_port}/   (log in as {WEB_USER} / "
              f"{WEB_PASSWORD}; Sites shows each site, orders and reorder)", flush=True)  # fmt: skip
        print(f"centre broker: mqtt://127.0.0.1:{centre.broker_port}   (the sites' bridges: "
              f"mqtts://127.0.0.1:{centre.bridge_port})", flush=True)  # fmt: skip
        for demo in sites:
            demo.print_addresses(f"{demo.site} ")
        for demo in sites:
            demo.start_workers()
        desk = TransferDesk(centre.api, ids, stopping, every_s=max(5.0, pace * 20))
        threading.Thread(target=desk.run, daemon=True).start()
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    except (urllib.error.URLError, OSError) as exc:
        print(f"demo stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        stopping.set()
        for demo in sites:
            demo.stop()
        centre.stop()
    return 1 if any(demo.failed for demo in sites) else 0


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
    parser.add_argument("--sites", type=int, default=0,
                        help="run a company: a central hub (on --web-port) and this many "
                             "sites, each a broker, hub, dock and pack station, bridged to "
                             "the centre; data under VAR/company")  # fmt: skip
    args = parser.parse_args()
    if args.sites:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        return run_company(args.var / "company", args.web_port, args.pace, args.sites)
    demo = Demo(args.var, args.web_port, args.broker_port or free_port(), args.pace,
                args.https_port if args.tls else None, postgres=args.postgres)  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        demo.start()
        demo.run(args.tour, args.seed)
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
