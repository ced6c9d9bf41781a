"""The demo as a company (`scripts/demo --sites N`): a central broker and hub, and N sites
each run as the single-site demo (broker, hub, a dock and a pack station at work), each
site's broker bridged to the central one over TLS as docs/multi-site.md sets it up.

The orders the sites' packers make go in at the centre (its POST /api/orders), which
routes each to a site by the stock; when it sends one to another site than the packer
waiting for it, the demo's dispatcher moves it there by hand (POST /api/sites/orders/
{order}/route), as a supervisor would on the centre's Sites: orders page.

The centre's planner (`TransferDesk`) moves a few units of what one site has most of to
the site with the least (POST /api/transfers), one transfer at a time: the sender's
packer packs it, the receiver's dock receives it (scripts/lib/demo_floor.py), and the
planner says each step as the centre sees it (open, in transit, received).
"""

import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from demo_floor import PRODUCTS

from hub import brokerconf
from kit.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
CENTRE = "hq"


@dataclass
class SiteOfCompany:
    """What one site of the demo company needs of the centre."""

    site: str
    bridge: brokerconf.CentreBridge
    stopping: threading.Event
    centre_api: Callable[..., dict]
    index: int  # the site's place in the centre's [[sites]]: its order numbers' million

    def centre_section(self) -> str:
        b = self.bridge
        return (f'[centre]\nhost = "{b.host}"\nport = {b.port}\ntls_ca = "{b.cafile}"\n'
                f'username = "{b.username}"\npassword = "{b.password}"\n')  # fmt: skip

    @property
    def order_offset(self) -> int:
        return self.index * 10**6

    def order_desk(self) -> Callable[[dict], None]:
        """Post an order at the centre; if it routes it elsewhere, move it to `site`,
        whose packer is waiting for it."""

        site = self.site

        def post(body: dict) -> None:
            self.centre_api("POST", "/api/orders", body)
            number = body["order"]
            routed = self.centre_api("GET", f"/api/sites/orders/{number}")
            say = f"centre: {number} routed to {routed['site']} ({routed['reason']})"
            if routed["site"] != site:
                self.centre_api("POST", f"/api/sites/orders/{number}/route", {"site": site})
                say += f"; moved to {site} by hand, where its packer waits"
            print(say, flush=True)

        return post


# What the planner moves: products without lots or serials (any unit will do).
MOVABLE = frozenset(p.sku for p in PRODUCTS if not p.lots and not p.serials)
SURPLUS = 6  # a site with at least this many more than another gives it some
STEPS = ("made", "open", "in_transit", "received")  # what the planner says of a transfer


