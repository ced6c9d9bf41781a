"""The demo: broker, hub, a dock station and a pack station, a receiver and a packer at work.

The stations are the real `python -m station` processes. Their devices are this script's
twins at the operating-system boundary: serial scanners and a scale (MT-SICS) on pseudo-
terminals, loopback TCP printers (ESC/POS put-away slips at the dock, ZPL shipping labels
at the bench), and gpiozero's mock pins for buzzer, LEDs and button.

Stock flows as in a warehouse: when a product runs low the demo orders it from the
supplier through the hub's API; the receiver at the dock scans the purchase order, each
product's bin and its case (GS1 codes with lot and expiry for the teas), and the put-away
slip prints. The packer badges in, packs orders created through the API from the bins the
hub names on the kiosk (first expiry first), now and then scans the wrong item, and puts
the parcel on the scale; the shipping label prints. Run it with `scripts/demo`.
"""

import argparse
import itertools
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub import brokerconf  # noqa: E402
from station.drivers.sim.printer import PrinterTwin  # noqa: E402
from station.drivers.sim.scales import SimMtSicsScale  # noqa: E402
from station.drivers.sim.serial_scanner import SimSerialScanner  # noqa: E402

SITE = "demo"
TOKEN = "demo"
WEB_USER, WEB_PASSWORD = "supervisor", "demo"
SUPPLIER = "teaco"
PACKAGING_G = 150  # box and filling of every parcel
LOW, FULL = 6, 24  # reorder a product when fewer are available; up to this many


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    gtin: str
    grams: int
    cost: str
    bin: str  # where the receiver puts it away
    lots: bool = False  # lot-tracked, with expiry: its cases carry GS1-128 codes


PRODUCTS = [
    Product("MUG-WHT", "Mug, white, 350 ml", "4006381333931", 340, "2.10", "A-01-1"),
    Product("MUG-BLK", "Mug, black, 350 ml", "4006381333948", 340, "2.10", "A-01-2"),
    Product("TEA-EARL", "Earl Grey, 100 bags", "5012345678900", 210, "3.40", "B-01-1", True),
    Product("TEA-GRN", "Green tea, 50 bags", "5012345678917", 120, "2.90", "B-01-2", True),
    Product("SPOON-S", "Teaspoon, steel", "7622210449283", 25, "0.40", "A-02-1"),
    Product("COAST-4", "Coasters, set of 4", "8712345678906", 160, "1.80", "A-02-2"),
    Product("KETTLE-1", "Kettle, 1.7 l", "4015000961233", 1150, "14.00", "C-01-1"),
    Product("FILTER-P", "Paper filters, 100", "4311501234563", 90, "0.90", "B-02-1"),
]
BY_SKU = {p.sku: p for p in PRODUCTS}
CUSTOMERS = ["Acme Ltd", "Müller & Söhne", "Café Olé", "J. Smith", "Teahouse Nord", "K. Tanaka"]


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


def gs1(product: Product, lot: str, expiry: date) -> str:
    """A case's GS1-128 code: (01) GTIN, (17) expiry, (10) lot last (no separator needed)."""
    return f"01{product.gtin.zfill(14)}17{expiry:%y%m%d}10{lot}"


class Bench:
    """One station's devices, and an operator who scans and reads the kiosk screen."""

    def __init__(self, var: Path, name: str, printer: str, language: str, role: str) -> None:
        (var / name).mkdir(parents=True, exist_ok=True)
        self.name = name
        self.scanner = SimSerialScanner(str(var / name / "scanner"))
        self.scale = SimMtSicsScale(str(var / name / "scale"))
        self.printer = PrinterTwin().start()
        self.kiosk_port = free_port()
        self.devices = (
            f"[kiosk]\nport = {self.kiosk_port}\n"
            f'[[scanners]]\nname = "hand"\nkind = "serial"\nport = "{self.scanner.path}"\n'
            f'[[scales]]\nname = "scale"\nprotocol = "mt-sics"\nport = "{self.scale.path}"\n'
            f"poll_ms = 100\n"
            f'[[printers]]\nname = "{printer}"\nurl = "{self.printer.url}"\n'
            f'language = "{language}"\nroles = ["{role}"]\n'
            f'[feedback]\npin_factory = "mock"\nbuzzer = 17\nled_green = 22\nled_red = 23\n'
            f"button = 4\n"
        )

    def close(self) -> None:
        self.scanner.close()
        self.scale.close()
        self.printer.stop()

    def screen(self) -> dict:
        try:
            url = f"http://127.0.0.1:{self.kiosk_port}/snapshot"
            with urllib.request.urlopen(url, timeout=5) as reply:
                return json.loads(reply.read())["snapshot"]
        except (OSError, ValueError):
            return {}

    def wait(self, check: Callable[[dict], bool], timeout: float = 20) -> dict | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if shown and check(shown):
                return shown
            time.sleep(0.1)
        return None

    def scan(self, code: str, symbology: str | None = None) -> dict:
        """Scan and read the verdict once the station has journaled the scan."""
        before = self.screen().get("head", 0)
        self.scanner.scan(code, symbology)
        shown = self.wait(lambda s: s.get("head", 0) > before)
        return (shown or {}).get("verdict") or {"name": "no_answer", "message": ""}


