import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

from station.drivers.sim.serial_scanner import SimSerialScanner
from tests import postgres
from tests.broker import start_broker
from tests.harness import Hub, Station

pytest_plugins = ["tests.webapp", "tests.chromium"]  # fixtures of the web and browser tests

PASSWORDS = {"hub": "hub-secret", "pack-1": "pack-secret", "dock-1": "dock-secret",
             "observer_test": "observer-secret"}  # fmt: skip

# Tests assert no timings (a house rule): hypothesis's deadline and its too_slow health
# check are timings, and on a loaded CI machine they failed tests whose code was fine.
settings.register_profile("house", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("house")


@pytest.hookimpl(trylast=True)  # after the folders' own hooks have marked their items
def pytest_collection_modifyitems(config, items):
    if postgres.enabled():
        # On PostgreSQL only the hub's tests run, and not those about SQLite itself.
        keep = [i for i in items if "hub" in i.keywords and "sqlite_only" not in i.keywords]
        kept = {id(i) for i in keep}
        config.hook.pytest_deselected(items=[i for i in items if id(i) not in kept])
        items[:] = keep
    if shutil.which("mosquitto") is None:
        skip = pytest.mark.skip(reason="mosquitto is not installed (scripts/test installs it)")
        for item in items:
            if "broker" in item.fixturenames:
                item.add_marker(skip)
    # The files with slow tests first, each file's tests kept together and in order:
    # scripts/test hands out whole files in this order, and a long file handed out last
    # kept one process busy minutes after the other had finished.
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


@pytest.fixture(scope="session", autouse=True)
def postgres_cluster():
    """With HUB_TEST_DB=postgresql, the cluster the tests' ledgers live in."""
    if not postgres.enabled():
        yield None
        return
    cluster = postgres.Cluster.new().start()
    os.environ[postgres.ADMIN_URL] = cluster.url("postgres")
    try:
        yield cluster
    finally:
        del os.environ[postgres.ADMIN_URL]
        cluster.stop()


@pytest.fixture(scope="module", autouse=True)
def postgres_module_databases(postgres_cluster):
    """The databases a module's fixtures made are put back after its last test."""
    yield
    if postgres_cluster is not None:
        postgres.put_back(postgres.test_databases())


@pytest.fixture(autouse=True)
def postgres_test_databases(postgres_module_databases, postgres_cluster):
    """Those a test made are put back after it (set up after the module's fixtures, torn
    down after the test's own)."""
    if postgres_cluster is None:
        yield
        return
    before = postgres.test_databases()
    yield
    postgres.put_back(postgres.test_databases() - before)


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