@dataclass
class TransferDesk:
    """The centre's planner: one transfer at a time, of what one site has most of, to the
    site that has least of it; says each step of it as the centre hears of it."""

    api: Callable[..., dict]
    sites: list[str]
    stopping: threading.Event
    every_s: float
    told: dict[str, str] = field(default_factory=dict)  # transfer -> the status said

    def run(self) -> None:
        self.told = {t["transfer"]: t["status"] for t in self._latest()}  # said before
        while not self.stopping.wait(self.every_s):
            try:
                if not self.follow():
                    self.make_one()
            except (urllib.error.URLError, OSError) as exc:
                self.say(f"the planner's call failed: {exc} (tries again)")

    def follow(self) -> bool:
        """Say what changed; True while a transfer is under way."""
        latest = self._latest()
        for t in reversed(latest):
            # Each step once, in order, even one passed between two looks (a transfer
            # packed and received within the planner's pause was in transit all the same).
            told = STEPS.index(self.told.get(t["transfer"], "made"))
            for step in STEPS[told + 1:STEPS.index(t["status"]) + 1]:
                self.say(self._step(t, step))
            self.told[t["transfer"]] = t["status"]
        return any(t["status"] in ("open", "in_transit") for t in latest)

    def make_one(self) -> None:
        best: tuple[int, str, str, str] | None = None
        for item in self.api("GET", "/api/sites/stock?limit=1000")["stock"]:
            if item["sku"] not in MOVABLE:
                continue
            parts = {p["site"]: p["on_hand"] for p in item["sites"]}
            for giver in self.sites:
                for taker in self.sites:
                    gap = parts.get(giver, 0) - parts.get(taker, 0)
                    if taker != giver and gap >= SURPLUS and (best is None or gap > best[0]):
                        best = (gap, item["sku"], giver, taker)
        if best is None:
            return
        gap, sku, giver, taker = best
        qty = min(4, gap // 2)
        (made,) = self.api("POST", "/api/transfers", {"from_site": giver, "to_site": taker,
                                                      "lines": [{"sku": sku, "qty": qty}]})["saved"]  # fmt: skip
        self.told[made] = "open"
        self.say(f"transfer {made}: {qty} {sku} from {giver} to {taker} ({giver} has {gap} "
                 f"more); {giver}'s pack bench packs it")  # fmt: skip

    def _latest(self) -> list[dict]:
        return self.api("GET", "/api/transfers?limit=20")["transfers"]

    @staticmethod
    def _step(t: dict, step: str) -> str:
        name = f"transfer {t['transfer']} ({t['from_site']} -> {t['to_site']})"
        if step == "in_transit":
            units = sum(line["shipped"] for line in t["lines"])
            return (f"{name} in transit: {units} units worth {t['value_shipped']} at "
                    f"{t['from_site']}'s FIFO cost, still {t['from_site']}'s stock")  # fmt: skip
        if step == "received":
            units = sum(line["received"] for line in t["lines"])
            return (f"{name} received: {units} units at {t['to_site']}; {t['from_site']} "
                    "books its transit out")  # fmt: skip
        return f"{name} made"

    def say(self, text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} centre: {text}", flush=True)


@dataclass
class Centre:
    """The central broker (plain for the central hub, TLS for the sites' bridges) and
    the central hub."""

    var: Path
    web_port: int
    token: str
    broker_port: int = field(default_factory=free_port)
    bridge_port: int = field(default_factory=free_port)
    children: list[subprocess.Popen] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def ca(self) -> Path:
        return self.var / "tls" / "ca.crt"

    def start_broker(self, sites: list[str]) -> None:
        self.var.mkdir(parents=True, exist_ok=True)
        tls = self.var / "tls"
        if not self.ca.exists():
            subprocess.run([str(ROOT / "scripts" / "make-ca"), str(tls), "localhost",
                            "127.0.0.1"], check=True, capture_output=True)  # fmt: skip
        layout = brokerconf.BrokerLayout(
            self.var / "broker", port=self.broker_port, site=CENTRE,
            tls=brokerconf.TlsListener(self.ca, tls / "server.crt", tls / "server.key",
                                       port=self.bridge_port, host="127.0.0.1"),
        )  # fmt: skip
        brokerconf.write_config(layout, run_as_root=os.geteuid() == 0)
        brokerconf.add_user(layout, "central", self.password("central"), "central")
        brokerconf.add_user(layout, f"erp_{CENTRE}", self.password(f"erp_{CENTRE}"),
                            "integration")  # fmt: skip
        for site in sites:
            name = brokerconf.BRIDGE_PREFIX + site
            brokerconf.add_user(layout, name, self.password(name), "bridge")
        self._spawn("central-broker", ["mosquitto", "-c", str(layout.conf)])
        wait_for_port(self.broker_port)

    def bridge(self, site: str) -> brokerconf.CentreBridge:
        name = brokerconf.BRIDGE_PREFIX + site
        return brokerconf.CentreBridge("127.0.0.1", self.bridge_port, name,
                                       self.password(name), cafile=self.ca)  # fmt: skip

    def start_hub(self, sites: dict[str, str], web_user: Callable[[Path], None]) -> None:
        """`sites`: each site's id and web address, in routing order."""
        config = self.var / "hub.toml"
        config.write_text(
            f'[hub]\nsite = "{CENTRE}"\nmode = "central"\ndata_dir = "{self.var / "hub"}"\n'
            "demo = true\n"
            f'[mqtt]\nport = {self.broker_port}\nusername = "central"\n'
            f'password = "{self.password("central")}"\n'
            f"[web]\nport = {self.web_port}\n"
            f'[api]\ntokens = ["{self.token}"]\n'
            + "".join(f'[[sites]]\nid = "{site}"\napi = "{url}"\ntoken = "{self.token}"\n'
                      for site, url in sites.items())
        )  # fmt: skip
        web_user(config)
        self._spawn("central-hub", [sys.executable, "-m", "hub", "run", "--config", str(config)])
        wait_for_port(self.web_port)

    def api(self, method: str, path: str, body: object = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.web_port}{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def password(self, name: str) -> str:
        """Stable across restarts of the demo, so the sites' bridges stay valid."""
        path = self.var / "secrets.json"
        known = json.loads(path.read_text()) if path.exists() else {}
        known.setdefault(name, secrets.token_urlsafe(12))
        path.write_text(json.dumps(known))
        self.passwords[name] = known[name]
        return known[name]

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.var / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.children.append(subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=log, env=env,
                                              start_new_session=True))  # fmt: skip

    def stop(self) -> None:
        """The hub, then the broker."""
        for child in reversed(self.children):
            if child.poll() is None:
                child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
