"""A whole bench for end-to-end tests: a real `python -m station` process with a serial
scanner and an MT-SICS scale on pseudo-terminals and a loopback ZPL printer, and helpers
that drive it scan by scan, each step waiting for what the station journaled."""

import json
import sqlite3
from dataclasses import dataclass
from decimal import Decimal

from kit.ports import free_port
from station.drivers.sim.printer import PrinterTwin
from station.drivers.sim.scales import SimMtSicsScale
from station.drivers.sim.serial_scanner import SimSerialScanner
from tests.harness import Hub, Station, wait_until

GS = "\x1d"


def bench_config(scale: SimMtSicsScale, printer: PrinterTwin, roles: str) -> str:
    return (
        f'[[scales]]\nname = "bench"\nprotocol = "mt-sics"\nport = "{scale.path}"\n'
        f"poll_ms = 50\n"
        f'[[printers]]\nname = "label"\nurl = "{printer.url}"\nlanguage = "zpl"\n'
        f"roles = {roles}\n"
    )


# The badge that may override what a bench holds for a supervisor.
SUPERVISOR = "sue"


@dataclass
class Bench:
    station: Station
    scanner: SimSerialScanner
    scale: SimMtSicsScale
    printer: PrinterTwin

    @classmethod
    def start(cls, dir, broker, station_id: str, password: str, mode: str,
              site: str = "test") -> "Bench":
        dir.mkdir(parents=True, exist_ok=True)
        scanner = SimSerialScanner(str(dir / "scanner"))
        scale = SimMtSicsScale(str(dir / "scale"))
        printer = PrinterTwin().start()
        roles = '["shipping", "putaway"]'
        station = Station(dir / "station", broker, station_id, password, scanner, mode=mode,
                          extra_config=bench_config(scale, printer, roles),
                          station_config=f'supervisors = ["{SUPERVISOR}"]\n',
                          kiosk_port=free_port(), site=site)  # fmt: skip
        station.start()
        return cls(station, scanner, scale, printer)

    def stop(self) -> None:
        self.station.stop()
        self.scanner.close()
        self.scale.close()
        self.printer.stop()

    # --- waiting for the station ------------------------------------------------------
    def wait_ready(self, hub: Hub) -> None:
        """The hub sees the station online with scanner, scale and printer ready."""

        def ready():
            rows = hub.api("GET", "/api/stations")["stations"]
            row = next((r for r in rows if r["station"] == self.station.station_id), None)
            devices = (row or {}).get("devices") or {}
            return all(devices.get(d) == "ready" for d in ("hand", "bench", "label"))

        wait_until(ready, 30, f"{self.station.station_id} ready ({self.station.proc.log()})")

    def wait_cached(self, kind: str, key: str) -> None:
        """`kind`: orders, purchase-orders, catalog, count-tasks."""
        wait_until(lambda: self.station.cached(kind, key), 20, f"{kind}/{key} cached")

    def wait_weight(self, grams: Decimal) -> None:
        """The station holds `grams` as the scale's settled weight."""
        wanted = f"{grams:.2f}"

        def settled():
            shown = self.station.snapshot()
            return shown.get("weight_g") == wanted and shown.get("scale_stable")

        wait_until(settled, 20, f"scale settled at {wanted} g")

    # --- the journal -------------------------------------------------------------------
    def events(self, kind: str | None = None) -> list[dict]:
        """Every journaled event's envelope (of one type), in seq order."""
        path = self.station.journal_path
        if not path.exists():
            return []
        conn = sqlite3.connect(path, timeout=10)
        try:
            rows = conn.execute("SELECT payload FROM journal ORDER BY seq").fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            conn.close()
        envelopes = [json.loads(row[0]) for row in rows]
        return [e for e in envelopes if kind is None or e["type"] == kind]

    def verdicts(self) -> list[str]:
        return [e["data"]["verdict"] for e in self.events("scan")]

    # --- scanning ----------------------------------------------------------------------
    def scan(self, code: str, expect: str = "ok", symbology: str | None = None) -> None:
        """Scan `code` and wait until the station has journaled its verdict `expect`."""
        before = len(self.verdicts())
        self.scanner.scan(code, symbology)
        verdicts = wait_until(lambda: self.verdicts()[before:], 20, f"verdict for {code!r}")
        assert verdicts == [expect], f"{code!r}: {verdicts} ({self.station.snapshot()})"

    def scan_all(self, *codes: str) -> None:
        for code in codes:
            self.scan(code)


def gs1(gtin: str, expiry: str | None = None, lot: str | None = None) -> str:
    """A GS1-128 element string: (01) GTIN-14, (17) YYMMDD, (10) lot last (no separator)."""
    code = "01" + gtin.zfill(14)
    if expiry:
        code += "17" + expiry
    if lot:
        code += "10" + lot
    return code
