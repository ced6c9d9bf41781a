"""Pick accuracy and pace per packer: only item scans judged at the pack bench count;
prompts and receiving do not; weight overrides apart."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from hub import reports
from protocol.events import Receipt, Scan, Shipment, ShipmentLine
from tests.domain_helpers import Feed, open_ledger, products

pytestmark = pytest.mark.hub

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _kpis(conn) -> dict:
    today = date.today()
    report = reports.kpis(conn, reports.Query(today=today, since=today, until=today))
    return {(r["kpi"], r["scope"]): r["value"] for r in report.rows}


def test_four_good_picks_and_three_prompts_are_no_errors(tmp_path):
    """The case the old `scan_errors_per_1000` got wrong: 4 good picks and 3 prompts gave
    428.57 errors per 1000 scans; no pick was wrong."""
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug"})
    feed = Feed(conn)
    pick = {"mode": "pack", "order": "SO-1", "operator": "ann"}
    feed(*[Scan(code="M", verdict="ok", sku="MUG", **pick) for _ in range(4)],
         Scan(code="CMD:UNDO", verdict="nothing_to_undo", **pick),
         Scan(code="M", verdict="no_order", sku="MUG", mode="pack", operator="ann"),
         Scan(code="CMD:DONE", verdict="not_complete", **pick),
         Scan(code="X", verdict="not_on_po", sku="MUG", mode="receive", operator="ann"))  # fmt: skip
    kpi = _kpis(conn)
    assert kpi[("scans", "")] == 8 and kpi[("pick_scans", "")] == 4
    assert kpi[("pick_errors_per_1000", "")] == 0.0 and kpi[("pick_accuracy", "")] == 1.0
    conn.close()


def test_wrong_picks_weight_overrides_and_pace_per_packer(tmp_path):
    """ann: 5 good picks and one of each wrong kind, 5 wrong of 10 judged; two orders
    of 2 and 1 lines over the 30 minutes from her first to her last pack scan: 4 orders and
    6 lines an hour; one order left under a weight override. bob: 1 pick, no order."""
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug"}, {"sku": "TEA", "name": "Tea"})
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=10, location="A-1"), Receipt(sku="TEA", qty=10, location="A-1"))
    ann = {"mode": "pack", "order": "SO-1", "operator": "ann", "sku": "MUG"}
    wrong = ["not_in_order", "too_many", "wrong_lot", "expired_lot", "duplicate_serial"]
    feed(*[Scan(code="M", verdict="ok", **ann) for _ in range(5)], ts=START)
    feed(*[Scan(code="M", verdict=v, **ann) for v in wrong], ts=START + timedelta(minutes=10))
    feed(Shipment(order="SO-1", operator="ann", weight_override=True,
                  lines=[ShipmentLine(sku="MUG", qty=2, location="A-1"),
                         ShipmentLine(sku="TEA", qty=1, location="A-1")]),
         Shipment(order="SO-2", operator="ann",
                  lines=[ShipmentLine(sku="MUG", qty=1, location="A-1"),
                         ShipmentLine(sku="TEA", qty=0, location="A-1", short=1)]),
         ts=START + timedelta(minutes=20))  # fmt: skip
    feed(Scan(code="CMD:UNDO", verdict="nothing_to_undo", mode="pack", operator="ann"),
         ts=START + timedelta(minutes=30))
    feed(Scan(code="M", verdict="ok", mode="pack", order="SO-3", operator="bob", sku="MUG"))
    kpi = _kpis(conn)
    assert kpi[("pick_scans", "operator:ann")] == 10 and kpi[("pick_errors", "operator:ann")] == 5
    assert kpi[("pick_errors_per_1000", "operator:ann")] == 500.0
    assert kpi[("pick_accuracy", "operator:bob")] == 1.0
    assert kpi[("pick_scans", "")] == 11 and kpi[("pick_errors", "")] == 5
    assert kpi[("weight_overrides", "operator:ann")] == 1 and kpi[("weight_overrides", "")] == 1
    assert kpi[("orders_packed", "operator:ann")] == 2 and kpi[("lines_packed", "operator:ann")] == 3
    assert kpi[("hours_packing", "operator:ann")] == 0.5
    assert kpi[("orders_per_hour", "operator:ann")] == 4.0
    assert kpi[("lines_per_hour", "operator:ann")] == 6.0
    assert kpi[("orders_per_hour", "operator:bob")] is None  # one scan: no span worked
    conn.close()


def test_parcels_weighed_wrong_are_counted_per_packer_apart_from_picks(tmp_path):
    """ann: three parcels checked, one right at once, one weighed wrong twice before it was
    right, one wrong and then overridden; one more shipped with no weight check. bob: one
    parcel right at once. No pick figure moves."""
    conn = open_ledger(tmp_path / "ledger.db")
    products(conn, {"sku": "MUG", "name": "Mug"})
    feed = Feed(conn)
    feed(Receipt(sku="MUG", qty=10, location="A-1"))
    line = [ShipmentLine(sku="MUG", qty=1, location="A-1")]
    checked = {"lines": line, "weight_g": Decimal(350), "expected_weight_g": Decimal(350)}
    feed(Shipment(order="SO-1", operator="ann", **checked),
         Shipment(order="SO-2", operator="ann", weight_mismatches=2, **checked),
         Shipment(order="SO-3", operator="ann", weight_mismatches=1, weight_override=True,
                  **checked),
         Shipment(order="SO-4", operator="ann", lines=line),
         Shipment(order="SO-5", operator="bob", **checked))  # fmt: skip
    kpi = _kpis(conn)
    figures = ("parcels_weighed", "parcels_reweighed", "weight_mismatches", "weight_accuracy",
               "weight_overrides")  # fmt: skip
    assert [kpi[(f, "operator:ann")] for f in figures] == [3, 2, 3, 0.3333, 1]
    assert [kpi[(f, "operator:bob")] for f in figures] == [1, 0, 0, 1.0, 0]
    assert [kpi[(f, "")] for f in figures] == [4, 2, 3, 0.5, 1]
    assert kpi[("pick_scans", "")] == 0 and kpi[("pick_errors", "")] == 0
    conn.close()
