"""A company for end-to-end tests: site brokers and hubs, a central broker and hub, each
site's broker bridged to the centre by the configuration hub/brokerconf.py generates from
the site hub's [centre] section (TLS to the central broker, with scripts/make-ca's CA).
Station traffic is published as the station would (protocol envelopes over MQTT), or made
by real stations on each site's broker (its `dock-1` and `pack-1` users: see
tests/test_multisite_stations.py).

With `central_workers = N` the central hub runs as N ingest workers (`--role ingest`, each
its own broker user `central-{i}`) and one web process (`--role web`, `central`) on one
ledger (docs/multi-site.md, "The central hub as several processes")."""

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from hub import brokerconf
from hub.ownership import worker_pid
from kit.ports import free_port
from kit.waiting import wait_until
from protocol.envelope import encode_event
from protocol.events import Adjustment, Move, Receipt
from protocol.topics import Topics
from tests.broker import Broker
from tests.harness import ROOT, TOKEN, Hub
from tests.mqtt_client import TestClient

PASSWORD = "pw-of-{}"
CENTRE = "centre"
SKUS = ("MUG-1", "TEE-2", "CAP-3")
STATIONS = ("dock-1", "pack-1")  # at every site: a dock door and a pack bench


@dataclass
class Site:
    """One warehouse: its broker (bridged to the centre), its hub, a dock station."""

    id: str
    broker: Broker
    hub: Hub
    station: str = "dock-1"
    epoch: str = "epoch-a"
    seq: int = 0

    def events(self, count: int) -> None:
        """`count` more station events (receipts at a cost, moves, adjustments out), each
        published once at QoS 1 to the site's broker, as a station's uplink does."""
        client = TestClient(self.broker.port, self.station, PASSWORD.format(self.station))
        try:
            for _ in range(count):
                self.seq += 1
                client.publish(Topics(self.id).events(self.station),
                               encode_event(self.station, self.epoch, self.seq,
                                            _event(self.seq)))  # fmt: skip
        finally:
            client.close()

    def publish(self, data) -> None:
        """One station event of the given kind (a shipment, a receipt against a PO)."""
        client = TestClient(self.broker.port, self.station, PASSWORD.format(self.station))
        try:
            self.seq += 1
            client.publish(Topics(self.id).events(self.station),
                           encode_event(self.station, self.epoch, self.seq, data))  # fmt: skip
        finally:
            client.close()

    def applied(self) -> int:
        rows = self.hub.query("SELECT applied FROM cursors WHERE station = ?", (self.station,))
        return rows[0][0] if rows else 0

    def wait_applied(self) -> None:
        wait_until(lambda: self.applied() == self.seq, 60, f"site {self.id} applied {self.seq}")

    def ledger_position(self) -> int:
        return self.hub.query("SELECT coalesce(max(id), 0) FROM movements")[0][0]

    def balances(self) -> dict[tuple, int]:
        rows = self.hub.query("SELECT sku, location, lot, owner, qty FROM balances")
        return {tuple(row[:4]): row[4] for row in rows}


def _event(seq: int):
    """A mix that moves FIFO value: receipts at changing costs, moves, issues."""
    sku = SKUS[seq % len(SKUS)]
    kind = seq % 4
    if kind in (0, 1):
        return Receipt(sku=sku, qty=5 + seq % 3, location="A-01", unit_cost=Decimal(f"{1 + seq % 5}.25"))
    if kind == 2:
        return Move(sku=sku, qty=2, from_="A-01", to="B-02")
    return Adjustment(sku=sku, qty=-1, location="A-01", reason="damaged")


