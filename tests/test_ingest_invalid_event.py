"""A station event that fails the protocol's contract, but says which event of its journal
it is, is set aside as one the hub cannot apply, as one holding a NUL is: a dead letter
naming why, an `event_failed` alert, the station's later events held until a supervisor
skips it, resends counted, and never asked for again and again (docs/reliability.md)."""

import json

import pytest

from hub import store
from hub.check import check
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode_event
from protocol.events import Adjustment
from tests.domain_helpers import TOPICS, TS, open_ledger

pytestmark = pytest.mark.hub

STATION = "pack-1"
REASON = "adjustment: Expected `int`, got `str` - at `$.qty`"


def message(seq: int) -> Incoming:
    payload = encode_event(STATION, "e1", seq, Adjustment(sku="MUG-1", qty=seq, location="A-01",
                                                          reason="found"), TS)  # fmt: skip
    if seq == 2:  # a quantity as text: the contract refuses it
        envelope = json.loads(payload)
        envelope["data"]["qty"] = "two"
        payload = json.dumps(envelope).encode()
    return Incoming(TOPICS.events(STATION), payload)


def failed_alerts(conn) -> list[dict]:
    return [a for a in store.alerts_open(conn) if a["kind"] == "event_failed"]


@pytest.mark.parametrize("batches", [[[1, 2, 3]], [[3, 2], [1]]], ids=["in-order", "held"])
def test_an_invalid_event_is_set_aside_and_not_asked_for_again_and_again(tmp_path, batches):
    conn = open_ledger(tmp_path / "ledger.db")
    ingest = Ingest(conn, TOPICS, resync_after_s=1.0)
    for batch in batches:
        ingest.process([message(seq) for seq in batch])
    if batches[0][0] == 3:
        # Seq 2 came before seq 1, ahead of a gap: a dead letter only, and asked for once
        # the gap stands; the station sends it again.
        assert ingest.due_resyncs(now=0.0) == []
        assert ingest.due_resyncs(now=10.0) == [(STATION, "e1", 2)]
        ingest.process([message(2)])

    assert store.on_hand(conn, "MUG-1") == 1  # seq 1 applied, seq 3 waits behind seq 2
    [failure] = store.event_failures(conn)
    assert (failure.station, failure.epoch, failure.seq, failure.reason) == (STATION, "e1", 2,
                                                                            REASON)  # fmt: skip
    [dead] = store.dead_letters(conn, 10)
    assert dead["reason"] == REASON and dead["payload"] == message(2).payload.decode()
    [alert] = failed_alerts(conn)
    assert REASON in alert["message"] and alert["station"] == STATION
    assert not check(conn).ok  # the station is held: someone has to decide
    # Not asked for again: it would only fail again.
    assert ingest.due_resyncs(now=100.0) == ingest.due_resyncs(now=1000.0) == []

    ingest.process([message(2)])  # sent again all the same: counted, alerted once
    assert [d["repeats"] for d in store.dead_letters(conn, 10)] == [3 if len(batches) == 2
                                                                    else 2]  # fmt: skip
    assert len(failed_alerts(conn)) == 1

    store.event_failure_decide(conn, STATION, "e1", 2, "supervisor", "a bad quantity",
                               TS.isoformat())  # fmt: skip
    assert ingest.skip_decided() == 1
    assert store.on_hand(conn, "MUG-1") == 4  # seq 3 applied after the skip
    assert failed_alerts(conn) == []
    assert check(conn).ok
    conn.close()


def test_a_valid_resend_of_the_failed_seq_in_the_same_batch_lifts_the_hold(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    ingest = Ingest(conn, TOPICS)
    valid_2 = Incoming(TOPICS.events(STATION), encode_event(
        STATION, "e1", 2, Adjustment(sku="MUG-1", qty=2, location="A-01", reason="found"), TS))
    ingest.process([message(1), message(2), valid_2, message(3)])
    assert store.on_hand(conn, "MUG-1") == 6
    assert store.event_failures(conn) == [] and failed_alerts(conn) == []
    assert check(conn).ok
    conn.close()

