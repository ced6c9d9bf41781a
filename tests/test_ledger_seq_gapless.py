"""A site hub numbers its movements (`ledger_seq`) 1, 2, 3... with no hole on both backends,
even when a transaction that took a number rolls back: the centre applies a site's
movements in that order and waits on a hole (docs/multi-site.md). On PostgreSQL an
identity column hands out numbers a rollback never gives back."""

import msgspec
import pytest

from hub import store
from hub.central import CentralIngest
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode, encode_event
from protocol.events import Adjustment
from protocol.messages import AppliedMovement, ResendMovements
from protocol.topics import Topics
from tests.domain_helpers import TS, open_ledger

pytestmark = pytest.mark.hub

SITE = Topics("s1")
# What the database of the test refuses, at the database itself: the event that adjusts
# this SKU fails after its event and earlier events of the batch took their numbers.
REFUSED_SKU = "REFUSED-1"


def refuse_a_sku(conn) -> None:
    if store.is_postgres(conn):
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON balances FOR EACH ROW "
            f"WHEN (NEW.sku = '{REFUSED_SKU}') EXECUTE FUNCTION refuse()"
        )
    else:
        conn.execute(
            f"CREATE TRIGGER refuse BEFORE INSERT ON balances WHEN NEW.sku = '{REFUSED_SKU}' "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )


def event(seq: int, sku: str) -> Incoming:
    data = Adjustment(sku=sku, qty=1, location="A-01", reason="found")
    return Incoming(SITE.events("dock-1"), encode_event("dock-1", "e1", seq, data, TS))


def apply_as_the_hub_does(ingest: Ingest, batch: list[Incoming]) -> None:
    """A batch in one transaction; when it fails, its messages one by one, and the one that
    fails alone is set aside (hub/app.py)."""
    try:
        ingest.process(batch)
    except store.item_errors():
        for message in batch:
            try:
                ingest.process([message])
            except store.item_errors() as exc:
                ingest.set_aside(message, exc)


def movements_published(conn, after: int = 0) -> list[AppliedMovement]:
    return [msgspec.json.decode(payload, type=AppliedMovement)
            for _id, topic, payload, _r in store.outbox_read(conn, after, 10_000)
            if topic == SITE.movements]  # fmt: skip


def test_a_rolled_back_transaction_leaves_no_hole_in_ledger_seq(tmp_path):
    conn = open_ledger(tmp_path / "site.db")
    refuse_a_sku(conn)
    ingest = Ingest(conn, SITE)
    apply_as_the_hub_does(ingest, [event(1, "MUG-1"), event(2, "MUG-1"), event(3, REFUSED_SKU)])
    conn.execute("DROP TRIGGER refuse" + (" ON balances" if store.is_postgres(conn) else ""))
    # The refused event was set aside: a supervisor skips it, then the station goes on.
    [failure] = store.event_failures(conn, undecided_only=True)
    store.event_failure_decide(conn, failure.station, failure.epoch, failure.seq, "supervisor",
                               "refused by the test", TS.isoformat())  # fmt: skip
    ingest.skip_decided()
    apply_as_the_hub_does(ingest, [event(4, "MUG-1"), event(5, "TEE-2")])

    ids = [row[0] for row in conn.execute("SELECT id FROM movements ORDER BY id")]
    assert ids == [1, 2, 3, 4]
    assert store.ledger_position(conn) == 4
    live = movements_published(conn)
    assert [m.ledger_seq for m in live] == [1, 2, 3, 4]

    # The centre takes every one of them, asked again from the start or not: nothing waits.
    last = store.outbox_last_id(conn)
    ingest.process([Incoming(SITE.resend_movements, encode(ResendMovements(from_=1)))])
    again = movements_published(conn, last)
    assert again == live
    centre_conn = store.connect(tmp_path / "centre.db")
    store.create_schema(centre_conn)
    centre = CentralIngest(centre_conn, Topics("hq"), ["s1"], resend_after_s=2.0)
    result = centre.process([Incoming(SITE.movements, encode(m)) for m in again])
    assert (result.applied, result.held) == (4, 0)
    assert store.site_link_get(centre_conn, "s1").applied == 4
    centre_conn.close()
    conn.close()


