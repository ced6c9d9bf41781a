"""A batch's scans are counted in memory and written once at its end (hub.tallies): the
pick-error rule still judges each scan by the day's figures at that scan, and the same
events give the same scan and pick statistics, alerts and alert messages whether they
come in one batch or one event a batch."""

from datetime import timedelta

import msgspec
import pytest

from hub import settings, store
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode, encode_event
from protocol.events import Scan
from protocol.messages import ResendMovements
from tests.domain_helpers import TOPICS, TS, open_ledger

pytestmark = pytest.mark.hub

OK, WRONG = "ok", "not_in_order"


def scan(verdict: str, operator: str = "ann", sku: str | None = "MUG", mode: str = "pack"):
    return Scan(code="C", verdict=verdict, mode=mode, sku=sku, operator=operator)


# st-1 crosses the limit (2 errors in 5 scans, above 25 %) mid-way, falls back below it
# (2 in 10), errors again (3 in 11: announced) and ends at the limit (3 in 12); st-2 stays
# below it. A prompt (no SKU) counts as a scan, not a pick; a receive-mode scan is no pick
# either. The station clocks go back: a packer's span is from the earliest time to the
# latest, not from the first scan sent to the last.
EVENTS = [
    ("st-1", scan(OK)), ("st-2", scan(OK, "bob")), ("st-1", scan(OK)),
    ("st-1", scan(OK, sku=None)), ("st-1", scan(WRONG)), ("st-2", scan(WRONG, "bob")),
    ("st-1", scan("wrong_item", "cy", mode="receive")),
    *[("st-1", scan(OK, "cy")) for _ in range(5)],
    ("st-2", scan(OK, "bob")), ("st-1", scan(WRONG, "cy")), ("st-2", scan(OK, "bob")),
    ("st-1", scan(OK, "cy")),
]
SECONDS = [3, 1, 5, 0, 9, 2, 7, 8, 6, 4, 11, 10, 12, 13, 14, 15]


@pytest.fixture
def ledgers(tmp_path):
    conns = [open_ledger(tmp_path / name) for name in ("batch.db", "each.db")]
    for conn in conns:
        with store.transaction(conn):
            settings.save(conn, settings.Settings(pick_error_min_scans=4, pick_error_rate=0.25))
    yield conns
    for conn in conns:
        conn.close()


def messages(events) -> list[Incoming]:
    seqs: dict[str, int] = {}
    found = []
    for (station, data), second in zip(events, SECONDS, strict=True):
        seqs[station] = seqs.get(station, 0) + 1
        payload = encode_event(station, "e1", seqs[station], data, TS + timedelta(seconds=second))
        found.append(Incoming(TOPICS.events(station), payload))
    return found


def state(conn) -> dict:
    """What the scans leave: statistics, alerts, and the alerts announced in order (their
    time is the batch's)."""
    def rows(sql: str) -> list[tuple]:
        return [tuple(row) for row in conn.execute(sql).fetchall()]

    announced = [msgspec.json.decode(bytes(row[0])) for row in conn.execute(
        "SELECT payload FROM outbox WHERE topic = ? ORDER BY id", (TOPICS.alerts,))]  # fmt: skip
    return {
        "scan_stats": rows("SELECT * FROM scan_stats ORDER BY day, station, operator, mode"),
        "pick_stats": rows("SELECT * FROM pick_stats ORDER BY day, station, operator"),
        "alerts": rows("SELECT id, kind, severity, message, sku, station, dedupe, cleared "
                       "FROM alerts ORDER BY id"),
        "announced": [{k: v for k, v in a.items() if k != "ts"} for a in announced],
    }


def test_one_batch_and_one_event_a_batch_leave_the_same_figures_and_alerts(ledgers):
    batched, each = ledgers
    Ingest(batched, TOPICS).process(messages(EVENTS))
    one_by_one = Ingest(each, TOPICS)
    for message in messages(EVENTS):
        one_by_one.process([message])
    got = state(batched)
    assert got == state(each)
    # ... and what they are (so that counts never written fail too).
    day = got["scan_stats"][0][0]
    assert [row[1:] for row in got["scan_stats"]] == [
        ("st-1", "ann", "pack", 4, 1), ("st-1", "cy", "pack", 7, 1),
        ("st-1", "cy", "receive", 1, 1), ("st-2", "bob", "pack", 4, 1),
    ]
    at = {s: (TS + timedelta(seconds=s)).isoformat() for s in SECONDS}
    assert [row[1:7] for row in got["pick_stats"]] == [
        ("st-1", "ann", 3, 1, at[0], at[9]), ("st-1", "cy", 7, 1, at[4], at[15]),
        ("st-2", "bob", 4, 1, at[1], at[14]),
    ]
    [alert] = got["alerts"]
    assert alert[1:4] == ("pick_errors", "warning", "st-1: 3 scan errors in 12 scans today")
    assert alert[6] == f"pick_errors:st-1:{day}"
    assert [a["message"] for a in got["announced"]] == [
        "st-1: 2 scan errors in 5 scans today",  # raised by the scan that crossed the limit
        "st-1: 3 scan errors in 11 scans today",  # the next error, with its own figures
    ]


def test_an_alert_raised_in_an_earlier_batch_is_restated_by_the_next(ledgers):
    conn = ledgers[0]
    ingest = Ingest(conn, TOPICS)
    events = messages(EVENTS)
    ingest.process(events[:7])  # st-1 at 2 errors in 5 scans: raised
    assert [a["message"] for a in store.alerts_open(conn)] == [
        "st-1: 2 scan errors in 5 scans today"]
    ingest.process(events[7:])  # ok scans, an error (announced), an ok scan
    [alert] = store.alerts_open(conn)
    assert alert["message"] == "st-1: 3 scan errors in 12 scans today"
    assert [a["message"] for a in state(conn)["announced"]] == [
        "st-1: 2 scan errors in 5 scans today", "st-1: 3 scan errors in 11 scans today"]


def test_a_centres_resend_in_the_same_batch_says_the_alerts_current_figures(ledgers):
    """The restated message is kept in memory until the batch's end: a resend request
    later in the batch reads the alerts, and must read it written."""
    conn = ledgers[0]
    ingest = Ingest(conn, TOPICS)
    events = messages(EVENTS)
    ingest.process(events[:7])  # st-1's alert raised: 2 errors in 5 scans
    last = store.outbox_last_id(conn)
    ingest.process([*events[7:9], Incoming(TOPICS.resend_movements,
                                           encode(ResendMovements(from_=1)))])  # fmt: skip
    said = [msgspec.json.decode(bytes(payload))["message"]
            for _id, topic, payload, _retain in store.outbox_read(conn, last, 100)
            if topic == TOPICS.alerts]  # fmt: skip
    assert said == ["st-1: 2 scan errors in 7 scans today"]
