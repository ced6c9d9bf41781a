"""The hub SIGKILLed while it applies a batch, and the broker killed and restarted with
and without its persistence directory: the ledger ends with every event exactly once."""

import shutil

import pytest

from tests.faults.rig import Rig

pytestmark = [pytest.mark.slow, pytest.mark.hub]

STATIONS = ("pack-1", "pack-2")


def test_hub_sigkilled_while_applying_a_batch(tmp_path):
    with Rig(tmp_path, STATIONS) as rig:
        rig.publish_orders(30)
        packers = [packer.start() for packer in rig.packers(30)]
        for _ in range(3):
            # A backlog builds while the hub is cut off, so it arrives as big batches...
            rig.hub_proxy.cut()
            rig.sleep(0.5, 1.5)
            rig.hub_proxy.restore()
            # ...and the hub dies somewhere in applying them.
            rig.sleep(0.0, 0.4)
            rig.hub.kill()
            rig.hub.start()
        for packer in packers:
            packer.join()
        rig.wait_all_applied()
        rig.assert_exactly_once()


@pytest.mark.parametrize("persistence", ["kept", "wiped"])
def test_broker_killed_and_restarted(tmp_path, persistence):
    with Rig(tmp_path, STATIONS) as rig:
        rig.publish_orders(30)
        packers = [packer.start() for packer in rig.packers(30)]
        for _ in range(2):
            rig.sleep(0.3, 1.5)
            rig.broker.kill()  # no final snapshot: the last autosave is all it has
            if persistence == "wiped":
                # A new broker machine: no retained acks, no hub session, no queued events.
                shutil.rmtree(rig.broker.layout.data, ignore_errors=True)
                rig.broker.layout.data.mkdir()
            rig.sleep(0.2, 1.0)
            rig.broker.start()
        for packer in packers:
            packer.join()
        rig.wait_all_applied()
        rig.assert_exactly_once()
