"""Events held in an epoch the station no longer journals are alerted once while that
stands, and alerted again when it comes back after it was over (a station that went back to
that journal's copy and left it again), even after a supervisor cleared the first alert."""

import pytest

from hub import store
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode, encode_event
from protocol.events import Adjustment
from protocol.messages import StationStatus
from tests.domain_helpers import TOPICS, TS, open_ledger

pytestmark = pytest.mark.hub

STATION = "pack-1"


def event(seq: int) -> Incoming:
    adjustment = Adjustment(sku="MUG-1", qty=1, location="A-01", reason="found")
    return Incoming(TOPICS.events(STATION), encode_event(STATION, "e1", seq, adjustment, TS))


def journals(epoch: str, conn: int) -> Incoming:
    """The station's status: online, journaling `epoch`."""
    status = StationStatus(state="online", conn=conn, ts=TS, epoch=epoch)
    return Incoming(TOPICS.station_status(STATION), encode(status))


def stale_alerts(conn) -> list[dict]:
    return [a for a in store.alerts_open(conn) if a["kind"] == "held_old_epoch"]


def test_a_held_old_epoch_is_alerted_again_when_it_comes_back(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    ingest = Ingest(conn, TOPICS, resync_after_s=1.0)
    ingest.process([event(1), event(3)])  # seq 2 missing: seq 3 held
    ingest.process([journals("e2", conn=1)])  # re-imaged: e1's seq 2 can never come
    assert ingest.due_resyncs(now=10.0) == []
    [alert] = stale_alerts(conn)
    assert ingest.due_resyncs(now=20.0) == [] and len(stale_alerts(conn)) == 1  # not repeated

    with store.transaction(conn):  # a supervisor clears it on the Alerts page
        assert store.alert_clear_id(conn, alert["id"], TS.isoformat())
    assert ingest.due_resyncs(now=30.0) == [] and stale_alerts(conn) == []  # still the same

    ingest.process([journals("e1", conn=2)])  # back on the old journal: asked for seq 2
    assert ingest.due_resyncs(now=40.0) == []  # a gap is given resync_after_s to fill
    assert ingest.due_resyncs(now=41.0) == [(STATION, "e1", 2)]
    ingest.process([journals("e2", conn=3)])  # and away from it again, seq 2 still missing
    assert ingest.due_resyncs(now=50.0) == []
    [again] = stale_alerts(conn)
    assert again["id"] != alert["id"]
    conn.close()