def test_a_rolled_back_savepoint_gives_its_numbers_back(tmp_path):
    """A site's handler that fails inside the batch's transaction (a routed order, a
    transfer: hub.site_inbox) rolls back to its savepoint; the numbers it took are taken
    again by what the batch does next, so the ledger keeps no hole."""
    conn = open_ledger(tmp_path / "site.db")
    with store.transaction(conn):
        first = store.event_insert(conn, "dock-1", "e1", 1, "adjustment", TS.isoformat(),
                                   TS.isoformat(), b"{}")  # fmt: skip
        store.movement_add(conn, first, "adjustment", "MUG-1", "A-01", "", "", 1,
                           TS.isoformat(), TS.isoformat())  # fmt: skip
        with pytest.raises(ValueError), store.savepoint(conn, "handler"):
            taken = store.event_insert(conn, "dock-1", "e1", 2, "adjustment", TS.isoformat(),
                                       TS.isoformat(), b"{}")  # fmt: skip
            store.movement_add(conn, taken, "adjustment", "MUG-1", "A-01", "", "", 1,
                               TS.isoformat(), TS.isoformat())  # fmt: skip
            raise ValueError("the handler refuses")
        after = store.event_insert(conn, "dock-1", "e1", 3, "adjustment", TS.isoformat(),
                                   TS.isoformat(), b"{}")  # fmt: skip
        store.movement_add(conn, after, "adjustment", "MUG-1", "A-01", "", "", 1,
                           TS.isoformat(), TS.isoformat())  # fmt: skip
    assert [r[0] for r in conn.execute("SELECT id FROM events ORDER BY id")] == [1, 2]
    assert [r[0] for r in conn.execute("SELECT id FROM movements ORDER BY id")] == [1, 2]
    # The next transaction reads the highest again: nothing is numbered outside one.
    with store.transaction(conn):
        assert store.event_insert(conn, "dock-1", "e1", 4, "adjustment", TS.isoformat(),
                                  TS.isoformat(), b"{}") == 3  # fmt: skip
    with pytest.raises(RuntimeError, match="only in a writing transaction"):
        store.event_insert(conn, "dock-1", "e1", 5, "adjustment", TS.isoformat(),
                           TS.isoformat(), b"{}")  # fmt: skip
    conn.close()


def test_the_centre_alerts_a_movement_that_never_comes_and_clears_it_when_it_does(tmp_path):
    """A site whose ledger has a hole (made by an older hub on PostgreSQL) or that never
    answers: the centre asks again and again, and says so with an alert, not silently."""
    conn = open_ledger(tmp_path / "centre.db")
    centre = CentralIngest(conn, Topics("hq"), ["s1"], resend_after_s=2.0)
    [first, second, third] = [AppliedMovement(
        ledger_seq=n, station="dock-1", epoch="e1", seq=n, type="adjustment", sku="MUG-1",
        location="A-01", delta=1, ts=TS, hub_ts=TS) for n in (1, 2, 3)]  # fmt: skip
    centre.process([Incoming(SITE.movements, encode(m)) for m in (first, third)])
    centre.process([Incoming(SITE.centre_link, b"0")])
    asked = [centre.due_resends(now=t) for t in (100.0, 103.0, 106.0, 109.0, 112.0)]
    assert asked[1:] == [[("s1", 2)]] * 4
    assert store.alerts_open(conn) == []  # the link is down: the requests cannot be answered
    centre.process([Incoming(SITE.centre_link, b"1")])
    for t in (115.0, 118.0):
        assert centre.due_resends(now=t) == [("s1", 2)]
    assert store.alerts_open(conn) == []
    assert centre.due_resends(now=121.0) == [("s1", 2)]
    [alert] = store.alerts_open(conn)
    assert alert["kind"] == "site_gap" and alert["severity"] == "critical"
    assert "site s1: its movement ledger_seq 2 has not come after 3 requests" in alert["message"]
    assert "1 later ones wait behind it" in alert["message"]
    centre.due_resends(now=124.0)
    assert len(store.alerts_open(conn)) == 1  # asked again, alerted once

    centre.process([Incoming(SITE.movements, encode(second))])
    assert centre.due_resends(now=125.0) == []
    assert store.alerts_open(conn) == []
    assert store.site_link_get(conn, "s1").applied == 3
    conn.close()
