"""Every event the workflows produce passes the protocol's own validation (as the hub decodes it)."""

import msgspec

from protocol.events import EVENT_TYPES
from tests.workflow_catalog import GADGET, PHONE, WIDGET, gs1, run, scan, touch, weigh

DAY = [
    scan("OP:alice"),
    scan("ORD:SO-PHONE"),
    gs1("01" + PHONE, "21S1"),
    touch("short", "PHONE:damaged"),
    weigh(300),
    scan("CMD:MODE:RECEIVE"),
    scan("PO:PO-7"),
    scan("LOC:A-01"),
    gs1("01" + GADGET, "17270131", "10L1"),
    scan("CMD:SHORT:late"),
    scan("CMD:MODE:COUNT"),
    scan("LOC:B-01"),
    scan(WIDGET),
    scan("CMD:DONE"),
    scan("CMD:MODE:MOVE"),
    scan("LOC:A-01"),
    scan(WIDGET),
    scan("LOC:B-01"),
    scan("CMD:MODE:ADJUST"),
    scan("LOC:A-01"),
    scan(WIDGET),
    scan("CMD:REASON:DAMAGED"),
    scan("no such thing \x1d\x00"),
]


def test_workflow_events_pass_protocol_validation():
    _, outcomes = run(DAY)
    events = [e for o in outcomes for e in o.events]
    kinds = {type(e).TYPE for e in events}
    assert kinds == {"scan", "shipment", "receipt", "po_close", "count", "move", "adjustment"}
    for event in events:
        decoded = msgspec.json.decode(msgspec.json.encode(event), type=EVENT_TYPES[event.TYPE])
        assert decoded == event


def test_no_event_holds_a_nul_character():
    """A garbled scan is recorded with its control characters written out: the hub's ledger
    stores no NUL (PostgreSQL's text cannot hold one), and the station's status shows the
    same as its journal."""
    state, outcomes = run(DAY)
    [garbled] = [e for o in outcomes for e in o.events
                 if type(e).TYPE == "scan" and e.verdict == "unreadable_barcode"]  # fmt: skip
    assert garbled.code == "no such thing \x1d\\x00"
    assert state.last_code == garbled.code
    for event in (e for o in outcomes for e in o.events):
        assert b"\\u0000" not in msgspec.json.encode(event)
