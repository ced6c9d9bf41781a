"""The hub's housekeeping runs on a thread of its own: while a turn of it is held up (the
daily refresh reads for tens of seconds on a big catalog), the ingest goes on applying
the stations' events and acknowledging them. On the ingest thread, as it ran before, no
event was applied until the turn ended.

The real `python -m hub run` process on PostgreSQL, where another session can hold the
housekeeping's first read up (an exclusive lock on `abc_classes`, which nothing of the
ingest reads); its first turn runs as the hub starts. SQLite has no such lock a reader
waits for (hub.daily_refresh's own test holds the refresh up in-process on both)."""

import psycopg
import pytest

from hub import store
from protocol.envelope import encode_event
from protocol.events import Adjustment
from protocol.topics import Topics
from tests import postgres
from tests.conftest import PASSWORDS
from tests.harness import Hub, wait_until
from tests.mqtt_client import TestClient

pytestmark = [
    pytest.mark.hub,
    pytest.mark.skipif(not postgres.enabled(), reason="a read held up by a table lock"),
]

TOPICS = Topics("test")


def event(seq: int) -> bytes:
    return encode_event("pack-1", "e1", seq,
                        Adjustment(sku="MUG-1", qty=1, location="A-01", reason="found"))  # fmt: skip


def waiting_for_abc_classes(hub: Hub) -> bool:
    rows = hub.query("SELECT count(*) FROM pg_locks WHERE NOT granted "
                     "AND relation = 'abc_classes'::regclass")  # fmt: skip
    return rows[0][0] > 0


def test_events_are_applied_while_a_housekeeping_turn_is_held_up(tmp_path, broker):
    hub = Hub(tmp_path / "hub", broker, PASSWORDS["hub"])
    hub.data_path.mkdir(parents=True)
    conn = store.connect(hub.database)
    store.create_schema(conn)  # the ledger as the hub finds it, so the lock below can be taken
    conn.close()
    locker = psycopg.connect(hub.database, autocommit=True)
    station = None
    try:
        locker.execute("BEGIN")
        locker.execute("LOCK TABLE abc_classes IN ACCESS EXCLUSIVE MODE")
        hub.start()
        wait_until(lambda: waiting_for_abc_classes(hub), 30, "the housekeeping's first turn held up")
        station = TestClient(broker.port, "pack-1", PASSWORDS["pack-1"])
        for seq in range(1, 6):
            station.publish(TOPICS.events("pack-1"), event(seq))
        wait_until(lambda: hub.query("SELECT count(*) FROM events") == [(5,)], 30,
                   "the events applied while the housekeeping waits")  # fmt: skip
        assert waiting_for_abc_classes(hub)
        locker.execute("COMMIT")
        wait_until(lambda: hub.query("SELECT count(*) FROM report_runs") == [(3,)], 30,
                   "the housekeeping's turn done once let go")  # fmt: skip
    finally:
        locker.close()
        if station is not None:
            station.close()
        hub.stop()
