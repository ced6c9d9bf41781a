"""The people on the demo's floor: a receiver at the dock door, a packer at the bench, and
the counting both do between jobs, each making the mistakes real people make.

Each worker goes through a round of mistakes, so a visitor sees every verdict within the
first minutes: the packer scans an item not in the order, a code no catalog knows, one
too many, an expired case, the wrong lot, a kettle without its serial and the same serial
twice, short-ships a line and weighs a parcel with something extra in it; the receiver
gets more than was ordered, a free sampler nobody ordered, an expired case, a torn label
and a line the supplier could not fill; the counters find everything, one missing, and a
case nobody booked (which waits for a supervisor on the Counts page). Every scan names the
verdict it expects; a `strict` shift (the demo's `--tour`) stops on any other.
"""

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from station.drivers.sim.printer import PrinterTwin
from station.drivers.sim.scales import SimMtSicsScale
from station.drivers.sim.serial_scanner import SimSerialScanner

SUPPLIER = "teaco"
PACKAGING_G = 150  # box and filling of every parcel
TOTE_G = 400  # the crate a counter weighs items in
# Each product's reorder point and par level: its reorder suggestion shows on the Reports
# page from REORDER_POINT down; the demo's buyer orders it only when fewer than OUT are
# left, so a supervisor has the time to turn the suggestion into a PO first.
REORDER_POINT, PAR_LEVEL, OUT = 6, 24, 2
COUNT_TASKS_PER_DAY = 8  # the hub's cycle-count schedule, spread over both stations
FOUND_CASE = 12  # the case "found behind the shelf" by a count
SUPERVISOR = "sue"  # the badge that overrides what a bench holds (both stations' config)


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    gtin: str
    grams: int
    cost: str
    bin: str  # where the receiver puts it away
    lots: bool = False  # lot-tracked, with expiry: its cases carry GS1-128 codes
    serials: bool = False  # every unit carries a GS1 code with its serial number


PRODUCTS = [
    Product("MUG-WHT", "Mug, white, 350 ml", "4006381333931", 340, "2.10", "A-01-1"),
    Product("MUG-BLK", "Mug, black, 350 ml", "4006381333948", 340, "2.10", "A-01-2"),
    Product("TEA-EARL", "Earl Grey, 100 bags", "5012345678900", 210, "3.40", "B-01-1", True),
    Product("TEA-GRN", "Green tea, 50 bags", "5012345678917", 120, "2.90", "B-01-2", True),
    Product("SPOON-S", "Teaspoon, steel", "7622210449283", 25, "0.40", "A-02-1"),
    Product("COAST-4", "Coasters, set of 4", "8712345678906", 160, "1.80", "A-02-2"),
    Product("KETTLE-1", "Kettle, 1.7 l", "4015000961233", 1150, "14.00", "C-01-1",
            serials=True),  # fmt: skip
    Product("FILTER-P", "Paper filters, 100", "4311501234563", 90, "0.90", "B-02-1"),
]
MARKUP = Decimal("2.5")  # the shop's price over cost: the KPIs' revenue and margin fill in


def sale_price(product: Product) -> str:
    return str((Decimal(product.cost) * MARKUP).quantize(Decimal("0.01")))


# In the catalog, never ordered: the supplier puts one in a delivery now and then.
SAMPLER = Product("TEA-SMPL", "Tea sampler (free)", "5901234123457", 60, "0.00", "B-02-2")
NOT_OURS = "8712345678913"  # a valid EAN that no catalog here knows: another firm's label
BY_SKU = {p.sku: p for p in PRODUCTS}
CUSTOMERS = ["Acme Ltd", "Müller & Söhne", "Café Olé", "J. Smith", "Teahouse Nord", "K. Tanaka"]

PACK_ROUND = (
    "clean", "not_in_order", "unknown_barcode", "lot_required", "too_many", "undo",
    "expired_lot", "wrong_lot", "serial_required", "duplicate_serial", "short",
    "weight_mismatch", "override",
)  # fmt: skip
RECEIVE_ROUND = ("over_receipt", "not_on_po", "unknown_barcode", "expired_lot", "short")
COUNT_ROUND = ("exact", "one_missing", "found_case")


class TourError(Exception):
    """A strict shift saw a verdict it did not expect."""


def gs1(product: Product, lot: str | None = None, expiry: date | None = None,
        serial: str | None = None) -> str:  # fmt: skip
    """A GS1-128 code: (01) GTIN, (17) expiry, then one variable-length field last (lot or
    serial), so no group separator is needed."""
    code = f"01{product.gtin.zfill(14)}"
    if expiry is not None:
        code += f"17{expiry:%y%m%d}"
    if lot is not None:
        code += f"10{lot}"
    elif serial is not None:
        code += f"21{serial}"
    return code


