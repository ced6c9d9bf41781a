"""Packing through `bench.handle`: every verdict, kits, undo, shorts, weighing and override."""

from decimal import Decimal

import msgspec
import pytest

from protocol.events import Scan, Shipment
from station.workflows import bench
from tests.workflow_catalog import (
    BOLT,
    GADGET,
    GS,
    KIT,
    PHONE,
    WIDGET,
    WIDGET_CASE,
    events_of,
    gs1,
    run,
    scan,
    touch,
    weigh,
)

OP = scan("OP:alice")

VERDICTS = [
    ("ok", [OP, scan("ORD:SO-1"), scan(WIDGET)], "ok"),
    ("no_operator", [scan("ORD:SO-1")], "no_operator"),
    ("no_order", [OP, scan(WIDGET)], "no_order"),
    ("unknown_order", [OP, scan("ORD:SO-404")], "unknown_order"),
    ("order_closed", [OP, scan("ORD:SO-OLD")], "order_closed"),
    (
        "order_in_progress",
        [OP, scan("ORD:SO-1"), scan(WIDGET), scan("ORD:SO-2")],
        "order_in_progress",
    ),
    ("unknown_barcode", [OP, scan("ORD:SO-1"), scan("12345678901234567890")], "unknown_barcode"),
    ("not_in_order", [OP, scan("ORD:SO-1"), scan(BOLT)], "not_in_order"),
    ("too_many", [OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), scan(WIDGET)], "too_many"),
    ("too_many_case", [OP, scan("ORD:SO-1"), scan(WIDGET_CASE)], "too_many"),
    (
        "expired_lot",
        [OP, scan("ORD:SO-2"), gs1("01" + GADGET, "17260531", "10L1")],
        "expired_lot",
    ),
    ("wrong_lot", [OP, scan("ORD:SO-LOT"), gs1("01" + GADGET, "10L2")], "wrong_lot"),
    ("lot_required", [OP, scan("ORD:SO-2"), scan(GADGET)], "lot_required"),
    ("serial_required", [OP, scan("ORD:SO-PHONE"), scan(PHONE)], "serial_required"),
    (
        "duplicate_serial",
        [OP, scan("ORD:SO-PHONE"), gs1("01" + PHONE, "21S1"), gs1("01" + PHONE, "21S1")],
        "duplicate_serial",
    ),
    ("wrong_barcode", [OP, scan("ORD:SO-1"), scan("PO:PO-7")], "wrong_barcode"),
    ("wrong_command", [OP, scan("ORD:SO-1"), scan("CMD:REASON:DAMAGED")], "wrong_command"),
    ("unknown_command", [OP, touch("dance")], "unknown_command"),
    ("unknown_mode", [OP, touch("mode", "dance")], "unknown_mode"),
    ("nothing_to_undo", [OP, scan("ORD:SO-1"), scan("CMD:UNDO")], "nothing_to_undo"),
    ("not_complete", [OP, scan("ORD:SO-1"), scan(WIDGET), scan("CMD:DONE")], "not_complete"),
    (
        "weight_needed",
        [OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), touch("done")],
        "weight_needed",
    ),
    (
        "weight_mismatch",
        [OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), weigh(400)],
        "weight_mismatch",
    ),
    ("nothing_to_override", [OP, scan("ORD:SO-1"), touch("override")], "nothing_to_override"),
    (
        "nothing_to_short",
        [OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), touch("short", "WIDGET")],
        "nothing_to_short",
    ),
]


@pytest.mark.parametrize(
    ("inputs", "expected"), [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS]
)
def test_workflow_pack_verdicts(inputs, expected):
    state, outcomes = run(inputs)
    assert outcomes[-1].verdict.name == expected
    assert state.last_verdict.name == expected


def test_workflow_pack_every_scan_journals_a_scan_event_with_its_verdict():
    inputs = [OP, scan("ORD:SO-1"), scan(BOLT), scan(WIDGET), touch("undo")]
    _, outcomes = run(inputs)
    scans = events_of(outcomes, Scan)
    assert [(s.code, s.verdict, s.order, s.sku) for s in scans] == [
        ("OP:alice", "ok", None, None),
        ("ORD:SO-1", "ok", "SO-1", None),
        (BOLT, "not_in_order", "SO-1", "BOLT"),
        (WIDGET, "ok", "SO-1", "WIDGET"),
    ]
    assert all(s.operator == "alice" and s.mode == "pack" for s in scans)


def test_workflow_pack_rejected_scan_changes_nothing():
    before, _ = run([OP, scan("ORD:SO-1"), scan(WIDGET)])
    after, _ = run([OP, scan("ORD:SO-1"), scan(WIDGET), scan(BOLT)])
    assert after.pack == before.pack


