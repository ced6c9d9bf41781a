"""Several hub processes on one ledger (`python -m hub run --role ingest`, `--role web`):
three ingest workers share the stations; one SIGKILLed while the stations scan loses and
doubles nothing, and its stations are taken over by the others."""

import pytest

from tests.faults.rig import Rig

pytestmark = pytest.mark.slow

STATIONS = ("pack-1", "pack-2", "pack-3", "pack-4")


def test_an_ingest_worker_sigkilled_mid_stream_loses_and_doubles_nothing(tmp_path):
    with Rig(tmp_path, STATIONS, workers=3) as rig:
        rig.wait_stations_owned()
        rig.publish_orders(40)
        packers = [packer.start() for packer in rig.packers(40)]
        rig.sleep(1.0, 2.5)
        victim = rig.worker_of("pack-1")
        held = {s for s, worker in rig.leases().items() if worker.split(":")[1] == str(
            victim.proc.process.pid)}  # fmt: skip
        victim.kill()
        for packer in packers:
            packer.join()
        rig.wait_all_applied()
        rig.assert_exactly_once()
        survivors = {str(w.proc.process.pid) for w in rig.workers if w.proc.running}
        leases = rig.leases()
        assert held and all(leases[s].split(":")[1] in survivors for s in held), leases