class Demo:
    def __init__(self, var: Path, web_port: int, broker_port: int, pace: float) -> None:
        self.var = var
        self.web_port = web_port
        self.broker_port = broker_port
        self.pace = pace
        self.children: list[subprocess.Popen] = []
        self.benches: list[Bench] = []
        self.passwords: dict[str, str] = {}
        self.rng = random.Random()
        self.stopping = threading.Event()
        self.failed = False  # a worker stopped the demo on an error

    # --- processes ----------------------------------------------------------------
    def start(self) -> None:
        self.var.mkdir(parents=True, exist_ok=True)
        self._broker()
        self._hub()
        self.seed()
        self.dock = self._station("dock-1", "receive", "slips", "escpos", "putaway")
        self.pack = self._station("pack-1", "pack", "parcel", "zpl", "shipping")
        print(f"web:    http://127.0.0.1:{self.web_port}/   (log in as {WEB_USER} / "
              f"{WEB_PASSWORD})", flush=True)  # fmt: skip
        print(f"broker: mqtt://127.0.0.1:{self.broker_port}", flush=True)
        print(f"kiosks: dock-1 http://127.0.0.1:{self.dock.kiosk_port}/   "
              f"pack-1 http://127.0.0.1:{self.pack.kiosk_port}/", flush=True)  # fmt: skip
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

    def _station(self, name: str, mode: str, printer: str, language: str, role: str) -> Bench:
        bench = Bench(self.var, name, printer, language, role)
        self.benches.append(bench)
        config = self.var / f"{name}.toml"
        config.write_text(
            f'[station]\nid = "{name}"\nsite = "{SITE}"\nmode = "{mode}"\n'
            f'data_dir = "{self.var / name / "data"}"\n'
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
        for child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
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
                                            sorted({p.bin for p in PRODUCTS})])  # fmt: skip
        self.api("POST", "/api/products", [
            {"sku": p.sku, "name": p.name, "gtins": [{"gtin": p.gtin}],
             "unit_weight_g": str(p.grams), "lot_tracked": p.lots,
             "suppliers": [{"supplier": SUPPLIER, "unit_cost": p.cost}]}
            for p in PRODUCTS
        ])  # fmt: skip

    def available(self) -> dict[str, int]:
        items = self.api("GET", "/api/stock?limit=1000")["stock"]
        return {item["sku"]: item["available"] for item in items}

    def say(self, text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)

    # --- the workers ----------------------------------------------------------------
    def run(self) -> None:
        """The receiver and the packer, each in its own thread, until Ctrl-C."""
        workers = [threading.Thread(target=self._worker, args=(job,), daemon=True)
                   for job in (self.receive_forever, self.pack_forever)]  # fmt: skip
        for worker in workers:
            worker.start()
        while not self.stopping.wait(0.5):
            pass

    def _worker(self, job: Callable[[], None]) -> None:
        try:
            job()
        except (urllib.error.URLError, OSError) as exc:
            if not self.stopping.is_set():
                print(f"demo stopped: {exc}", file=sys.stderr, flush=True)
                self.failed = True
                self.stopping.set()

    def ready(self, bench: Bench) -> None:
        if bench.wait(lambda s: s.get("connection") == "online", 60) is None:
            raise OSError(f"{bench.name} did not come online: see {self.var}/{bench.name}.log")

    def pause(self, times: float = 1.0) -> None:
        self.stopping.wait(self.pace * times)

    # --- the dock: purchase orders in, put away into bins ------------------------------
    def receive_forever(self) -> None:
        self.ready(self.dock)
        self.dock.scan("OP:rita")
        while not self.stopping.is_set():
            available = self.available()
            low = [p for p in PRODUCTS if available.get(p.sku, 0) < LOW]
            if not low:
                self.pause(5)
                continue
            lines = [{"sku": p.sku, "qty": FULL - max(0, available.get(p.sku, 0)),
                      "unit_cost": p.cost} for p in low]  # fmt: skip
            po = self.api("POST", "/api/purchase-orders",
                          {"supplier": SUPPLIER, "lines": lines})["saved"][0]  # fmt: skip
            self.receive(po, lines)

    def receive(self, po: str, lines: list[dict]) -> None:
        if not self._until_known(self.dock, f"PO:{po}", "unknown_po"):
            return
        done = []
        for line in lines:
            product = BY_SKU[line["sku"]]
            self.pause()
            self.dock.scan(f"LOC:{product.bin}")
            self.dock.scan(f"QTY:{line['qty']}")
            self.pause()
            if product.lots:
                lot = f"L{date.today():%y%m%d}-{self.rng.randrange(16**4):04X}"
                expiry = date.today() + timedelta(days=self.rng.randint(120, 720))
                self.dock.scan(gs1(product, lot, expiry), "]C1")
                done.append(f"{line['qty']} {product.sku} lot {lot} exp {expiry} -> {product.bin}")
            else:
                self.dock.scan(product.gtin)
                done.append(f"{line['qty']} {product.sku} -> {product.bin}")
        verdict = self.dock.scan("CMD:DONE")
        slips = len(self.dock.printer.jobs())
        self.say(f"dock-1: {verdict['message']}: {'; '.join(done)} "
                 f"({slips} put-away slips printed)")  # fmt: skip

    def _until_known(self, bench: Bench, code: str, unknown: str) -> bool:
        """Scan a PO or order until the station has it cached (its retained topic)."""
        for _ in range(30):
            verdict = bench.scan(code)
            if verdict["name"] != unknown:
                return verdict["name"] == "ok"
            self.pause()
        return False

    # --- the bench: orders out, from the bins the hub names ---------------------------
    def pack_forever(self) -> None:
        self.ready(self.pack)
        # Order numbers from the clock: a restarted demo does not reuse a shipped one.
        numbers = itertools.count(int(time.time()) % 10**6)
        operators = itertools.cycle(["alice", "bob"])
        for packed in itertools.count():
            if self.stopping.is_set():
                return
            if packed % 8 == 0:
                operator = next(operators)
                self.pack.scan(f"OP:{operator}")  # the badge, first thing at the bench
                self.say(f"pack-1: {operator} badges in")
            if not self.pack_one(f"SO-{next(numbers)}"):
                self.pause(5)

    def pack_one(self, order: str) -> bool:
        available = {sku: n for sku, n in self.available().items() if n > 0}
        if not available:
            return False
        skus = self.rng.sample(sorted(available), min(len(available), self.rng.randint(1, 3)))
        qty = {sku: self.rng.randint(1, min(3, available[sku])) for sku in skus}
        try:
            self.api("POST", "/api/orders", {
                "order": order, "customer": self.rng.choice(CUSTOMERS),
                "packaging_weight_g": str(PACKAGING_G),
                "lines": [{"sku": sku, "qty": n} for sku, n in qty.items()],
            })  # fmt: skip
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # 409: that number is taken (shipped): take the next one
                raise
            return True
        self.pause(2)
        if not self._until_known(self.pack, f"ORD:{order}", "unknown_order"):
            return True
        bins = {line["sku"]: line.get("location") for line in self.pack.screen()["lines"]}
        for sku, n in qty.items():
            for code, symbology in self._picks(BY_SKU[sku], n, bins.get(sku)):
                self._maybe_wrong_item(qty)
                self.pause()
                self.pack.scan(code, symbology)
        self._weigh(order, qty, bins)
        return True

    def _picks(self, product: Product, qty: int, bin_: str | None) -> list:
        """What the packer scans for `qty` of a product: its EAN, or for a lot-tracked one
        the GS1 code of the case at the pick location expiring first."""
        if not product.lots:
            return [(product.gtin, None)] * qty
        lines = self.api("GET", f"/api/products/{product.sku}/fefo")["pick"]
        here = [x for x in lines if x["location"] == bin_ and x["lot"] and x["qty"] > 0]
        codes = []
        for line in here or lines[:1]:
            take = min(qty - len(codes), line["qty"])
            code = gs1(product, line["lot"], date.fromisoformat(line["expiry"]))
            codes += [(code, "]C1")] * take
        while len(codes) < qty:  # the books say too few: scan the last case again
            codes.append(codes[-1] if codes else (product.gtin, None))
        return codes

    def _maybe_wrong_item(self, qty: dict[str, int]) -> None:
        if self.rng.random() >= 0.08:
            return
        wrong = self.rng.choice([p for p in PRODUCTS if p.sku not in qty])
        self.pause()
        verdict = self.pack.scan(wrong.gtin)
        self.say(f"pack-1: wrong item {wrong.sku}: {verdict['name']} ({verdict['message']})")

    def _weigh(self, order: str, qty: dict[str, int], bins: dict) -> None:
        if self.pack.wait(lambda s: s.get("phase") == "weigh") is None:
            self.say(f"pack-1: {order} is not waiting for the scale: skipped")
            return
        grams = PACKAGING_G + sum(BY_SKU[sku].grams * n for sku, n in qty.items())
        weight = Decimal(grams + self.rng.randint(-15, 15))
        labels = len(self.pack.printer.jobs())
        head = self.pack.screen().get("head", 0)
        self.pause()
        self.pack.scale.place(weight)
        shown = self.pack.wait(lambda s: s.get("head", 0) > head)
        verdict = (shown or {}).get("verdict") or {}
        printed = self.pack.printer.wait_for_jobs(labels + 1, timeout=10)
        self.pause()
        self.pack.scale.remove()
        where = ", ".join(f"{n} {sku} from {bins.get(sku) or 'PACK'}" for sku, n in qty.items())
        size = f"{len(printed[-1])} bytes" if len(printed) > labels else "not printed"
        self.say(f"pack-1: {verdict.get('message', order)}: {where}; parcel {weight / 1000:.3f} kg; "
                 f"ZPL shipping label {size}")  # fmt: skip


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
        demo.run()
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