def test_workflow_pack_weighed_within_tolerance_ships_with_label():
    # 2 x 100 g + 50 g packaging = 250 g; 280 g is within the 50 g tolerance.
    inputs = [OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), weigh(280)]
    state, outcomes = run(inputs)
    (shipment,) = events_of(outcomes, Shipment)
    assert shipment.order == "SO-1" and shipment.operator == "alice"
    assert (shipment.weight_g, shipment.expected_weight_g) == (Decimal(280), Decimal(250))
    assert not shipment.weight_override
    assert [(x.sku, x.qty, x.location) for x in shipment.lines] == [("WIDGET", 2, "PACK")]
    assert outcomes[-1].verdict.pattern == "complete"
    assert outcomes[-1].labels[0].kind == "shipping"
    assert outcomes[-1].labels[0].fields["order"] == "SO-1"
    assert state.pack.order is None


def test_workflow_pack_percent_tolerance_widens_heavy_parcels():
    # Expected 6 x 100 = 600 g; 5 % is 30 g < 50 g, 20 % is 120 g: 700 g passes only then.
    inputs = [OP, scan("ORD:SO-CASE"), scan(WIDGET_CASE), weigh(700)]
    _, strict = run(inputs)
    _, loose = run(inputs, weight_tolerance_pct=20.0)
    assert strict[-1].verdict.name == "weight_mismatch"
    assert loose[-1].verdict.name == "ok" and events_of(loose, Shipment)


def test_workflow_pack_held_order_ships_on_reweigh():
    inputs = [OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), weigh(400), weigh(260)]
    _, outcomes = run(inputs)
    (shipment,) = events_of(outcomes, Shipment)
    assert shipment.weight_g == Decimal(260) and not shipment.weight_override
    assert shipment.weight_mismatches == 1  # the re-weigh is on the record


def test_workflow_pack_counts_every_wrong_weighing_of_the_parcel_and_only_its_own():
    wrong_twice = [OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), weigh(400), weigh(330)]
    _, outcomes = run([*wrong_twice, scan("CMD:UNDO"), scan(WIDGET), weigh(250),
                       scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), weigh(250)])  # fmt: skip
    first, second = events_of(outcomes, Shipment)
    assert (first.weight_mismatches, second.weight_mismatches) == (2, 0)
    assert b"weight_mismatches" not in msgspec.json.encode(second)  # as an older station sent


@pytest.mark.parametrize("override", [touch("override"), scan("CMD:OVERRIDE")])
def test_workflow_pack_supervisor_override_is_journaled(override):
    inputs = [OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), weigh(400), override]
    _, outcomes = run([*inputs, scan("OP:sue")], supervisors=frozenset({"sue"}))
    (shipment,) = events_of(outcomes, Shipment)
    assert shipment.weight_override
    assert (shipment.weight_g, shipment.expected_weight_g) == (Decimal(400), Decimal(250))


def test_workflow_pack_unstable_and_early_weights_are_ignored():
    inputs = [
        OP,
        scan("ORD:SO-1"),
        weigh(999),
        scan(WIDGET),
        scan(WIDGET),
        weigh(400, stable=False),
    ]
    state, outcomes = run(inputs)
    assert outcomes[2].verdict is None and outcomes[-1].verdict is None
    assert state.pack.phase == "weigh"
    assert not events_of(outcomes, Shipment)


def test_workflow_pack_without_weight_check_ships_on_last_item():
    _, outcomes = run([OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET)], verify_weight=False)
    (shipment,) = events_of(outcomes, Shipment)
    assert shipment.weight_g is None


def test_workflow_pack_missing_unit_weight_ships_unchecked():
    _, outcomes = run([OP, scan("ORD:SO-FEATHER"), scan("FEATHER"), weigh(20)])
    (shipment,) = events_of(outcomes, Shipment)
    assert shipment.weight_g == Decimal(20) and shipment.expected_weight_g is None


def test_workflow_pack_case_gtin_fills_six_units():
    _, outcomes = run([OP, scan("ORD:SO-CASE"), scan(WIDGET_CASE), weigh(600)])
    (shipment,) = events_of(outcomes, Shipment)
    assert shipment.lines[0].qty == 6


def test_workflow_pack_quantity_label_multiplies_next_item():
    state, _ = run([OP, scan("ORD:SO-CASE"), scan("QTY:4"), scan(WIDGET)])
    assert _lines(state)[0]["scanned"] == 4
    assert state.next_qty is None


def _lines(state):
    return bench.view(state)["lines"]


def test_workflow_pack_kit_barcode_fills_kit_line():
    _, outcomes = run([OP, scan("ORD:SO-KIT"), scan(KIT), weigh(210)])
    (shipment,) = events_of(outcomes, Shipment)
    # Kit weight = 2 x 100 + 10 from its components.
    assert [(x.sku, x.qty) for x in shipment.lines] == [("KIT-1", 1)]
    assert shipment.expected_weight_g == Decimal(210)


def test_workflow_pack_kit_components_fill_kit_line_and_ship_as_parts():
    inputs = [OP, scan("ORD:SO-KIT"), scan(WIDGET), scan(BOLT), scan(WIDGET)]
    state, outcomes = run(inputs)
    assert [o.verdict.name for o in outcomes[2:]] == ["ok", "ok", "ok"]
    assert state.pack.phase == "weigh"
    _, done = run([*inputs, weigh(210)])
    (shipment,) = events_of(done, Shipment)
    assert sorted((x.sku, x.qty) for x in shipment.lines) == [("BOLT", 1), ("WIDGET", 2)]