class Bench:
    """One station's devices, and an operator who scans and reads the kiosk screen."""

    def __init__(self, var: Path, name: str, kiosk_port: int, printer: str, language: str,
                 role: str) -> None:  # fmt: skip
        (var / name).mkdir(parents=True, exist_ok=True)
        self.name = name
        self.scanner = SimSerialScanner(str(var / name / "scanner"))
        self.scale = SimMtSicsScale(str(var / name / "scale"))
        self.printer = PrinterTwin().start()
        self.kiosk_port = kiosk_port
        self.devices = (
            f"[kiosk]\nport = {kiosk_port}\n"
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
            time.sleep(0.05)
        return None

    def scan(self, code: str, symbology: str | None = None) -> dict:
        """Scan and read the verdict once the station has journaled the scan."""
        before = self.screen().get("head", 0)
        self.scanner.scan(code, symbology)
        shown = self.wait(lambda s: s.get("head", 0) > before)
        return (shown or {}).get("verdict") or {"name": "no_answer", "message": ""}

    def settle(self, grams: Decimal) -> bool:
        """Put `grams` on the scale and wait until the kiosk shows it steady."""
        self.scale.place(grams)
        return bool(self.wait(lambda s: s.get("scale_stable") and s.get("weight_g") is not None
                              and Decimal(s["weight_g"]) == grams))  # fmt: skip


@dataclass
class Shift:
    """What every worker shares: the hub's API, the clock, the demo's voice."""

    api: Callable[..., dict]
    pace: float
    stopping: threading.Event
    strict: bool = False
    seed: int = 0  # the tour's random choices, replayable (`scripts/demo --seed`)
    # Where a new order goes in: the hub's POST /api/orders, or (one site of a company)
    # the central hub's, which routes it (scripts/lib/demo_company.py).
    post_order: Callable[[dict], None] | None = None
    where: str = ""  # one site of a company: its id and a space, before what it says
    site: str | None = None  # one site of a company: it packs and receives transfers too

    def rng(self, person: str) -> random.Random:
        """One person's own random choices: the two workers run in threads, and one shared
        generator would hand each of them other draws with every other interleaving."""
        return random.Random(f"{self.seed}:{person}")

    def order(self, body: dict) -> None:
        if self.post_order is not None:
            self.post_order(body)
        else:
            self.api("POST", "/api/orders", body)

    def say(self, text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {self.where}{text}", flush=True)

    def pause(self, times: float = 1.0) -> None:
        self.stopping.wait(self.pace * times)

    def expect(self, bench: Bench, code: str, want: str, symbology: str | None = None) -> dict:
        """Scan; a verdict other than `want` is said (and ends a strict shift)."""
        verdict = bench.scan(code, symbology)
        if verdict["name"] != want:
            problem = (f"{bench.name}: {code} gave {verdict['name']} ({verdict['message']}), "
                       f"expected {want}")  # fmt: skip
            if self.strict:
                raise TourError(problem)
            self.say(problem)
        return verdict

    def until_known(self, bench: Bench, code: str, unknown: str) -> bool:
        """Scan a PO, order or task until the station has it (its retained topic arrived)."""
        for _ in range(60):
            verdict = bench.scan(code)
            if verdict["name"] != unknown:
                return verdict["name"] == "ok"
            self.stopping.wait(max(self.pace, 0.2))
        return False

    def available(self) -> dict[str, int]:
        return {item["sku"]: item["available"] for item in self.stock()}

    def stock(self) -> list[dict]:
        return self.api("GET", "/api/stock?limit=1000")["stock"]

    def lots(self, product: Product) -> list[dict]:
        """The product's stock lines with lot and expiry, first expiry first."""
        return self.api("GET", f"/api/products/{product.sku}/fefo")["pick"]

    def online(self, bench: Bench, timeout: float = 60) -> None:
        if bench.wait(lambda s: s.get("connection") == "online", timeout) is None:
            raise OSError(f"{bench.name} did not come online: see its log")


# --- counting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """What a counter finds of one product (and lot) in a bin."""

    product: Product
    lot: str | None
    expiry: date | None
    qty: int


class Counter:
    """Counts a bin when the hub sends a task: blind, so the counter's tally is what it
    finds; now and then one less (a broken unit) or a case more (found behind the shelf)."""

    def __init__(self, shift: Shift, bench: Bench, home_mode: str, by_weight: bool) -> None:
        self.shift, self.bench = shift, bench
        self.rng = shift.rng(f"{bench.name} counter")
        self.home_mode = home_mode
        self.by_weight = by_weight  # non-lot items go in a tote on the scale
        self.todo = list(COUNT_ROUND)  # the first round shows each kind once
        self.done = 0

    @property
    def toured(self) -> bool:
        return not self.todo

    def count_a_bin(self) -> None:
        """The next count task the hub's schedule sent this station; without one, the
        supervisor asks for a bin to be counted (an ad-hoc task)."""
        shift, bench = self.shift, self.bench
        # A task for a bin the demo's people have nothing of to count (a kit built at the
        # bench, a held quarantine bin) waits for a person who knows it: the station refuses
        # an empty count, as it should.
        waiting = [t for t in shift.api("GET", "/api/count-tasks?status=open")["tasks"]
                   if t["station"] == bench.name
                   and self._tally(t["location"], t["sku"], "exact")]  # fmt: skip
        if waiting:
            task, where, only = waiting[0]["task"], waiting[0]["location"], waiting[0]["sku"]
        else:
            where, only = self._pick_bin(), None
            if where is None:
                return
            task = shift.api("POST", "/api/count-tasks", {"station": bench.name,
                                                           "location": where})["task"]  # fmt: skip
        shift.expect(bench, "CMD:MODE:COUNT", "ok")
        if not shift.until_known(bench, f"CMD:TASK:{task}", "no_task"):
            shift.say(f"{bench.name}: count task {task} never arrived")
            shift.expect(bench, f"CMD:MODE:{self.home_mode}", "ok")
            return
        kind = self.todo.pop(0) if self.todo else COUNT_ROUND[self.done % len(COUNT_ROUND)]
        found = self._tally(where, only, kind)
        for item in found:
            shift.pause()
            self._count(item)
        shift.expect(bench, "CMD:DONE", "ok")
        shift.expect(bench, f"CMD:MODE:{self.home_mode}", "ok")
        self.done += 1
        what = ", ".join(f"{f.qty} {f.product.sku}" + (f" lot {f.lot}" if f.lot else "")
                         for f in found)  # fmt: skip
        note = {"exact": "", "one_missing": " (one broken: a small variance, posted)",
                "found_case": f" (a case of {FOUND_CASE} nobody booked: waits for a "
                              "supervisor on the Counts page)"}[kind]  # fmt: skip
        shift.say(f"{bench.name}: counted {where} for task {task}: {what}{note}")

    def _pick_bin(self) -> str | None:
        bins = sorted({line["location"] for item in self.shift.stock() if item["sku"] in BY_SKU
                       for line in item["locations"] if line["qty"] > 0})  # fmt: skip
        return self.rng.choice(bins) if bins else None

    def _tally(self, where: str, only: str | None, kind: str) -> list[Found]:
        """What is really in the bin (the books, in the demo; of one product if the task
        says so) with the round's surprise."""
        found = []
        for item in self.shift.stock():
            product = BY_SKU.get(item["sku"]) if only in (None, item["sku"]) else None
            for line in item["locations"] if product else ():
                if line["location"] == where and line["qty"] > 0:
                    expiry = self._expiry(product, line["lot"])
                    found.append(Found(product, line["lot"], expiry, line["qty"]))
        surprise = {"one_missing": -1, "found_case": FOUND_CASE}.get(kind, 0)
        if found and found[0].qty + surprise > 0:  # one broken of one would empty the count
            found[0] = replace(found[0], qty=found[0].qty + surprise)
        return [f for f in found if f.qty > 0]

    def _expiry(self, product: Product, lot: str | None) -> date | None:
        if lot is None:
            return None
        expiry = next((x["expiry"] for x in self.shift.lots(product) if x["lot"] == lot), None)
        return date.fromisoformat(expiry) if expiry else None

    def _count(self, found: Found) -> None:
        shift, bench = self.shift, self.bench
        if found.product.lots:
            shift.expect(bench, f"QTY:{found.qty}", "ok")
            shift.expect(bench, gs1(found.product, found.lot, found.expiry), "ok", "]C1")
        elif self.by_weight and not found.product.serials:
            self._count_by_weight(found.product, found.qty)
        else:  # kettles are counted by their boxes' EAN: the serials matter when they ship
            shift.expect(bench, f"QTY:{found.qty}", "ok")
            shift.expect(bench, found.product.gtin, "ok")

    def _count_by_weight(self, product: Product, qty: int) -> None:
        shift, bench = self.shift, self.bench
        bench.settle(Decimal(TOTE_G))
        shift.expect(bench, "CMD:TARE", "ok")
        bench.settle(Decimal(TOTE_G + qty * product.grams))
        shift.expect(bench, "CMD:WEIGH", "ok")
        shift.expect(bench, product.gtin, "ok")
        bench.scale.remove()


class Worker:
    """A person at one station: the round of mistakes still to show, and the counts done
    between jobs (in the station's home mode)."""

    ROUND: tuple[str, ...] = ()
    RATE = 0.0  # after the first round: how often a chance for a mistake is taken
    HOME = ""
    COUNTS_BY_WEIGHT = False

    def __init__(self, shift: Shift, bench: Bench) -> None:
        self.shift, self.bench = shift, bench
        self.rng = shift.rng(bench.name)
        self.todo = list(self.ROUND)
        self.counter = Counter(shift, bench, self.HOME, self.COUNTS_BY_WEIGHT)

    @property
    def toured(self) -> bool:
        return not self.todo and self.counter.toured

    def next_mistake(self, fits: Callable[[str], bool]) -> str | None:
        """The first of the round's mistakes still to show that `fits`; once all were
        shown, now and then one of them at random."""
        if self.todo:
            mistake = next((m for m in self.todo if fits(m)), None)
            if mistake is not None:
                self.todo.remove(mistake)
            return mistake
        if self.rng.random() >= self.RATE:
            return None
        possible = [m for m in self.ROUND if fits(m)]
        return self.rng.choice(possible) if possible else None


# --- the dock: purchase orders in, put away into bins --------------------------------------


class Receiver(Worker):
    """Orders what runs low from the supplier (through the hub's API, as a buyer would) and
    receives it at the dock door; counts a bin when there is nothing to receive."""

    ROUND = RECEIVE_ROUND
    RATE = 0.08  # per line received
    HOME = "RECEIVE"
    COUNTS_BY_WEIGHT = True  # the dock's scale and a tote
    scheduled = False  # the hub's cycle counts: named once stock has arrived

    def __init__(self, shift: Shift, bench: Bench) -> None:
        super().__init__(shift, bench)
        self.transfers: set[str] = set()  # received here (the centre may not know yet)

    def run(self) -> None:
        shift = self.shift
        shift.online(self.bench)
        shift.expect(self.bench, "OP:rita", "ok")
        idle = 0
        while not shift.stopping.is_set():
            if shift.site is not None and self.receive_a_transfer():
                continue
            received = self.buy_and_receive()
            if received:
                # The hub's nightly job (ABC classes, stored reports) after each delivery:
                # the demo's day is minutes long, and its reports should fill in.
                shift.api("POST", "/api/housekeeping?refresh=1")
            if received and not self.scheduled:
                self.schedule_cycle_counts()
            elif not received and (idle % 6 == 0 or not self.counter.toured):
                self.counter.count_a_bin()
            idle += 1
            shift.pause(5)

    def buy_and_receive(self) -> bool:
        """The buyer turns the hub's reorder suggestions of what is nearly out into POs
        (one per supplier, up to par); the receiver receives them."""
        available = self.shift.available()
        out = [p.sku for p in PRODUCTS if available.get(p.sku, 0) < OUT]
        if not out:
            return False
        made = self.shift.api("POST", "/api/purchase-orders/from-reorder", {"skus": out})
        for po in made["saved"]:
            lines = self.shift.api("GET", f"/api/purchase-orders/{po}")["lines"]
            self.receive(po, [{"sku": x["sku"], "qty": x["qty"]} for x in lines])
        return bool(made["saved"])

    def receive_a_transfer(self) -> bool:
        """A transfer on its way here from another site of the company: its label's
        barcode is scanned at the dock and it is received like a purchase order (each unit
        at the sender's FIFO cost)."""
        shift = self.shift
        arriving = [t for t in shift.api("GET", "/api/transfers?status=in_transit")["transfers"]
                    if t["to_site"] == shift.site and t["transfer"] not in self.transfers]  # fmt: skip
        if not arriving:
            return False
        number, sender = arriving[0]["transfer"], arriving[0]["from_site"]
        self.transfers.add(number)
        try:
            lines = shift.api("GET", f"/api/purchase-orders/{number}")["lines"]
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
            return False  # nothing of it left the sender: nothing to receive
        shift.say(f"{self.bench.name}: transfer {number} from {sender} at the door "
                  f"(PO:{number} on its label)")  # fmt: skip
        self.receive(number, [{"sku": x["sku"], "qty": x["qty"]} for x in lines], mistakes=False)
        return True

    def schedule_cycle_counts(self) -> None:
        """Once there is stock: the supervisor names the stations that count, and the
        hub's daily schedule issues count tasks for the lines due by their ABC class."""
        self.shift.api("PUT", "/api/settings", {"count_stations": ["dock-1", "pack-1"],
                                                "count_tasks_per_day": COUNT_TASKS_PER_DAY})
        tasks = self.shift.api("POST", "/api/housekeeping")["tasks"]
        self.scheduled = True
        self.shift.say(f"hub: {len(tasks)} cycle-count tasks issued to dock-1 and pack-1")

    def receive(self, po: str, lines: list[dict], mistakes: bool = True) -> None:
        shift, bench = self.shift, self.bench
        if not shift.until_known(bench, f"PO:{po}", "unknown_po"):
            shift.say(f"{bench.name}: purchase order {po} never arrived")
            return
        done: list[str] = []
        short = False
        for i, line in enumerate(lines):
            product = BY_SKU[line["sku"]]
            mistake = self._mistake(product, last=i == len(lines) - 1) if mistakes else None
            qty = line["qty"] - (4 if mistake == "short" and line["qty"] > 4 else 0)
            short = short or qty < line["qty"]
            shift.pause()
            shift.expect(bench, f"LOC:{product.bin}", "ok")
            done.append(self._receive_line(product, qty, mistake))
        if short:
            shift.expect(bench, "CMD:SHORT:backorder", "ok")
        else:
            shift.expect(bench, "CMD:DONE", "ok")
        slips = len(bench.printer.jobs())
        shift.say(f"{bench.name}: PO {po} closed{' short' if short else ''}: "
                  f"{'; '.join(done)} ({slips} put-away slips printed)")  # fmt: skip

    def _mistake(self, product: Product, last: bool) -> str | None:
        fits = {"expired_lot": product.lots, "short": last}
        return self.next_mistake(lambda m: fits.get(m, True))

    def _receive_line(self, product: Product, qty: int, mistake: str | None) -> str:
        shift, bench = self.shift, self.bench
        said = ""
        if mistake == "not_on_po":
            shift.expect(bench, SAMPLER.gtin, "not_on_po")
            shift.expect(bench, "CMD:CANCEL", "ok")
            said = " (a free sampler, not on the PO: set aside)"
        if mistake == "unknown_barcode":
            shift.expect(bench, NOT_OURS, "unknown_barcode")
            said = " (another firm's label first: unknown barcode)"
        lot = expiry = None
        if product.lots:
            if mistake == "expired_lot":
                shift.expect(bench, f"QTY:{qty}", "ok")
                old = gs1(product, "L-OLD", date.today() - timedelta(days=20))
                shift.expect(bench, old, "expired_lot", "]C1")
                shift.expect(bench, "CMD:CANCEL", "ok")
                said = " (an expired case refused)"
            lot = f"L{date.today():%y%m%d}-{self.rng.randrange(16**4):04X}"
            expiry = date.today() + timedelta(days=self.rng.randint(120, 720))
        extra = 2 if mistake == "over_receipt" else 0
        shift.expect(bench, f"QTY:{qty + extra}", "ok")
        code = gs1(product, lot, expiry) if lot else product.gtin
        if extra:
            shift.expect(bench, code, "over_receipt", "]C1" if lot else None)
            shift.expect(bench, "CMD:OVERRIDE", "supervisor_needed")
            shift.expect(bench, f"OP:{SUPERVISOR}", "ok")
            said = f" ({extra} more than ordered: supervisor {SUPERVISOR} accepted them)"
        else:
            shift.expect(bench, code, "ok", "]C1" if lot else None)
        if mistake == "short":
            said = " (4 short: the supplier is out)"
        where = f" lot {lot} exp {expiry}" if lot else ""
        return f"{qty + extra} {product.sku}{where} -> {product.bin}{said}"


# --- the bench: orders out, from the bins the hub names ------------------------------------


@dataclass
class Order:
    number: str
    qty: dict[str, int]  # sku -> units, in the order's line order
    lot: dict[str, str] = field(default_factory=dict)  # sku -> the lot the customer wants
    shorted: set[str] = field(default_factory=set)
    caught: list[str] = field(default_factory=list)  # the mistakes the station caught

    def saw(self, verdict: dict) -> None:
        then = f" -> {verdict['next_step']}" if verdict.get("next_step") else ""
        self.caught.append(f"{verdict['name']}: {verdict['message']}{then}")


class Packer(Worker):
    """Packs orders the demo creates through the API (as a shop would), from the bins the
    kiosk names; counts a bin for the hub every few orders."""

    ROUND = PACK_ROUND
    RATE = 0.3  # per order
    HOME = "PACK"

    def __init__(self, shift: Shift, bench: Bench, first_number: int) -> None:
        super().__init__(shift, bench)
        self.number = first_number
        self.serial = 0
        self.transfers: set[str] = set()  # packed here (the centre may not know yet)

    def run(self) -> None:
        shift = self.shift
        shift.online(self.bench)
        operator = None
        packed = 0
        while not shift.stopping.is_set():
            if operator != (on_shift := ("alice", "bob")[packed // 8 % 2]):
                operator = on_shift
                shift.expect(self.bench, f"OP:{operator}", "ok")  # the badge, first thing
                shift.say(f"{self.bench.name}: {operator} badges in")
            if packed % 5 == 4 or (not self.todo and not self.counter.toured):
                self.counter.count_a_bin()
            if self.pack_one():
                packed += 1
            else:
                shift.pause(5)

    def pack_one(self) -> bool:
        if self.shift.site is not None and self.pack_a_transfer():
            return True
        available = {sku: n for sku, n in self.shift.available().items() if n > 0}
        mistake, order = self._compose(available)
        if order is None:
            return False
        if not self._post(order):
            return True
        self.shift.pause(2)
        if not self.shift.until_known(self.bench, f"ORD:{order.number}", "unknown_order"):
            self.shift.say(f"{self.bench.name}: order {order.number} never arrived")
            return True
        bins = {line["sku"]: line.get("location") for line in self.bench.screen()["lines"]}
        for position, (sku, n) in enumerate(order.qty.items()):
            self._pack_line(order, BY_SKU[sku], n, bins.get(sku), mistake, position)
        self._weigh(order, mistake, bins)
        return True

    def pack_a_transfer(self) -> bool:
        """A transfer the centre made from this site: packed like an order (the same
        checks), weighed, and labelled for the receiving site's dock."""
        shift, bench = self.shift, self.bench
        waiting = [t for t in shift.api("GET", "/api/transfers?status=open")["transfers"]
                   if t["from_site"] == shift.site and t["transfer"] not in self.transfers]  # fmt: skip
        if not waiting:
            return False
        number, to = waiting[0]["transfer"], waiting[0]["to_site"]
        self.transfers.add(number)
        if not shift.until_known(bench, f"ORD:{number}", "unknown_order"):
            shift.say(f"{bench.name}: transfer {number} never arrived")
            return True
        order = Order(number, {line["sku"]: line["qty"] for line in waiting[0]["lines"]})
        bins = {line["sku"]: line.get("location") for line in bench.screen()["lines"]}
        for sku, n in order.qty.items():
            for code, symbology in self._picks(BY_SKU[sku], n, bins.get(sku), order):
                shift.pause()
                shift.expect(bench, code, "ok", symbology)
        if bench.wait(lambda s: s.get("phase") == "weigh") is None:
            shift.say(f"{bench.name}: transfer {number} is not waiting for the scale")
            return True
        labels = len(bench.printer.jobs())
        grams = sum(BY_SKU[sku].grams * n for sku, n in order.qty.items())
        self._place(Decimal(grams + self.rng.randint(-15, 15)), "ok")
        bench.printer.wait_for_jobs(labels + 1, timeout=10)
        shift.pause()
        bench.scale.remove()
        what = ", ".join(f"{n} {sku} from {bins.get(sku) or 'PACK'}" for sku, n in order.qty.items())
        shift.say(f"{bench.name}: transfer {number} to {to} packed and weighed: {what}; "
                  f"transfer label printed (PO:{number} for {to}'s dock)")  # fmt: skip
        return True

    # --- the order --------------------------------------------------------------------
    def _compose(self, available: dict[str, int]) -> tuple[str, Order | None]:
        """The next order: shaped so the round's next mistake that today's stock allows
        can happen (a lot-tracked tea for a lot mistake, two kettles for a serial twice)."""
        rng = self.rng
        stocked = sorted(sku for sku in available if sku in BY_SKU)
        if not stocked:
            return "clean", None
        mistake = self.next_mistake(lambda m: self._possible(m, available)) or "clean"
        first = self._first_product(mistake, available)
        lines = 2 if mistake in ("too_many", "short") else rng.randint(1, 3)
        pool = [sku for sku in stocked if sku != first]
        skus = ([first] if first else []) + rng.sample(pool, min(len(pool), lines - bool(first)))
        qty = {sku: rng.randint(1, min(3, available[sku])) for sku in skus}
        if mistake in ("undo", "duplicate_serial"):
            qty[first] = max(2, qty[first])
        self.number += 1
        order = Order(f"SO-{self.number}", qty)
        if mistake == "wrong_lot":
            self._name_a_lot(order, BY_SKU[first])
        return mistake, order

    def _possible(self, mistake: str, available: dict[str, int]) -> bool:
        stocked = [sku for sku in available if sku in BY_SKU]
        if mistake in ("too_many", "short"):
            return len(stocked) >= 2
        if mistake in ("lot_required", "expired_lot", "wrong_lot"):
            return any(BY_SKU[sku].lots for sku in stocked)
        if mistake == "serial_required":
            return available.get("KETTLE-1", 0) >= 1
        if mistake == "duplicate_serial":
            return available.get("KETTLE-1", 0) >= 2
        if mistake == "undo":
            return any(n >= 2 for sku, n in available.items() if sku in BY_SKU)
        return True

    def _first_product(self, mistake: str, available: dict[str, int]) -> str | None:
        stocked = sorted(sku for sku in available if sku in BY_SKU)
        if mistake in ("lot_required", "expired_lot", "wrong_lot"):
            return next(sku for sku in stocked if BY_SKU[sku].lots)
        if mistake in ("serial_required", "duplicate_serial"):
            return "KETTLE-1"
        if mistake == "undo":
            return next(sku for sku in stocked if available[sku] >= 2)
        return None

    def _name_a_lot(self, order: Order, product: Product) -> None:
        """The customer wants the lot expiring first (a pharmacy, say): the line names it."""
        lines = [x for x in self.shift.lots(product) if x["lot"] and x["qty"] > 0]
        if lines:
            order.lot[product.sku] = lines[0]["lot"]
            order.qty[product.sku] = min(order.qty[product.sku], lines[0]["qty"])

    def _post(self, order: Order) -> bool:
        lines = [{"sku": sku, "qty": n, "unit_price": sale_price(BY_SKU[sku]),
                  **({"lot": order.lot[sku]} if sku in order.lot else {})}
                 for sku, n in order.qty.items()]  # fmt: skip
        try:
            self.shift.order({
                "order": order.number, "customer": self.rng.choice(CUSTOMERS),
                "packaging_weight_g": str(PACKAGING_G), "lines": lines,
            })  # fmt: skip
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # 409: that number is taken (shipped): take the next one
                raise
            return False
        return True

    # --- scanning ------------------------------------------------------------------------
    def _pack_line(self, order: Order, product: Product, n: int, bin_: str | None,
                   mistake: str, position: int) -> None:  # fmt: skip
        shift, bench = self.shift, self.bench
        first, last = position == 0, position == len(order.qty) - 1
        if first:
            self._before_first_pick(order, product, mistake)
        if mistake == "short" and last:
            shift.expect(bench, "CMD:SHORT:damaged", "ok")
            order.saw(shift.expect(bench, product.gtin, "ok"))  # armed: any code of it will do
            order.shorted.add(product.sku)
            return
        picks = self._picks(product, n, bin_, order)
        for i, (code, symbology) in enumerate(picks):
            shift.pause()
            shift.expect(bench, code, "ok", symbology)
            if i == 0 and first and mistake == "undo":
                order.saw(shift.expect(bench, "CMD:UNDO", "ok"))
                shift.expect(bench, code, "ok", symbology)
            if i == 0 and first and mistake == "duplicate_serial":
                order.saw(shift.expect(bench, code, "duplicate_serial", symbology))
        if first and mistake == "too_many":
            code, symbology = self._picks(product, 1, bin_, order)[0]  # one more of the same
            order.saw(shift.expect(bench, code, "too_many", symbology))

    def _before_first_pick(self, order: Order, product: Product, mistake: str) -> None:
        code, symbology, want = self._wrong_scan(order, product, mistake)
        if code is not None:
            order.saw(self.shift.expect(self.bench, code, want, symbology))

    def _wrong_scan(self, order: Order, product: Product,
                    mistake: str) -> tuple[str | None, str | None, str]:  # fmt: skip
        """The code scanned by mistake before the first pick, and the verdict it earns."""
        if mistake == "not_in_order":
            wrong = next(p for p in [*PRODUCTS, SAMPLER] if p.sku not in order.qty)
            if wrong.lots or wrong.serials:
                return gs1(wrong, serial="X1"), "]C1", mistake
            return wrong.gtin, None, mistake
        if mistake == "unknown_barcode":
            return NOT_OURS, None, mistake
        if mistake in ("lot_required", "serial_required"):
            return product.gtin, None, mistake  # the EAN on the box, not the case's GS1 code
        if mistake == "expired_lot":
            return gs1(product, "L-OLD", date.today() - timedelta(days=20)), "]C1", mistake
        if mistake == "wrong_lot" and product.sku in order.lot:
            return gs1(product, "L-OTHER", date.today() + timedelta(days=400)), "]C1", mistake
        return None, None, "ok"

    def _picks(self, product: Product, qty: int, bin_: str | None,
               order: Order) -> list[tuple[str, str | None]]:  # fmt: skip
        """What the packer scans for `qty` of a product: its EAN; a kettle's code with its
        serial; for a lot-tracked one the GS1 code of the case at the pick location
        expiring first (or of the lot the order names)."""
        if product.serials:
            self.serial += 1
            return [(gs1(product, serial=f"K{self.number}{i}{self.serial:04d}"), "]C1")
                    for i in range(qty)]  # fmt: skip
        if not product.lots:
            return [(product.gtin, None)] * qty
        lines = [x for x in self.shift.lots(product) if x["lot"] and x["qty"] > 0]
        named = order.lot.get(product.sku)
        here = [x for x in lines if (x["lot"] == named if named else x["location"] == bin_)]
        codes: list[tuple[str, str | None]] = []
        for line in here or lines[:1]:
            take = min(qty - len(codes), line["qty"])
            code = gs1(product, line["lot"], date.fromisoformat(line["expiry"]))
            codes += [(code, "]C1")] * take
        while len(codes) < qty:  # the books say too few: scan the last case again
            codes.append(codes[-1] if codes else (gs1(product, "L-NONE",
                                                      date.today() + timedelta(days=90)), "]C1"))
        return codes

    # --- the scale -----------------------------------------------------------------------
    def _weigh(self, order: Order, mistake: str, bins: dict) -> None:
        shift, bench = self.shift, self.bench
        if bench.wait(lambda s: s.get("phase") == "weigh") is None:
            shift.say(f"{bench.name}: {order.number} is not waiting for the scale: skipped")
            return
        packed = {sku: n for sku, n in order.qty.items() if sku not in order.shorted}
        grams = PACKAGING_G + sum(BY_SKU[sku].grams * n for sku, n in packed.items())
        weight = Decimal(grams + self.rng.randint(-15, 15))
        labels = len(bench.printer.jobs())
        said = ""
        if mistake in ("weight_mismatch", "override"):
            heavy = weight + max(400, grams // 10)  # a stapler left in the box
            order.saw(self._place(heavy, "weight_mismatch"))
            if mistake == "override":
                shift.expect(bench, "CMD:OVERRIDE", "supervisor_needed")
                verdict = shift.expect(bench, f"OP:{SUPERVISOR}", "ok")
                said = f" (gift wrap made it heavy: supervisor {SUPERVISOR} overrode the weight)"
            else:
                bench.scale.remove()
                shift.pause()
                verdict = self._place(weight, "ok")
                said = " (held at first: a stapler in the box; weighed again without it)"
        else:
            verdict = self._place(weight, "ok")
        printed = bench.printer.wait_for_jobs(labels + 1, timeout=10)
        shift.pause()
        bench.scale.remove()
        where = ", ".join(f"{n} {sku} from {bins.get(sku) or 'PACK'}" for sku, n in packed.items())
        shorted = "".join(f"; {sku} short (damaged)" for sku in order.shorted)
        size = f"{len(printed[-1])} bytes" if len(printed) > labels else "not printed"
        shift.say(f"{bench.name}: {verdict.get('message', order.number)}: {where}{shorted}; "
                  f"parcel {weight / 1000:.3f} kg; ZPL label {size}{said}")  # fmt: skip
        for caught in order.caught:
            shift.say(f"{bench.name}:   caught on the way: {caught}")

    def _place(self, grams: Decimal, want: str) -> dict:
        """Put the parcel on the scale: it ships (a new journal entry) or is held."""
        shift, bench = self.shift, self.bench
        head = bench.screen().get("head", 0)
        shift.pause()
        bench.scale.place(grams)
        if want == "ok":
            shown = bench.wait(lambda s: s.get("head", 0) > head)
        else:
            shown = bench.wait(lambda s: s.get("phase") == "held")
        verdict = (shown or {}).get("verdict") or {"name": "no_answer", "message": ""}
        if verdict["name"] != want:
            problem = f"{bench.name}: parcel of {grams} g gave {verdict['name']}, expected {want}"
            if shift.strict:
                raise TourError(problem)
            shift.say(problem)
        return verdict
