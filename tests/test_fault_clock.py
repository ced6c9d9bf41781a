"""A station whose clock jumps days forward and back: the hub orders its events by seq,
stamps its own receive time, and refuses or reorders nothing."""

from datetime import datetime, timedelta

import pytest

from protocol.envelope import CLOCK_OFFSET_ENV
from tests.faults.rig import Packer, Rig

pytestmark = pytest.mark.slow

DAY = 24 * 3600


def test_station_clock_jumped_days_forward_and_back(tmp_path, monkeypatch):
    with Rig(tmp_path) as rig:
        rig.publish_orders(30)
        station = rig.stations["pack-1"]
        orders = rig.orders_for("pack-1", 30)
        for phase, offset in enumerate((3 * DAY, -5 * DAY, 0)):
            station.stop()
            monkeypatch.setenv(CLOCK_OFFSET_ENV, str(offset))  # the child's clock only
            station.start()
            monkeypatch.delenv(CLOCK_OFFSET_ENV)
            Packer(station, orders[phase * 10 : phase * 10 + 10], rig.random).start().join()
        rig.wait_all_applied()
        rig.assert_exactly_once()
        rows = rig.hub.query("SELECT seq, ts, hub_ts FROM events ORDER BY id")
        assert [seq for seq, _ts, _hub in rows] == list(range(1, len(rows) + 1))
        skews = {round((_parse(ts) - _parse(hub)) / timedelta(days=1)) for _s, ts, hub in rows}
        assert skews == {3, -5, 0}  # the station's word kept as it was sent
        hub_times = [_parse(hub) for _s, _ts, hub in rows]
        assert hub_times == sorted(hub_times)  # the hub's own clock orders what it received


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
