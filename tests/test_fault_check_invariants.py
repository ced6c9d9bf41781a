"""`hub check` finds what the fault scenarios rely on it to find: applied events without a
cursor, a station that reports it cannot record, and cost layers that left their balance;
and a GTIN two products claim, which an older hub let through."""

from datetime import UTC, datetime

import pytest

from hub import store
from hub.check import check
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode, encode_event
from protocol.events import Adjustment
from protocol.messages import StationStatus
from protocol.topics import Topics
from tests.domain_helpers import products
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub

TOPICS = Topics("s1")
TS = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture
def ledger(tmp_path):
    conn = store.connect(ledger_target(tmp_path / "ledger.db"))
    store.create_schema(conn)
    event = Adjustment(sku="MUG-1", qty=5, location="A-01", reason="found")
    Ingest(conn, TOPICS).process(
        [Incoming(TOPICS.events("st-1"), encode_event("st-1", "e1", 1, event, TS))]
    )
    assert check(conn).ok
    yield conn
    conn.close()


def test_applied_events_without_a_cursor_fail_the_check(ledger):
    ledger.execute("DELETE FROM cursors")
    report = check(ledger)
    assert not report.ok
    assert report.cursor_errors == [{"station": "st-1", "epoch": "e1", "cursor": None,
                                     "max_seq": 1}]  # fmt: skip


def test_a_station_reporting_a_fault_fails_the_check(ledger):
    status = StationStatus(state="online", conn=1, epoch="e1", head=1, fault="journal behind")
    Ingest(ledger, TOPICS).process([Incoming(TOPICS.station_status("st-1"), encode(status))])
    report = check(ledger)
    assert not report.ok
    assert report.station_faults == [{"station": "st-1", "epoch": "e1", "fault": "journal behind"}]


def test_cost_layers_that_disagree_with_the_balance_fail_the_check(ledger):
    ledger.execute("UPDATE cost_layers SET qty_left = qty_left - 1")
    report = check(ledger)
    assert not report.ok
    assert report.layer_mismatches == [{"sku": "MUG-1", "location": "A-01", "lot": "",
                                        "balance": 5, "layers": 4}]  # fmt: skip


def test_holes_in_ledger_seq_are_reported(ledger):
    """A PostgreSQL ledger numbered by an older hub (an identity: a rolled-back batch burnt
    its numbers) has ledger_seqs with no movement, which a central hub waits on."""
    assert check(ledger).ledger_seq_holes == 0
    ledger.execute("INSERT INTO movements (id, event_id, type, sku, location, delta, ts, hub_ts) "
                   "SELECT 4, event_id, type, sku, location, 0, ts, hub_ts FROM movements")
    report = check(ledger)
    assert report.ledger_seq_holes == 2
    assert report.ok  # reported, not a broken invariant of this hub's own ledger


def test_a_gtin_listed_by_a_product_that_does_not_scan_as_it_fails_the_check(ledger):
    # As an older hub saved it: BOX given MUG's GTIN took its row, MUG's record kept it.
    products(ledger, {"sku": "MUG", "name": "Mug", "gtins": [{"gtin": "4006381333931"}]},
             {"sku": "BOX", "name": "Box"})  # fmt: skip
    assert check(ledger).ok
    with store.transaction(ledger):
        store.gtins_replace(ledger, "BOX", [("4006381333931", 1)])
    report = check(ledger)
    assert not report.ok
    assert report.gtin_conflicts == [
        {"gtin": "4006381333931", "listed_by": "MUG", "scans_as": "BOX"}
    ]
