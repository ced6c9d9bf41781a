"""A re-used (station, epoch, seq) with different content is not a duplicate: it is a
journal that went back (see docs/reliability.md). The hub drops it as a duplicate today.

This documents a bug in `hub/ingest.py` (`Ingest._event`, owned by the ingest engineer):
`seq <= applied` counts as a duplicate without comparing the payload with the stored
event, so the second, different movement is lost without a dead letter or an alert.
Strict xfail: it starts failing (and must be un-marked) the day the hub catches it.
"""

from datetime import UTC, datetime

import pytest

from hub import store
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode_event
from protocol.events import Adjustment
from protocol.topics import Topics

TOPICS = Topics("s1")
TS = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.mark.xfail(strict=True, reason="hub/ingest.py drops a conflicting re-used seq silently")
def test_a_reused_seq_with_different_content_is_not_dropped_silently(tmp_path):
    conn = store.connect(tmp_path / "ledger.db")
    store.create_schema(conn)
    ingest = Ingest(conn, TOPICS)
    first = Adjustment(sku="MUG-1", qty=5, location="A-01", reason="found")
    other = Adjustment(sku="TEA-1", qty=-2, location="B-02", reason="damaged")
    ingest.process([Incoming(TOPICS.events("st-1"), encode_event("st-1", "e1", 1, first, TS))])
    before = _reports(conn)
    ingest.process([Incoming(TOPICS.events("st-1"), encode_event("st-1", "e1", 1, other, TS))])
    assert _reports(conn) != before, "the conflicting event vanished without a trace"


def _reports(conn) -> tuple[int, int]:
    """(dead letters, alerts): where a message the hub cannot apply must leave a trace."""
    dead = conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
    return dead, conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
