"""Random sequences of receipts, shipments, moves, adjustments, counts and reversals keep
every balance equal to the sum of its movements, the cost layers equal to our own stock,
and COGS and stock value equal to a plain FIFO computation written here."""

import contextlib
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub import settings as hub_settings
from hub import store
from hub.check import check
from hub.corrections import CorrectionError
from protocol.events import Adjustment, Count, Move, Receipt, Shipment, ShipmentLine
from tests.domain_helpers import Feed, micros, open_ledger, products, reverse

pytestmark = [pytest.mark.hub, pytest.mark.slow]

COST = {"A": micros("5"), "B": micros("2.5")}
SKUS, LOCATIONS = st.sampled_from(["A", "B"]), st.sampled_from(["L1", "L1", "L2"])
QTY = st.integers(1, 12)

receipts = st.builds(
    Receipt, sku=SKUS, location=LOCATIONS, qty=QTY, lot=st.sampled_from([None, "X"]),
    unit_cost=st.one_of(st.none(), st.decimals(0, 40, places=2)),
)  # fmt: skip
shipments = st.builds(
    lambda sku, loc, qty, lot: Shipment(order="SO-1", lines=[
        ShipmentLine(sku=sku, location=loc, qty=qty, lot=lot)]),
    SKUS, LOCATIONS, QTY, st.sampled_from([None, "X"]),
)  # fmt: skip
moves = st.builds(
    lambda sku, a, b, qty: Move(sku=sku, from_=a, to=b, qty=qty), SKUS, LOCATIONS,
    st.sampled_from(["L3", "L1"]), QTY,
)  # fmt: skip
adjustments = st.builds(
    Adjustment, sku=SKUS, location=LOCATIONS, reason=st.just("correction"),
    qty=st.integers(-8, 8).filter(bool),
)  # fmt: skip
counts = st.builds(Count, sku=SKUS, location=LOCATIONS, counted=st.integers(0, 15))
reversals = st.integers(0, 10_000).map(lambda n: ("reverse", n))
operations = st.lists(
    st.one_of(receipts, shipments, moves, adjustments, counts, reversals), min_size=1, max_size=25
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
@example([  # the oldest layer goes first
    Receipt(sku="A", location="L1", qty=5, unit_cost=Decimal(1)),
    Receipt(sku="A", location="L1", qty=5, unit_cost=Decimal(2)),
    Shipment(order="SO-1", lines=[ShipmentLine(sku="A", location="L1", qty=7)]),
    ("reverse", 1),
])
def test_random_histories_keep_balances_layers_and_fifo_cost_right(ops):
    # What is checked is arithmetic, not durability: a new ledger in memory each time (on
    # PostgreSQL one database, emptied for each history).
    conn = open_ledger(":memory:")
    try:
        _run(conn, ops)
        _assert_consistent(conn)
    finally:
        conn.close()


def _run(conn, ops) -> None:
    products(conn, {"sku": "A", "name": "A", "unit_cost": "5"},
             {"sku": "B", "name": "B", "unit_cost": "2.5"})  # fmt: skip
    with store.transaction(conn):  # every count posts: approvals are tested elsewhere
        hub_settings.save(conn, hub_settings.Settings(count_approval_units=10**6))
    feed = Feed(conn)
    for op in ops:
        if isinstance(op, tuple):
            ids = [r[0] for r in conn.execute("SELECT id FROM movements ORDER BY id")]
            if ids:
                # A reversal, or one already reversed, is refused and posts nothing.
                with contextlib.suppress(CorrectionError):
                    reverse(conn, ids[op[1] % len(ids)])
        else:
            feed(op)


def _assert_consistent(conn) -> None:
    assert check(conn).ok
    assert store.check_layers(conn) == []
    reference = Reference(conn)
    cogs = conn.execute("SELECT coalesce(sum(value), 0) FROM cost_flows "
                        "WHERE kind = 'shipment'").fetchone()[0]  # fmt: skip
    assert cogs == reference.cogs
    daily = conn.execute("SELECT coalesce(sum(cogs), 0) FROM daily_totals").fetchone()[0]
    assert daily == reference.cogs
    value = conn.execute("SELECT coalesce(sum(qty_left * unit_cost), 0) FROM cost_layers")
    assert value.fetchone()[0] == reference.value() == store.value_total(conn)
    for key, layers in reference.layers.items():
        hub = conn.execute(
            "SELECT qty_left, unit_cost FROM cost_layers WHERE sku = ? AND location = ? AND "
            "lot = ? AND qty_left != 0 ORDER BY received, id", key).fetchall()  # fmt: skip
        assert hub == [(x.qty, x.cost) for x in _ordered(layers) if x.qty], key


# --- the reference: FIFO by hand over the movements the ledger recorded -------------------------
@dataclass
class RefLayer:
    qty: int
    cost: int
    received: str
    n: int
    movement: int
    kind: str


def _ordered(layers, prefer=0):
    return sorted(layers, key=lambda x: (x.movement != prefer, x.received, x.n))


class Reference:
    def __init__(self, conn) -> None:
        self.layers: dict[tuple, list[RefLayer]] = defaultdict(list)
        self.flows: dict[int, list[tuple]] = defaultdict(list)
        self.cogs = 0
        self.n = 0
        events = conn.execute("SELECT id, type, hub_ts, data FROM events ORDER BY id").fetchall()
        for event_id, kind, hub_ts, data in events:
            moves = conn.execute(
                "SELECT id, sku, location, lot, delta FROM movements WHERE event_id = ? "
                "ORDER BY id", (event_id,)).fetchall()  # fmt: skip
            self.event(conn, kind, hub_ts, json.loads(data), moves)

    def value(self) -> int:
        return sum(x.qty * x.cost for layers in self.layers.values() for x in layers)

    def event(self, conn, kind, hub_ts, data, moves) -> None:
        pieces = []
        for movement, sku, location, lot, delta in moves:
            key = (sku, location, lot)
            if kind == "reversal":
                self.undo(conn, movement, key, delta, hub_ts, data)
            elif kind == "move" and delta < 0:
                pieces = self.consume(key, -delta, movement, "move", COST[sku], hub_ts)
            elif kind == "move":
                for qty, cost, received in pieces:
                    self.add(key, qty, cost, movement, received)
            elif delta > 0:
                cost = data.get("unit_cost") if kind == "receipt" else None
                cost = COST[sku] if cost is None else int(Decimal(cost) * 1_000_000)
                self.add(key, delta, cost, movement, hub_ts)
            else:
                self.consume(key, -delta, movement, kind, COST[sku], hub_ts)

    def undo(self, conn, movement, key, delta, hub_ts, data) -> None:
        original = conn.execute(
            "SELECT id FROM movements WHERE event_id = ? AND sku = ? AND location = ? AND "
            "lot = ? AND delta = ? AND id NOT IN (SELECT -1)", (data["event"], *key, -delta)
        ).fetchall()  # fmt: skip
        source = self.match(original, movement)
        if delta < 0:
            self.consume(key, -delta, movement, "reversal", COST[key[0]], hub_ts, prefer=source)
            return
        for kind, qty, cost, received in self.flows[source]:
            self.add(key, qty, cost, movement, received)
            if kind == "shipment":
                self.cogs -= qty * cost

    def match(self, candidates, movement) -> int:
        """The original movement this reversing one undoes (they are made in reverse order)."""
        used = getattr(self, "_used", set())
        self._used = used
        for (candidate,) in sorted(candidates, reverse=True):
            if candidate not in used:
                used.add(candidate)
                return candidate
        raise AssertionError(f"no original for reversing movement {movement}")

    def add(self, key, qty, cost, movement, received) -> None:
        for layer in _ordered(self.layers[key]):
            if qty and layer.qty < 0:
                settle = min(qty, -layer.qty)
                layer.qty += settle
                if layer.kind == "shipment":
                    self.cogs += settle * (cost - layer.cost)
                qty -= settle
        if qty:
            self.n += 1
            self.layers[key].append(RefLayer(qty, cost, received, self.n, movement, "layer"))

    def consume(self, key, qty, movement, kind, fallback, now, prefer=0) -> list[tuple]:
        pieces = []
        for layer in _ordered(self.layers[key], prefer):
            if qty and layer.qty > 0:
                take = min(qty, layer.qty)
                layer.qty -= take
                pieces.append((take, layer.cost, layer.received))
                qty -= take
        if qty:
            self.n += 1
            self.layers[key].append(RefLayer(-qty, fallback, now, self.n, movement, kind))
            pieces.append((qty, fallback, now))
        self.flows[movement] = [(kind, q, c, r) for q, c, r in pieces]
        self.cogs += sum(q * c for q, c, _r in pieces) if kind == "shipment" else 0
        return pieces
