"""Shared set-up for the fast domain tests: a real SQLite ledger fed through the ingest."""

from datetime import UTC, datetime, tzinfo
from decimal import Decimal

import msgspec

from hub import catalog, corrections, ledger, store
from hub.ingest import Incoming, Ingest
from protocol.envelope import encode_event
from protocol.topics import Topics
from tests.postgres import ledger_target

TOPICS = Topics("s1")
TS = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def open_ledger(path):
    """The ledger a test names by `path`: that SQLite file, or its PostgreSQL database."""
    conn = store.connect(ledger_target(path))
    store.create_schema(conn)
    return conn


class Feed:
    """Sends station events through the real ingest, one batch each, in seq order."""

    def __init__(
        self, conn, station: str = "st-1", epoch: str = "e1", zone: tzinfo = UTC
    ) -> None:
        self.conn = conn
        self.ingest = Ingest(conn, TOPICS, zone=zone)
        self.station = station
        self.epoch = epoch
        self.seq = 0

    def __call__(self, *events, ts: datetime = TS) -> None:
        batch = []
        for data in events:
            self.seq += 1
            payload = encode_event(self.station, self.epoch, self.seq, data, ts)
            batch.append(Incoming(TOPICS.events(self.station), payload))
        result = self.ingest.process(batch)
        assert result.dead == 0, store.dead_letters(self.conn)


def products(conn, *records: dict) -> None:
    catalog.upsert_products(conn, TOPICS, [msgspec.convert(r, catalog.ProductRecord) for r in records])


def reverse(conn, movement_id: int, reason: str = "wrong") -> int:
    with store.transaction(conn):
        effects, now = ledger.Effects(), datetime.now(UTC)
        event = corrections.reverse(conn, TOPICS, movement_id, reason, "test", now, effects)
        corrections.publish(conn, TOPICS, effects, now)
    return event


def micros(amount: str) -> int:
    return int(Decimal(amount) * 1_000_000)
