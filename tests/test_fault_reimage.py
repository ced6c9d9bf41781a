"""A re-imaged station (new SD card: new journal, new epoch) works next to the events of
its old journal: both epochs are in the ledger once each, and the hub follows the new one."""

import pytest

from tests.faults.rig import Packer, Rig, journal_rows

pytestmark = pytest.mark.slow


def test_reimaged_station_starts_a_new_epoch_next_to_its_old_events(tmp_path):
    with Rig(tmp_path) as rig:
        rig.publish_orders(20)
        station = rig.stations["pack-1"]
        orders = rig.orders_for("pack-1", 20)
        Packer(station, orders[:10], rig.random).start().join()
        rig.wait_all_applied()
        old_epoch = station.epoch()
        station.stop()
        rig.reimage("pack-1")
        station.start()
        Packer(station, orders[10:], rig.random).start().join()
        rig.wait_all_applied()
        new_epoch = station.epoch()
        assert new_epoch != old_epoch
        rig.assert_exactly_once()
        per_epoch = dict(rig.hub.query("SELECT epoch, count(*) FROM events GROUP BY epoch"))
        assert per_epoch == {
            old_epoch: len(journal_rows(rig.old_journals[0])[1]),
            new_epoch: len(station.journal()),
        }
        assert rig.hub.query("SELECT epoch FROM stations") == [(new_epoch,)]
