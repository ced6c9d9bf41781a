"""Duplicated and reordered deliveries, from a publisher that replays a station's
envelopes shuffled and twice, are applied once each and in seq order."""

import pytest

from tests.faults.rig import Rig, journal_rows, password
from tests.faults.rogue import replay
from tests.harness import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.hub]


def test_duplicated_and_reordered_deliveries_apply_once_in_order(tmp_path):
    with Rig(tmp_path) as rig:
        rig.publish_orders(20)
        station = rig.stations["pack-1"]
        proxy = rig.proxies["pack-1"]
        [packer] = rig.packers(20)
        packer.start()
        rig.sleep(0.5, 1.0)
        proxy.cut()  # what follows is journaled but not yet sent: the seqs the hub lacks
        packer.join()
        wait_until(lambda: len(station.journal()) >= 60, 30, "the orders journaled")
        station.stop()
        epoch, rows = journal_rows(station.journal_path)
        # Old envelopes (applied already) and new ones, shuffled and doubled.
        for _ in range(2):
            replay(rig.broker.port, "pack-1", password("pack-1"), [p for _s, p in rows],
                   rig.random)  # fmt: skip
        wait_until(lambda: rig.cursor("pack-1", epoch) == rows[-1][0], 30, "replay applied")
        proxy.restore()
        station.start()  # and the station itself re-sends from the hub's ack
        rig.wait_all_applied()
        rig.assert_exactly_once()
        applied_order = rig.hub.query(
            "SELECT seq FROM events WHERE station = 'pack-1' AND epoch = ? ORDER BY id", (epoch,)
        )
        assert [seq for (seq,) in applied_order] == list(range(1, rows[-1][0] + 1))
