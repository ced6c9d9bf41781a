"""Corrections are reversing movements journaled by the hub as its own station."""

from decimal import Decimal

import pytest

from hub import store
from hub.check import check
from hub.corrections import CorrectionError
from hub.ingest import Incoming
from protocol.envelope import encode_event
from protocol.events import Move, Receipt, Shipment, ShipmentLine
from tests.domain_helpers import TOPICS, Feed, micros, open_ledger, products, reverse

pytestmark = pytest.mark.hub


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "3"})
    yield conn
    conn.close()


def test_reversing_a_move_puts_both_legs_back_at_their_cost(conn):
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=5, location="A-1", unit_cost=Decimal("4")),
         Move(sku="MUG", qty=2, from_="A-1", to="B-1"))  # fmt: skip
    moved = conn.execute("SELECT id FROM movements WHERE type = 'move'").fetchall()
    reverse(conn, moved[1][0])
    assert store.balance_get(conn, "MUG", "A-1") == 5 and store.balance_get(conn, "MUG", "B-1") == 0
    assert store.layer_value(conn, "MUG", "A-1", "") == (5, 5 * micros("4"))
    assert check(conn).ok and store.check_layers(conn) == []


def test_reversing_a_shipment_takes_back_its_cogs(conn):
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=5, location="A-1", unit_cost=Decimal("4")),
         Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=2, location="A-1")]))
    [(shipped,)] = conn.execute("SELECT id FROM movements WHERE type = 'shipment'").fetchall()
    reverse(conn, shipped)
    cogs = conn.execute("SELECT sum(value) FROM cost_flows WHERE kind = 'shipment'").fetchone()
    assert cogs == (0,) and store.on_hand(conn, "MUG") == 5


def test_hub_events_are_one_gapless_stream_and_a_movement_is_reversed_once(conn):
    Feed(conn)(Receipt(sku="MUG", qty=5, location="A-1"), Receipt(sku="MUG", qty=1, location="A-1"))
    first, second = (r[0] for r in conn.execute("SELECT id FROM movements ORDER BY id"))
    reverse(conn, first)
    reverse(conn, second)
    keys = conn.execute("SELECT station, seq, type FROM events WHERE station = 'hub'").fetchall()
    assert keys == [("hub", 1, "reversal"), ("hub", 2, "reversal")]
    with pytest.raises(CorrectionError, match="already reversed"):
        reverse(conn, first)
    reversal = conn.execute("SELECT max(id) FROM movements").fetchone()[0]
    with pytest.raises(CorrectionError, match="itself a reversal"):
        reverse(conn, reversal)
    assert check(conn).ok and store.on_hand(conn, "MUG") == 0


def test_the_ingest_refuses_events_published_as_the_hub(conn):
    feed = Feed(conn, station="hub")
    payload = encode_event("hub", "e1", 1, Receipt(sku="MUG", qty=1, location="A-1"))
    assert feed.ingest.process([Incoming(TOPICS.events("hub"), payload)]).dead == 1
