"""A station SIGKILLed at random moments while it journals and publishes loses and
doubles nothing: what it journaled reaches the ledger exactly once after it restarts."""

import pytest

from tests.faults.rig import Rig

pytestmark = pytest.mark.slow


def test_station_sigkilled_at_random_points_loses_and_doubles_nothing(tmp_path):
    with Rig(tmp_path) as rig:
        rig.publish_orders(40)
        station = rig.stations["pack-1"]
        [packer] = rig.packers(40)
        packer.start()
        for _ in range(4):
            rig.sleep(0.2, 1.0)
            station.kill()
            station.start()
        packer.join()
        rig.wait_all_applied()
        assert len(station.journal()) > 20
        rig.assert_exactly_once()