@dataclass
class Company:
    dir: Path
    site_ids: tuple[str, ...] = ("s1", "s2")
    sites: dict[str, Site] = field(default_factory=dict)
    central_broker: Broker | None = None
    central: Hub | None = None  # the single process, or the web process of several
    central_workers: int = 0  # > 0: the central hub as that many ingest workers + 1 web
    workers: list[Hub] = field(default_factory=list)

    def start(self) -> "Company":
        tls = self.dir / "tls"
        subprocess.run([str(ROOT / "scripts/make-ca"), str(tls), "localhost", "127.0.0.1"],
                       check=True, capture_output=True)  # fmt: skip
        self.central_broker = self._central_broker(tls)
        for site in self.site_ids:
            self.sites[site] = self._site(site, tls / "ca.crt")
        if self.central_workers:
            self.workers = [self._central_hub(f"central-{i}", "ingest")
                            for i in range(1, self.central_workers + 1)]  # fmt: skip
            for worker in self.workers:
                worker.start()
            self.central = self._central_hub("central", "web")
        else:
            self.central = self._central_hub("central", "all")
        self.central.start()
        return self

    def _central_hub(self, user: str, role: str) -> Hub:
        """A process of the central hub (`user`: its broker user and its folder); the
        processes of one central hub share its data folder, hence its ledger."""
        sites = "".join(f'[[sites]]\nid = "{s.id}"\napi = "{s.hub.url}"\ntoken = "{TOKEN}"\n'
                        for s in self.sites.values())  # fmt: skip
        return Hub(self.dir / user, self.central_broker, PASSWORD.format(user), site=CENTRE,
                   username=user, hub_config='mode = "central"\n', extra_config=sites,
                   role=role, data_dir=self.dir / "central" / "data")  # fmt: skip

    def _central_broker(self, tls: Path) -> Broker:
        layout = brokerconf.BrokerLayout(
            self.dir / "central-broker", port=free_port(), site=CENTRE,
            tls=brokerconf.TlsListener(tls / "ca.crt", tls / "server.crt", tls / "server.key",
                                       port=free_port(), host="127.0.0.1"),
        )  # fmt: skip
        brokerconf.write_config(layout, run_as_root=os.geteuid() == 0)
        broker = Broker(layout)
        for user in ["central", *(f"central-{i}" for i in range(1, self.central_workers + 1))]:
            broker.add_user(user, PASSWORD.format(user), "central")
        for site in self.site_ids:
            name = brokerconf.BRIDGE_PREFIX + site
            broker.add_user(name, PASSWORD.format(name), "bridge")
        return broker.start()

    def _site(self, site: str, ca: Path) -> Site:
        """The site hub's config names the centre; the broker's bridge is made from it."""
        bridge_user = brokerconf.BRIDGE_PREFIX + site
        broker_dir = self.dir / f"{site}-broker"
        port = free_port()
        hub = Hub(self.dir / f"{site}-hub", None, PASSWORD.format("hub"), site=site,
                  extra_config=f'[centre]\nhost = "127.0.0.1"\n'
                               f"port = {self.central_broker.layout.tls.port}\n"
                               f'tls_ca = "{ca}"\nusername = "{bridge_user}"\n'
                               f'password = "{PASSWORD.format(bridge_user)}"\n')  # fmt: skip
        hub.broker = Broker(brokerconf.BrokerLayout(broker_dir, port=port, site=site))
        hub.write_config()
        recorded_site, bridge = brokerconf.bridge_from_hub_config(hub.config_path)
        layout = brokerconf.BrokerLayout(broker_dir, port=port, site=recorded_site,
                                         bridge=bridge)  # fmt: skip
        brokerconf.write_config(layout, run_as_root=os.geteuid() == 0)
        hub.broker = Broker(layout)
        hub.broker.add_user("hub", PASSWORD.format("hub"), "hub")
        for station in STATIONS:
            hub.broker.add_user(station, PASSWORD.format(station), "station")
        hub.broker.add_user("watch_site", PASSWORD.format("watch_site"), "reader")
        hub.broker.start()
        hub.start()
        return Site(site, hub.broker, hub)

    def stop(self) -> None:
        for hub in [self.central, *self.workers, *(s.hub for s in self.sites.values())]:
            if hub is not None and hub.proc is not None:
                hub.stop()
        for broker in [self.central_broker, *(s.broker for s in self.sites.values())]:
            if broker is not None:
                broker.stop()

    def __enter__(self) -> "Company":
        if shutil.which("mosquitto") is None or shutil.which("openssl") is None:
            raise RuntimeError("mosquitto and openssl are needed (scripts/test installs them)")
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what the centre knows ------------------------------------------------------
    def site_rows(self) -> dict[str, dict]:
        return {row["site"]: row for row in self.central.api("GET", "/api/sites")["sites"]}

    def wait_links(self, state: str) -> None:
        wait_until(lambda: all(r["link"] == state for r in self.site_rows().values()), 60,
                   f"every site's link {state}")  # fmt: skip

    def caught_up(self) -> bool:
        rows = self.site_rows()
        return all(rows[s.id]["applied"] == s.ledger_position() and rows[s.id]["lag_movements"]
                   == 0 for s in self.sites.values())  # fmt: skip

    def wait_caught_up(self) -> None:
        for site in self.sites.values():
            site.wait_applied()
        wait_until(self.caught_up, 90, "the centre applied every site's movements")

    def site_owner(self, site: str) -> Hub | None:
        """The central ingest worker whose lease on `site`'s stream holds now."""
        rows = self.central.query(
            "SELECT worker FROM station_leases WHERE station = ? AND expires_at >= ?",
            (f"site:{site}", time.time()),
        )
        pid = worker_pid(rows[0][0]) if rows else None
        return next((w for w in self.workers if w.proc.running and w.proc.process.pid == pid),
                    None)  # fmt: skip

    def centre_balances(self, site: str) -> dict[tuple, int]:
        rows = self.central.query(
            "SELECT sku, location, lot, owner, qty FROM site_balances WHERE site = ?", (site,)
        )
        return {tuple(row[:4]): row[4] for row in rows}

    def check(self, *site: str) -> subprocess.CompletedProcess:
        """`python -m hub check` of the centre (with `--site S`: against site S)."""
        return subprocess.run(
            [sys.executable, "-m", "hub", "check", "--config", str(self.central.config_path),
             *(("--site", *site) if site else ())],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
