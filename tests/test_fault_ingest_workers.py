"""Several hub processes on one ledger (`python -m hub run --role ingest`, `--role web`):
three ingest workers share the stations; one SIGKILLed while the stations scan, or cut
off from the broker, loses and doubles nothing, and its stations are taken over by the
others (and shared again when it is back). On PostgreSQL (`HUB_TEST_DB=postgresql`) the
same, and the database restarted while the stations scan."""

import json

import pytest

from hub.ownership import worker_pid
from protocol.topics import Topics
from tests import postgres
from tests.faults.rig import Rig, password
from tests.harness import wait_until
from tests.mqtt_client import TestClient

pytestmark = [pytest.mark.slow, pytest.mark.hub]

STATIONS = ("pack-1", "pack-2", "pack-3", "pack-4")
ORDERS = 40


def owners(rig: Rig) -> dict[str, int | None]:
    """station -> the pid of the worker process owning it now (None: nobody)."""
    return {s: worker_pid(w) for s, w in rig.leases().items()}


def stations_of(rig: Rig, pid: int) -> set[str]:
    return {s for s, owner in owners(rig).items() if owner == pid}


def hub_state(rig: Rig) -> str:
    """What the retained hub/status says now."""
    reader = TestClient(rig.broker.port, "observer_test", password("obs"))
    try:
        reader.subscribe(Topics("test").hub_status)
        return json.loads(reader.next(Topics("test").hub_status).payload)["state"]
    finally:
        reader.close()


def test_an_ingest_worker_sigkilled_mid_stream_loses_and_doubles_nothing(tmp_path):
    with Rig(tmp_path, STATIONS, workers=3) as rig:
        rig.wait_stations_owned()
        rig.publish_orders(ORDERS)
        packers = [packer.start() for packer in rig.packers(ORDERS)]
        rig.sleep(1.0, 2.5)
        victim = rig.worker_of("pack-1")
        held = stations_of(rig, victim.proc.process.pid)
        victim.kill()
        survivors = {w.proc.process.pid for w in rig.workers if w.proc.running}
        wait_until(lambda: all(owners(rig)[s] in survivors for s in held), 30,
                   "the killed worker's stations taken over")  # fmt: skip
        # The killed worker's will said offline; the worker that took its stations over
        # says online again.
        wait_until(lambda: hub_state(rig) == "online", 30, "hub/status online again")
        victim.start()  # as systemd would: it gets its share back while the stations scan
        for packer in packers:
            packer.join()
        rig.wait_all_applied()
        rig.assert_exactly_once()
        wait_until(lambda: stations_of(rig, victim.proc.process.pid), 30, "the share again")


def test_an_ingest_worker_cut_from_the_broker_hands_its_stations_over(tmp_path):
    with Rig(tmp_path, STATIONS, workers=3) as rig:
        rig.wait_stations_owned()
        rig.publish_orders(ORDERS)
        packers = [packer.start() for packer in rig.packers(ORDERS)]
        rig.sleep(1.0, 2.5)
        victim = rig.worker_of("pack-2")
        proxy = rig.worker_proxies[rig.workers.index(victim)]
        proxy.cut()
        wait_until(lambda: not stations_of(rig, victim.proc.process.pid), 30,
                   "the cut-off worker's stations let go")  # fmt: skip
        rig.wait_stations_owned()
        rig.sleep(0.5, 1.5)
        proxy.restore()
        for packer in packers:
            packer.join()
        rig.wait_all_applied()
        rig.assert_exactly_once()


@pytest.mark.skipif(not postgres.enabled(), reason="restarts the PostgreSQL cluster")
def test_postgresql_restarted_mid_stream_loses_and_doubles_nothing(tmp_path, postgres_cluster):
    """`pg_ctl stop -m immediate` and start again (every connection broken, as a crash of
    the server would) while four stations scan into three workers. The cluster is the
    session's: the restart is safe for the other tests because they run one at a time and
    every helper of theirs opens its connections anew; `restart` returns once it answers."""
    with Rig(tmp_path, STATIONS, workers=3) as rig, rig.supervised() as restarts:
        rig.wait_stations_owned()
        rig.publish_orders(ORDERS)
        packers = [packer.start() for packer in rig.packers(ORDERS)]
        rig.sleep(1.0, 2.5)
        postgres_cluster.restart()
        for packer in packers:
            packer.join()
        rig.wait_all_applied(timeout=120)
        rig.assert_exactly_once()
        rig.wait_stations_owned()
        # Every process rode it out, the ingest workers too (they used to stop on the
        # database's error, their taken messages left unacknowledged): each connected again
        # and applied what it had taken.
        assert restarts == []
        assert rig.hub.api("GET", "/api/stations")
