"""Each loop of the hub survives a bad item and goes on, and /healthz and the systemd
watchdog tell a stalled loop from a live one: the real hub process, broker and ledger."""

import contextlib
import socket

import msgspec
import pytest

from hub import store
from protocol.envelope import encode_event
from protocol.events import Adjustment
from protocol.messages import Applied
from protocol.topics import Topics
from tests.conftest import PASSWORDS
from tests.harness import Hub, wait_until
from tests.mqtt_client import TestClient

pytestmark = pytest.mark.hub

TOPICS = Topics("test")
# What POST /api/count-tasks made of station "zz+probe": a topic paho refuses to publish.
BAD_TOPIC = "wh/v1/test/station/zz+probe/count-tasks/CT-000001"


def _event(seq: int) -> bytes:
    data = Adjustment(sku="MUG-1", qty=1, location="A-01", reason="found")
    return encode_event("dock-1", "epoch-a", seq, data)


def test_an_outbox_row_paho_refuses_is_set_aside_and_the_rest_is_published(hub):
    hub.stop()  # the row is in the ledger file when the hub starts (as after a restart)
    conn = store.connect(hub.database)
    with store.transaction(conn):
        store.outbox_put(conn, BAD_TOPIC, b'{"task": "CT-000001", "location": "A-01"}', True)
    conn.close()
    hub.start()
    station = TestClient(hub.broker.port, "dock-1", PASSWORDS["dock-1"])
    station.subscribe(TOPICS.applied("dock-1"))
    try:
        station.publish(TOPICS.events("dock-1"), _event(1))

        def acked() -> bool:
            message = station.next(TOPICS.applied("dock-1"), timeout=20)
            return msgspec.json.decode(message.payload, type=Applied).seq == 1

        wait_until(acked, 30, "the ack published after the bad row")
    finally:
        station.close()
    dead = wait_until(
        lambda: hub.query("SELECT reason, source FROM dead_letters WHERE topic = ?", (BAD_TOPIC,)),
        10,
        "set aside",
    )
    [(reason, source)] = dead
    assert reason.startswith("not published:") and source == "outbox"
    assert hub.query("SELECT count(*) FROM outbox WHERE topic = ?", (BAD_TOPIC,)) == [(0,)]
    alerts = hub.api("GET", "/api/alerts")["alerts"]
    assert [a["kind"] for a in alerts if BAD_TOPIC in a["message"]] == ["outbox_failed"]
    assert hub.health()[0] == 200


def _datagrams(sock: socket.socket) -> list[str]:
    got = []
    with contextlib.suppress(BlockingIOError):
        while True:
            got.append(sock.recv(4096).decode())
    return got


def test_a_stalled_loop_makes_healthz_503_and_stops_the_watchdog(tmp_path, broker):
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.setblocking(False)
    env = {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "1000000"}
    hub = Hub(tmp_path / "hub", broker, PASSWORDS["hub"], env=env,
              extra_config="[health]\nstall_after_s = 2\n").start()  # fmt: skip
    station = TestClient(broker.port, "dock-1", PASSWORDS["dock-1"])
    lock = store.connect(hub.database)
    held = contextlib.ExitStack()
    try:
        seen: list[str] = []
        wait_until(lambda: seen.extend(_datagrams(notify)) or "WATCHDOG=1" in seen, 20,
                   "the watchdog fed")  # fmt: skip
        assert "READY=1" in seen
        status, body = hub.health()
        assert status == 200 and set(body["loops"]) == {"ingest", "outbox", "web",
                                                         "housekeeping"}  # fmt: skip

        # Another writer holds the ledger: the ingest waits (in SQLite's busy handler, or
        # for PostgreSQL's writer lock).
        held.enter_context(store.transaction(lock))
        station.publish(TOPICS.events("dock-1"), _event(1))
        stalled = wait_until(lambda: (lambda s, b: s == 503 and b)(*hub.health()), 20,
                             "healthz to report the stall")  # fmt: skip
        assert stalled["stalled"] == ["ingest"] and not stalled["loops"]["ingest"]["alive"]

        def stalled_for(seconds: float) -> bool:
            return hub.health()[1]["loops"]["ingest"]["last_progress_s"] > seconds

        wait_until(lambda: stalled_for(3), 20, "the stall to go on")
        _datagrams(notify)  # all sent until then
        # The watchdog is fed every 0.5 s while all are alive: none while a loop stalls.
        wait_until(lambda: stalled_for(5), 20, "the stall to go on")
        assert "WATCHDOG=1" not in _datagrams(notify)

        held.close()  # commits: the ingest goes on
        wait_until(lambda: hub.health()[0] == 200, 20, "healthz back to 200")
        wait_until(lambda: "WATCHDOG=1" in _datagrams(notify), 20, "the watchdog fed again")
        assert hub.query("SELECT seq FROM events") == [(1,)]
    finally:
        held.close()
        lock.close()
        station.close()
        hub.stop()
        notify.close()
