"""Each worker of a hub of several processes has its own `loop_failed` alert per loop
(hub.loop_alerts): another worker running clean does not clear it (with one alert per loop
it did, while the failing worker went on failing), its own clean running does, and once
the worker is no longer alive the worker keeping house clears it. A single hub keeps one
alert per loop, as before."""

import threading
import time
from datetime import UTC

import pytest

from hub import store
from hub.config import HubConfig
from hub.health import Heartbeats
from hub.housekeeper import Housekeeper
from hub.loop_alerts import LoopAlerts, clear_gone
from hub.ownership import worker_id
from tests.domain_helpers import TOPICS, open_ledger
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub

QUIET_S = 0.2


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    yield conn
    conn.close()


def open_loop_alerts(conn) -> dict[str, str]:
    return {a["dedupe"]: a["message"] for a in store.alerts_open(conn)
            if a["kind"] == "loop_failed"}  # fmt: skip


def clean_past_quiet(conn, *workers: LoopAlerts) -> None:
    time.sleep(QUIET_S * 1.5)
    for worker in workers:
        worker.clear_if_clean(conn, "ingest")


def test_a_worker_running_clean_leaves_another_workers_alert_open(conn):
    a, b = worker_id("ingest"), worker_id("ingest")
    failing = LoopAlerts(TOPICS, ["ingest"], QUIET_S, worker=a)
    clean = LoopAlerts(TOPICS, ["ingest"], QUIET_S, worker=b)
    failing.failed("ingest", OSError("disk I/O error"))
    failing.record(conn, ["ingest"])
    clean_past_quiet(conn, clean)
    assert list(open_loop_alerts(conn)) == [f"loop_failed:ingest:{a}"]
    assert open_loop_alerts(conn)[f"loop_failed:ingest:{a}"].startswith(
        f"worker {a}'s ingest loop failed since")
    clean_past_quiet(conn, failing)
    assert open_loop_alerts(conn) == {}


def test_the_alerts_of_workers_no_longer_alive_are_cleared(conn):
    gone, alive = worker_id("ingest"), worker_id("ingest")
    for worker in (gone, alive):
        alerts = LoopAlerts(TOPICS, ["ingest", "outbox"], QUIET_S, worker=worker)
        for loop in ("ingest", "outbox"):
            alerts.failed(loop, OSError("server closed the connection"))
        alerts.record(conn, ["ingest", "outbox"])
    with store.transaction(conn):
        assert clear_gone(conn, TOPICS, {alive}, "2026-03-02T10:00:00+00:00") == 2
    assert set(open_loop_alerts(conn)) == {f"loop_failed:ingest:{alive}",
                                           f"loop_failed:outbox:{alive}"}  # fmt: skip


def test_a_single_hub_keeps_one_alert_per_loop_and_it_is_never_a_gone_workers(conn):
    alerts = LoopAlerts(TOPICS, ["ingest"], QUIET_S)
    alerts.failed("ingest", OSError("disk I/O error"))
    alerts.record(conn, ["ingest"])
    with store.transaction(conn):
        assert clear_gone(conn, TOPICS, set(), "2026-03-02T10:00:00+00:00") == 0
    assert list(open_loop_alerts(conn)) == ["loop_failed:ingest"]
    assert open_loop_alerts(conn)["loop_failed:ingest"].startswith("the hub's ingest loop")


def test_the_worker_keeping_house_clears_the_alerts_of_workers_gone(tmp_path, conn):
    """What the housekeeping turn of a hub of several processes does (the worker holding
    the duty): a worker silent for longer than a lease is gone."""
    gone, alive = worker_id("ingest"), worker_id("ingest")
    now = time.time()
    with store.transaction(conn):
        for worker, beat in ((gone, now - 3600), (alive, now)):
            store.worker_beat(conn, store.Worker(worker, "host", 1, "ingest", beat, beat))
    for worker in (gone, alive):
        alerts = LoopAlerts(TOPICS, ["ingest"], QUIET_S, worker=worker)
        alerts.failed("ingest", OSError("disk I/O error"))
        alerts.record(conn, ["ingest"])
    keeper = Housekeeper(ledger_target(tmp_path / "ledger.db"), TOPICS, UTC, HubConfig(),
                         lambda: True, Heartbeats({"housekeeping": 60}),
                         LoopAlerts(TOPICS, ["housekeeping"], QUIET_S, alive),
                         lambda: None, threading.Event(), several=True)  # fmt: skip
    store.close_quietly(keeper._turn(None))
    assert list(open_loop_alerts(conn)) == [f"loop_failed:ingest:{alive}"]
