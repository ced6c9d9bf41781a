"""Dead letters stay bounded (the first bytes of each, capped per station and in all, the
counts kept), and a station event the ledger cannot take holds its station only until a
supervisor's recorded decision: the real hub, broker and ledger file."""

import os
import subprocess
import sys

import msgspec
import pytest

from hub import store
from hub.config import DeadLetterSection
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode_event
from protocol.events import Adjustment
from protocol.messages import Applied
from protocol.topics import Topics
from tests.conftest import PASSWORDS
from tests.harness import ROOT, Hub, wait_until
from tests.mqtt_client import TestClient

pytestmark = pytest.mark.hub

TOPICS = Topics("test")


def _ledger_bytes(hub: Hub) -> int:
    if store.is_postgres_url(hub.database):
        return hub.query("SELECT pg_database_size(current_database())")[0][0]
    return sum(os.path.getsize(p) for p in hub.db_path.parent.glob("ledger.db*"))


def _flood(hub: Hub, messages: int, size: int, cap: int = 10_000) -> None:
    station = TestClient(hub.broker.port, "dock-1", PASSWORDS["dock-1"])
    try:
        for i in range(messages):
            station.publish(TOPICS.events("dock-1"), b"%06d" % i + os.urandom(size // 2).hex()[
                : size - 6].encode())  # fmt: skip
    finally:
        station.close()
    # Each message is a new dead letter (none repeats another): all there once counted.
    wait_until(lambda: hub.query("SELECT count(*) FROM dead_letters")[0][0] >= min(messages, cap),
               60, "all dead-lettered")  # fmt: skip


def test_a_flood_of_big_invalid_messages_leaves_the_ledger_small(hub):
    before = _ledger_bytes(hub)
    _flood(hub, 200, 255_000)
    # 200 x 255 KB were stored whole before (51 MB): now the first 4 KiB of each (0.8 MB).
    # The bound leaves room for SQLite's WAL, which outgrows its 4 MB checkpoint mark while
    # readers hold snapshots (a loaded machine: the pages' and this test's reads).
    assert _ledger_bytes(hub) - before < 10_000_000
    assert hub.query("SELECT count(*), max(length(payload)), min(size) FROM dead_letters") == [
        (200, 4096, 255_000)
    ]


def test_dead_letters_are_capped_per_station_and_counted_on_the_alerts_page(tmp_path, broker):
    hub = Hub(tmp_path / "hub", broker, PASSWORDS["hub"],
              extra_config="[dead_letters]\nper_source = 50\n").start()  # fmt: skip
    try:
        _flood(hub, 120, 1000, cap=50)
        wait_until(lambda: hub.query("SELECT received FROM dead_letter_counts") == [(120,)], 20,
                   "all counted")  # fmt: skip
        assert hub.query("SELECT count(*) FROM dead_letters") == [(50,)]
        assert hub.query("SELECT received, dropped FROM dead_letter_counts") == [(120, 70)]
        # The newest are kept.
        kept = sorted(bytes(p)[:6] for (p,) in hub.query("SELECT payload FROM dead_letters"))
        assert kept == [b"%06d" % i for i in range(70, 120)]
        check = _check(hub)
        assert check["dead_letters"] == [{"source": "dock-1", "received": 120, "dropped": 70,
                                          "kept": 50}]  # fmt: skip
    finally:
        hub.stop()