def test_workflow_pack_started_kit_blocks_kit_barcode():
    _, outcomes = run([OP, scan("ORD:SO-KIT"), scan(BOLT), scan(KIT)])
    assert outcomes[-1].verdict.name == "too_many"


def test_workflow_pack_undo_removes_last_scan():
    state, outcomes = run([OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), scan("CMD:UNDO")])
    assert outcomes[-1].verdict.name == "ok"
    assert _lines(state)[0]["scanned"] == 1
    assert state.pack.phase == "scan"


def test_workflow_pack_short_line_with_reason_from_kiosk():
    inputs = [OP, scan("ORD:SO-2"), scan(WIDGET), touch("short", "GADGET:damaged"), weigh(100)]
    _, outcomes = run(inputs)
    (shipment,) = events_of(outcomes, Shipment)
    lines = {x.sku: x for x in shipment.lines}
    assert (lines["GADGET"].qty, lines["GADGET"].short, lines["GADGET"].short_reason) == (
        0,
        1,
        "damaged",
    )
    assert lines["WIDGET"].qty == 1


def test_workflow_pack_short_by_barcode_then_item():
    inputs = [OP, scan("ORD:SO-2"), scan("CMD:SHORT:not_found"), scan(GADGET), scan(WIDGET)]
    state, outcomes = run(inputs, verify_weight=False)
    (shipment,) = events_of(outcomes, Shipment)
    gadget = next(x for x in shipment.lines if x.sku == "GADGET")
    assert (gadget.short, gadget.short_reason) == (1, "not_found")


def test_workflow_pack_lots_and_serials_reach_the_shipment():
    inputs = [
        OP,
        scan("ORD:SO-PHONE"),
        gs1("01" + PHONE, "21S1"),
        gs1("01" + PHONE, "21S2"),
        weigh(600),
    ]
    _, outcomes = run(inputs)
    (shipment,) = events_of(outcomes, Shipment)
    assert shipment.lines[0].serials == ["S1", "S2"]
    _, lot = run([OP, scan("ORD:SO-LOT"), gs1("01" + GADGET, "10L1"), weigh(250)])
    assert events_of(lot, Shipment)[0].lines[0].lot == "L1"


def test_workflow_pack_cancel_puts_order_aside():
    state, outcomes = run(
        [OP, scan("ORD:SO-1"), scan(WIDGET), scan("CMD:CANCEL"), scan("ORD:SO-2")]
    )
    assert outcomes[-1].verdict.name == "ok"
    assert state.pack.order == "SO-2"


def test_workflow_pack_shipment_validates_against_protocol():
    _, outcomes = run([OP, scan("ORD:SO-1"), scan(WIDGET), scan(WIDGET), weigh(250)])
    for event in (e for o in outcomes for e in o.events):
        raw = msgspec.json.encode(event)
        assert msgspec.json.decode(raw, type=type(event)) == event


def test_workflow_pack_gs_in_gs1_code_is_shown_readably():
    state, _ = run([OP, scan("ORD:SO-LOT"), gs1("01" + GADGET, "10L1", GS, "21X")])
    assert bench.view(state)["last_code"] == f"01{GADGET}10L1<GS>21X"


def test_each_line_is_booked_out_of_its_pick_location_and_kit_parts_out_of_theirs():
    from protocol.messages import Order, OrderLine
    from tests.workflow_catalog import Catalog

    catalog = Catalog()
    catalog.orders["SO-PICK"] = Order(order="SO-PICK", lines=[
        OrderLine(sku="WIDGET", qty=1, location="A-01-1"),
        OrderLine(sku="BOLT", qty=1),
        OrderLine(sku="KIT-1", qty=1, location="K-9", part_locations={"WIDGET": "W-2"}),
    ])  # fmt: skip
    inputs = [OP, scan("ORD:SO-PICK"), scan(WIDGET), scan(BOLT), scan(WIDGET), scan(WIDGET),
              scan(BOLT)]  # fmt: skip
    state, outcomes = run(inputs, catalog, verify_weight=False, bench_location="BENCH-3")
    (shipment,) = events_of(outcomes, Shipment)
    # The kit's WIDGETs from where the hub said; its BOLT (no location given) from the bench.
    assert [(x.sku, x.qty, x.location) for x in shipment.lines] == [
        ("WIDGET", 1, "A-01-1"), ("BOLT", 1, "BENCH-3"), ("WIDGET", 2, "W-2"),
        ("BOLT", 1, "BENCH-3")]  # fmt: skip
    started = bench.view(run(inputs[:2], catalog)[0])
    assert [line["location"] for line in started["lines"]] == ["A-01-1", None, "K-9"]
    assert started["lines"][2]["parts"] == [{"sku": "WIDGET", "location": "W-2"}]
