"""Unplugging a scanner or a scale (closing its pseudo-terminal) or switching the printer
off shows `missing` in the station's status at the hub; plugging it back recovers it, and
the bench works on."""

from decimal import Decimal

import pytest

from tests.conftest import PASSWORDS
from tests.e2e_bench import Bench
from tests.harness import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def pack(tmp_path, broker, hub):
    bench = Bench.start(tmp_path / "pack-1", broker, "pack-1", PASSWORDS["pack-1"], "pack")
    yield bench
    bench.stop()


def device_state(hub, device: str) -> str | None:
    rows = hub.api("GET", "/api/stations")["stations"]
    row = next((r for r in rows if r["station"] == "pack-1"), {})
    return (row.get("devices") or {}).get(device)


def wait_state(hub, device: str, state: str) -> None:
    wait_until(lambda: device_state(hub, device) == state, 30, f"{device} {state}")


def test_an_unplugged_scanner_is_missing_and_scans_again_once_replugged(hub, pack):
    pack.wait_ready(hub)
    pack.scanner.unplug()
    wait_state(hub, "hand", "missing")
    assert device_state(hub, "bench") == "ready"
    pack.scanner.replug()
    wait_state(hub, "hand", "ready")
    pack.scan("OP:alice")


def test_an_unplugged_scale_is_missing_and_weighs_again_once_replugged(hub, pack):
    pack.wait_ready(hub)
    pack.scale.unplug()
    wait_state(hub, "bench", "missing")
    pack.scale.replug()
    wait_state(hub, "bench", "ready")
    pack.scale.place(Decimal(500))
    pack.wait_weight(Decimal(500))


def test_a_printer_switched_off_is_missing_and_ready_when_back(hub, pack):
    pack.wait_ready(hub)
    pack.printer.power_off()
    wait_state(hub, "label", "missing")
    pack.printer.power_on()
    wait_state(hub, "label", "ready")