def _check(hub: Hub) -> dict:
    done = subprocess.run([sys.executable, "-m", "hub", "check", "--config",
                           str(hub.config_path)], cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    report = msgspec.json.decode(done.stdout)
    assert (done.returncode == 0) == report["ok"]
    return report


def _event(seq: int) -> bytes:
    data = Adjustment(sku="MUG-1", qty=seq, location="A-01", reason="found")
    return encode_event("dock-1", "epoch-a", seq, data)


def test_an_event_the_ledger_refuses_holds_its_station_until_a_supervisor_skips_it(hub):
    hub.stop()
    conn = store.connect(hub.database)
    # A fault in the ledger that refuses this one station event (any apply failure would
    # do: a value it cannot store, a bug); the hub's own `skipped` record passes.
    refuse = "NEW.station = 'dock-1' AND NEW.seq = 2 AND NEW.type != 'skipped'"
    if store.is_postgres(conn):
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'injected' USING ERRCODE = 'check_violation'; END $$"
        )
        conn.execute(f"CREATE TRIGGER refuse_dock_2 BEFORE INSERT ON events FOR EACH ROW "
                     f"WHEN ({refuse}) EXECUTE FUNCTION refuse()")  # fmt: skip
    else:
        conn.execute(f"CREATE TRIGGER refuse_dock_2 BEFORE INSERT ON events WHEN {refuse} "
                     "BEGIN SELECT RAISE(ABORT, 'injected'); END")  # fmt: skip
    conn.close()
    hub.start()
    station = TestClient(hub.broker.port, "dock-1", PASSWORDS["dock-1"])
    station.subscribe(TOPICS.applied("dock-1"))
    journal = {seq: _event(seq) for seq in (1, 2, 3)}
    try:
        for seq in (1, 2, 3):
            station.publish(TOPICS.events("dock-1"), journal[seq])
        [failure] = wait_until(lambda: hub.api("GET", "/api/event-failures")["event_failures"],
                               20, "the event set aside")  # fmt: skip
        assert (failure["seq"], failure["decided"]) == (2, None)
        assert "injected" in failure["reason"]
        wait_until(lambda: hub.query("SELECT seq FROM pending") == [(3,)], 20, "3 held")
        # The station resends (its ack stays at 1): counted on the same dead letter.
        station.publish(TOPICS.events("dock-1"), journal[2])
        wait_until(lambda: hub.query("SELECT repeats FROM dead_letters") == [(2,)], 20,
                   "the resend counted")  # fmt: skip
        kinds = [a["kind"] for a in hub.api("GET", "/api/alerts")["alerts"]]
        assert kinds.count("event_failed") == 1
        report = _check(hub)
        assert not report["ok"]
        assert [(f["station"], f["seq"]) for f in report["failed_events"]] == [("dock-1", 2)]
        assert [h["first_held"] for h in report["held"]] == [3]

        path = "/api/event-failures/dock-1/epoch-a/2/skip"
        assert _status(hub, path, {}) == 400  # a decision says why
        hub.api("POST", path, {"note": "receipt typed in by hand, see ticket 12"})
        assert _status(hub, path, {"note": "again"}) == 409

        def acked_3() -> bool:
            message = station.next(TOPICS.applied("dock-1"), timeout=20)
            return msgspec.json.decode(message.payload, type=Applied).seq == 3

        wait_until(acked_3, 30, "the station's later events applied")
    finally:
        station.close()
    assert hub.query("SELECT seq, type FROM events ORDER BY seq") == [
        (1, "adjustment"),
        (2, "skipped"),
        (3, "adjustment"),
    ]
    [(data,)] = hub.query("SELECT data FROM events WHERE seq = 2")
    assert msgspec.json.decode(data)["skipped_by"] == "api-token"
    assert hub.query("SELECT qty FROM balances") == [(1 + 3,)]
    [failure] = hub.api("GET", "/api/event-failures")["event_failures"]
    assert failure["decided_by"] == "api-token" and failure["note"].startswith("receipt")
    assert _check(hub)["ok"]
    assert "event_failed" not in [a["kind"] for a in hub.api("GET", "/api/alerts")["alerts"]]


def _status(hub: Hub, path: str, body: dict) -> int:
    import urllib.error

    try:
        hub.api("POST", path, body)
    except urllib.error.HTTPError as exc:
        return exc.code
    return 200


def test_a_batch_never_commits_more_dead_letters_than_the_cap(tmp_path):
    """The cap is kept in the batch's own transaction: a reader (the alerts page, another
    process) never sees a station over it, not even between two commits."""
    conn = store.connect(tmp_path / "ledger.db")
    store.create_schema(conn)
    ingest = Ingest(conn, TOPICS, dead_letters=DeadLetterSection(per_source=50))
    batch = [Incoming(TOPICS.events("dock-1"), b"not json %d" % i) for i in range(60)]
    assert ingest.process(batch).dead == 60
    assert conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 50
