import shutil

import pytest

from station.drivers.sim.serial_scanner import SimSerialScanner
from tests.broker import start_broker
from tests.harness import Hub, Station

pytest_plugins = ["tests.webapp", "tests.chromium"]  # fixtures of the web and browser tests

PASSWORDS = {"hub": "hub-secret", "pack-1": "pack-secret", "dock-1": "dock-secret",
             "observer_test": "observer-secret"}  # fmt: skip


def pytest_collection_modifyitems(items):
    if shutil.which("mosquitto") is None:
        skip = pytest.mark.skip(reason="mosquitto is not installed (scripts/test installs it)")
        for item in items:
            if "broker" in item.fixturenames:
                item.add_marker(skip)


@pytest.fixture
def broker(tmp_path):
    users = {
        "hub": (PASSWORDS["hub"], "hub"),
        "pack-1": (PASSWORDS["pack-1"], "station"),
        "dock-1": (PASSWORDS["dock-1"], "station"),
        "observer_test": (PASSWORDS["observer_test"], "reader"),
    }
    broker = start_broker(tmp_path / "broker", users)
    yield broker
    broker.stop()


@pytest.fixture
def hub(tmp_path, broker):
    hub = Hub(tmp_path / "hub", broker, PASSWORDS["hub"]).start()
    yield hub
    hub.stop()


@pytest.fixture
def scanner():
    scanner = SimSerialScanner()
    yield scanner
    scanner.close()


@pytest.fixture
def pack_station(tmp_path, broker, scanner):
    station = Station(tmp_path / "pack-1", broker, "pack-1", PASSWORDS["pack-1"], scanner).start()
    yield station
    station.stop()
