"""The network between the stations, the hub and the broker fails (cut, reset, stalled,
slow) while packers keep working; once it heals, every event is in the ledger once."""

import pytest

from tests.faults.rig import Rig

pytestmark = pytest.mark.slow

STATIONS = ("pack-1", "pack-2")


def test_network_cut_while_stations_work_then_restored(tmp_path):
    with Rig(tmp_path, STATIONS) as rig:
        rig.publish_orders(30)
        packers = [packer.start() for packer in rig.packers(30)]
        for _ in range(3):
            rig.sleep(0.1, 0.6)
            for proxy in rig.proxies.values():
                proxy.cut()  # the stations go on packing from their cache
            rig.sleep(0.5, 2.0)
            for proxy in rig.proxies.values():
                proxy.restore()
        for packer in packers:
            packer.join()
        rig.wait_all_applied()
        rig.assert_exactly_once()


def test_connections_reset_mid_publish(tmp_path):
    with Rig(tmp_path, STATIONS) as rig:
        rig.publish_orders(30)
        packers = [packer.start() for packer in rig.packers(30)]
        while any(packer.thread.is_alive() for packer in packers):
            rig.sleep(0.1, 0.5)
            proxy = rig.random.choice([rig.hub_proxy, *rig.proxies.values()])
            proxy.reset()
        rig.wait_all_applied()
        rig.assert_exactly_once()


def test_stalled_and_slow_links(tmp_path):
    with Rig(tmp_path, STATIONS) as rig:
        rig.publish_orders(30)
        packers = [packer.start() for packer in rig.packers(30)]
        rig.hub_proxy.slow(0.02)
        rig.proxies["pack-1"].stall()  # nothing moves, yet the connection stays up
        rig.sleep(1.0, 2.5)
        rig.proxies["pack-1"].restore()
        rig.proxies["pack-2"].slow(0.05)
        for packer in packers:
            packer.join()
        rig.hub_proxy.restore()
        rig.proxies["pack-2"].restore()
        rig.wait_all_applied()
        rig.assert_exactly_once()
