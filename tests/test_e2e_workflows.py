"""Each workflow end to end through real processes: Mosquitto, the hub, a station whose
scanner and scale are pseudo-terminals and whose printer is a loopback TCP twin. Purchase
orders and sales orders are created through the hub's API; every step is checked in the
hub's ledger and API afterwards."""

from decimal import Decimal

import pytest

from tests.conftest import PASSWORDS
from tests.e2e_bench import Bench, gs1
from tests.harness import wait_until

pytestmark = pytest.mark.slow

MUG, TEA = "4006381333931", "5012345678900"
PRODUCTS = [
    {"sku": "MUG", "name": "Mug", "gtins": [{"gtin": MUG}], "unit_weight_g": "340"},
    {"sku": "TEA", "name": "Earl Grey", "gtins": [{"gtin": TEA}], "unit_weight_g": "210",
     "lot_tracked": True},
]  # fmt: skip


@pytest.fixture
def dock(tmp_path, broker, hub):
    bench = Bench.start(tmp_path / "dock-1", broker, "dock-1", PASSWORDS["dock-1"], "receive")
    yield bench
    bench.stop()


@pytest.fixture
def pack(tmp_path, broker, hub):
    bench = Bench.start(tmp_path / "pack-1", broker, "pack-1", PASSWORDS["pack-1"], "pack")
    yield bench
    bench.stop()


def stock(hub, sku: str) -> dict[tuple[str, str | None], int]:
    (item,) = hub.api("GET", f"/api/stock?sku={sku}")["stock"]
    return {(line["location"], line["lot"]): line["qty"] for line in item["locations"]}


def po(hub, number: str, *lines: tuple[str, int]) -> None:
    hub.api("POST", "/api/purchase-orders",
            {"po": number, "lines": [{"sku": s, "qty": q} for s, q in lines]})  # fmt: skip


def start(bench, hub, *cached: tuple[str, str]) -> None:
    bench.wait_ready(hub)
    for kind, key in cached:
        bench.wait_cached(kind, key)


def test_receiving_puts_lots_away_flags_an_over_receipt_and_closes_the_po(hub, dock):
    hub.api("POST", "/api/products", PRODUCTS)
    po(hub, "PO-1", ("MUG", 10), ("TEA", 5))
    start(dock, hub, ("purchase-orders", "PO-1"), ("catalog", "TEA"))
    dock.scan_all("OP:rita", "PO:PO-1", "LOC:A-01-1", "QTY:10", MUG)
    dock.scan_all("LOC:B-02-1", "QTY:3")
    dock.scan(gs1(TEA, "301231", "L-LATE"), symbology="]C1")
    dock.scan("QTY:4")
    dock.scan(gs1(TEA, "291130", "L-SOON"), "over_receipt", symbology="]C1")  # 7 of 5
    dock.scan("CMD:OVERRIDE", "supervisor_needed")
    dock.scan_all("OP:sue", "CMD:DONE")

    wait_until(lambda: hub.api("GET", "/api/purchase-orders/PO-1")["status"] == "received",
               what="PO received")  # fmt: skip
    lines = hub.api("GET", "/api/purchase-orders/PO-1")["lines"]
    assert [(x["sku"], x["qty"], x["received"]) for x in lines] == [("MUG", 10, 10),
                                                                     ("TEA", 5, 7)]  # fmt: skip
    assert stock(hub, "MUG") == {("A-01-1", None): 10}
    assert stock(hub, "TEA") == {("B-02-1", "L-LATE"): 3, ("B-02-1", "L-SOON"): 4}
    lots = hub.api("GET", "/api/products/TEA/fefo")["pick"]
    assert [(x["lot"], x["expiry"]) for x in lots] == [("L-SOON", "2029-11-30"),
                                                       ("L-LATE", "2030-12-31")]  # fmt: skip
    flagged = hub.query(
        "SELECT json_extract(data, '$.code') FROM events "
        "WHERE type = 'scan' AND json_extract(data, '$.verdict') = 'over_receipt'"
    )
    assert flagged == [(gs1(TEA, "291130", "L-SOON"),)]
    labels = dock.printer.wait_for_jobs(3)
    assert [b"A-01-1" in x for x in labels] == [True, False, False]
    assert all(b"B-02-1" in x for x in labels[1:]) and b"L-SOON" in labels[2]


def test_counting_a_location_by_weight_after_taring_the_tote(hub, dock):
    hub.api("POST", "/api/products", PRODUCTS)
    po(hub, "PO-2", ("MUG", 20))
    start(dock, hub, ("purchase-orders", "PO-2"), ("catalog", "MUG"))
    dock.scan_all("OP:carl", "PO:PO-2", "LOC:C-03-1", "QTY:20", MUG, "CMD:MODE:COUNT",
                  "LOC:C-03-1")  # fmt: skip
    dock.scale.place(Decimal(400))  # the empty tote
    dock.wait_weight(Decimal(400))
    dock.scan("CMD:TARE")
    dock.scale.place(Decimal(400 + 18 * 340))  # 18 mugs in it: two are missing
    dock.wait_weight(Decimal(400 + 18 * 340))
    dock.scan_all("CMD:WEIGH", MUG, "CMD:DONE")

    counts = wait_until(lambda: hub.api("GET", "/api/counts")["counts"], what="count at hub")
    assert [(c["sku"], c["location"], c["book"], c["counted"], c["variance"], c["status"])
            for c in counts] == [("MUG", "C-03-1", 20, 18, -2, "posted")]  # fmt: skip
    assert stock(hub, "MUG") == {("C-03-1", None): 18}
    (count,) = dock.events("count")
    assert count["data"]["operator"] == "carl"


def test_moving_stock_between_locations(hub, dock):
    hub.api("POST", "/api/products", PRODUCTS)
    po(hub, "PO-3", ("MUG", 5))
    start(dock, hub, ("purchase-orders", "PO-3"), ("catalog", "MUG"))
    dock.scan_all("OP:mo", "PO:PO-3", "LOC:A-01-1", "QTY:5", MUG)
    dock.scan_all("CMD:MODE:MOVE", "LOC:A-01-1", "QTY:3", MUG, "LOC:B-02-2")

    wait_until(lambda: stock(hub, "MUG").get(("B-02-2", None)), what="move applied")
    assert stock(hub, "MUG") == {("A-01-1", None): 2, ("B-02-2", None): 3}
    moves = [m for m in hub.api("GET", "/api/movements?limit=20")["movements"]
             if m["type"] == "move"]  # fmt: skip
    assert sorted((m["location"], m["delta"]) for m in moves) == [("A-01-1", -3), ("B-02-2", 3)]


def test_packing_picks_from_the_bins_weighs_the_parcel_and_prints_the_label(hub, pack):
    hub.api("POST", "/api/products", PRODUCTS)
    po(hub, "PO-4", ("MUG", 4), ("TEA", 2))
    start(pack, hub, ("purchase-orders", "PO-4"), ("catalog", "TEA"))
    pack.scan_all("OP:alice", "CMD:MODE:RECEIVE", "PO:PO-4", "LOC:A-01-1", "QTY:4", MUG,
                  "LOC:B-02-1", "QTY:2")  # fmt: skip
    pack.scan(gs1(TEA, "301231", "L-1"), symbology="]C1")
    pack.scan("CMD:MODE:PACK")
    wait_until(lambda: stock(hub, "TEA"), what="stock put away")
    hub.api(
        "POST",
        "/api/orders",
        {
            "order": "SO-1",
            "customer": "Acme",
            "packaging_weight_g": "150",
            "lines": [{"sku": "MUG", "qty": 2}, {"sku": "TEA", "qty": 1}],
        },
    )
    pack.wait_cached("orders", "SO-1")

    pack.scan("SO-1")
    shown = pack.station.snapshot()["lines"]
    assert [(x["sku"], x["location"]) for x in shown] == [("MUG", "A-01-1"), ("TEA", "B-02-1")]
    pack.scan(MUG)
    pack.scan(TEA, "lot_required")  # the plain EAN has no lot: scan the GS1 code
    pack.scan(gs1(TEA, "301231", "L-1"), symbology="]C1")
    pack.scan(MUG)
    pack.scale.place(Decimal(150 + 340 + 210))  # one mug left on the bench: weighed wrong
    wait_until(lambda: (pack.station.snapshot()["verdict"] or {}).get("name")
               == "weight_mismatch", what="the parcel held")  # fmt: skip
    pack.scale.place(Decimal(150 + 2 * 340 + 210))  # the mug put in: weighed again
    wait_until(lambda: pack.events("shipment"), what="shipment journaled")

    wait_until(lambda: hub.query("SELECT status FROM orders WHERE order_id = 'SO-1'")
               == [("shipped",)], what="order shipped")  # fmt: skip
    assert stock(hub, "MUG") == {("A-01-1", None): 2}
    assert stock(hub, "TEA") == {("B-02-1", "L-1"): 1}
    (shipment,) = hub.query("SELECT json_extract(data, '$.weight_g'), "
                            "json_extract(data, '$.weight_override') FROM events "
                            "WHERE type = 'shipment'")  # fmt: skip
    assert shipment == ("1040.00", None)
    kpis = {(r["kpi"], r["scope"]): r["value"]
            for r in hub.api("GET", "/api/reports/kpis?limit=10000")["rows"]}  # fmt: skip
    assert [kpis[(k, "operator:alice")] for k in ("parcels_weighed", "parcels_reweighed",
            "weight_mismatches", "weight_overrides")] == [1, 1, 1, 0]  # fmt: skip
    jobs = pack.printer.wait_for_jobs(3)  # two put-away labels, then the shipping label
    shipping = jobs[2].decode("utf-8")
    assert shipping.startswith("^XA") and "ORDER SO-1" in shipping and "1.040 kg" in shipping
    assert "Acme" in shipping and "^BC" in shipping  # the order's Code 128


GIFT = "4006381333948"


def test_a_kit_packed_by_its_own_barcode_ships_the_order_in_full(hub, pack):
    hub.api("POST", "/api/products", [*PRODUCTS, {
        "sku": "GIFT", "name": "Gift box", "gtins": [{"gtin": GIFT}],
        "kit": [{"sku": "MUG", "qty": 2}, {"sku": "TEA", "qty": 1}]}])  # fmt: skip
    po(hub, "PO-5", ("MUG", 4), ("TEA", 2))
    start(pack, hub, ("purchase-orders", "PO-5"), ("catalog", "GIFT"))
    pack.scan_all("OP:kim", "CMD:MODE:RECEIVE", "PO:PO-5", "LOC:A-01-1", "QTY:4", MUG,
                  "LOC:B-02-1", "QTY:2")  # fmt: skip
    pack.scan(gs1(TEA, "301231", "L-1"), symbology="]C1")
    pack.scan("CMD:MODE:PACK")
    wait_until(lambda: stock(hub, "TEA"), what="stock put away")
    hub.api("POST", "/api/orders", {"order": "SO-K", "lines": [{"sku": "GIFT", "qty": 1}]})
    pack.wait_cached("orders", "SO-K")

    pack.scan_all("SO-K", GIFT)  # a gift box built earlier, off the books
    pack.scale.place(Decimal(2 * 340 + 210))
    wait_until(lambda: pack.events("shipment"), what="shipment journaled")
    wait_until(lambda: hub.api("GET", "/api/orders/SO-K")["status"] not in ("open", "packing"),
               what="order closed")  # fmt: skip

    order = hub.api("GET", "/api/orders/SO-K")
    assert order["status"] == "shipped"
    assert [(r["sku"], r["shipped"], r["short"]) for r in order["rows"]] == [
        ("GIFT", 1, 0), ("MUG", 2, 0), ("TEA", 1, 0)]  # fmt: skip
    assert stock(hub, "MUG") == {("A-01-1", None): 2}
    assert stock(hub, "TEA") == {("B-02-1", "L-1"): 1}
    assert all(line["qty"] == 0 for line in
               hub.api("GET", "/api/stock?sku=GIFT")["stock"][0]["locations"])  # fmt: skip
    kinds = {a["kind"] for a in hub.api("GET", "/api/alerts")["alerts"]}
    assert "kit_backflushed" in kinds and "negative_stock" not in kinds
    kpis = hub.api("GET", "/api/reports/kpis")["rows"]
    assert {r["kpi"]: r["value"] for r in kpis if r["scope"] == ""}["fill_rate"] == 1.0


def test_a_kit_packed_from_its_parts_earns_its_margin_as_a_kit(hub, pack):
    """GIFT (2 MUG at 3.00 + 1 TEA at 2.00) sold at 20.00, packed from its parts: the kit's
    margin is 20.00 - 8.00; the parts show no cost of their own."""
    costed = [{**PRODUCTS[0], "unit_cost": "3"}, {**PRODUCTS[1], "unit_cost": "2"}]
    hub.api("POST", "/api/products", [*costed, {
        "sku": "GIFT", "name": "Gift box", "kit": [{"sku": "MUG", "qty": 2},
                                                   {"sku": "TEA", "qty": 1}]}])  # fmt: skip
    po(hub, "PO-6", ("MUG", 2), ("TEA", 1))
    start(pack, hub, ("purchase-orders", "PO-6"), ("catalog", "GIFT"))
    pack.scan_all("OP:kim", "CMD:MODE:RECEIVE", "PO:PO-6", "LOC:A-01-1", "QTY:2", MUG,
                  "LOC:B-02-1", "QTY:1")  # fmt: skip
    pack.scan(gs1(TEA, "301231", "L-1"), symbology="]C1")
    pack.scan("CMD:MODE:PACK")
    wait_until(lambda: stock(hub, "TEA"), what="stock put away")
    hub.api("POST", "/api/orders", {"order": "SO-P", "lines": [
        {"sku": "GIFT", "qty": 1, "unit_price": "20"}]})  # fmt: skip
    pack.wait_cached("orders", "SO-P")

    pack.scan_all("SO-P", MUG, MUG)
    pack.scan(gs1(TEA, "301231", "L-1"), symbology="]C1")
    pack.scale.place(Decimal(2 * 340 + 210))
    wait_until(lambda: hub.api("GET", "/api/orders/SO-P")["status"] == "shipped",
               what="order shipped")  # fmt: skip

    kpis = {(r["kpi"], r["scope"]): r["value"]
            for r in hub.api("GET", "/api/reports/kpis?limit=10000")["rows"]}  # fmt: skip
    margins = {r["sku"]: r for r in hub.api("GET", "/api/reports/margins")["rows"]}
    figures = ("revenue", "cogs", "gross_margin")
    assert [margins["GIFT"][f] for f in figures] == ["20.00", "8.00", "12.00"]
    assert all(part not in margins for part in ("MUG", "TEA"))
    assert [kpis[(f, "")] for f in ("revenue", "cogs", "gross_margin")] == [
        "20.00", "8.00", "12.00"]  # fmt: skip


PHONE = "5012345678917"


def test_a_customer_return_at_the_dock_restocks_quarantines_and_catches_a_wrong_serial(
    hub, pack, dock
):
    hub.api("POST", "/api/products", [*PRODUCTS, {
        "sku": "PHONE", "name": "Phone", "gtins": [{"gtin": PHONE}], "unit_weight_g": "200",
        "serial_tracked": True, "unit_cost": "100"}])  # fmt: skip
    po(hub, "PO-6", ("MUG", 3), ("PHONE", 2))
    start(pack, hub, ("purchase-orders", "PO-6"), ("catalog", "PHONE"))
    pack.scan_all("OP:kim", "CMD:MODE:RECEIVE", "PO:PO-6", "LOC:A-01-1", "QTY:3", MUG,
                  "LOC:P-01-1", "QTY:2", PHONE, "CMD:MODE:PACK")  # fmt: skip
    wait_until(lambda: stock(hub, "PHONE"), what="stock put away")
    hub.api("POST", "/api/orders", {"order": "SO-R", "customer": "Acme", "lines": [
        {"sku": "MUG", "qty": 2}, {"sku": "PHONE", "qty": 1}]})  # fmt: skip
    pack.wait_cached("orders", "SO-R")
    pack.scan_all("SO-R", MUG, MUG)
    pack.scan(gs1(PHONE) + "21SN-1", symbology="]C1")
    pack.scale.place(Decimal(2 * 340 + 200))
    wait_until(lambda: pack.events("shipment"), what="shipment journaled")

    start(dock, hub, ("returnable", "SO-R"))
    dock.scan_all("OP:rita", "CMD:MODE:RETURNS", "ORD:SO-R", MUG, "CMD:CONDITION:RESELLABLE",
                  "CMD:RETURN:NOT_WANTED", MUG, "CMD:CONDITION:DAMAGED",
                  "CMD:RETURN:DEFECTIVE")  # fmt: skip
    dock.scan(gs1(PHONE) + "21SN-9", "serial_not_shipped", symbology="]C1")
    dock.scan(TEA, "not_in_order")  # held for a supervisor, as in receiving: dropped
    dock.scan_all("CMD:UNDO")
    dock.scan(MUG, "too_many")
    dock.scan_all("CMD:UNDO", "CMD:DONE")

    wait_until(lambda: hub.api("GET", "/api/reports/quarantine")["rows"], what="return booked")
    assert stock(hub, "MUG") == {("A-01-1", None): 2, ("QUARANTINE", None): 1}
    product = hub.api("GET", "/api/products/MUG/history")
    assert (product["on_hand"], product["quarantined"], product["available"]) == (3, 1, 2)
    rows = hub.api("GET", "/api/reports/returns")["rows"]
    assert [(r["sku"], r["reason"], r["condition"], r["returned"], r["shipped"]) for r in rows] == [
        ("MUG", "defective", "damaged", 1, 2), ("MUG", "not_wanted", "resellable", 1, 2)]  # fmt: skip
    kpis = {r["kpi"]: r["value"] for r in hub.api("GET", "/api/reports/kpis")["rows"]
            if r["scope"] == ""}  # fmt: skip
    assert (kpis["units_returned"], kpis["return_rate"]) == (2, round(2 / 3, 4))
    (event,) = dock.events("return")
    assert event["data"]["order"] == "SO-R" and event["data"]["operator"] == "rita"


def test_a_kit_assembled_at_the_bench_is_stock_that_an_order_then_ships(hub, pack):
    hub.api("POST", "/api/products", [*PRODUCTS, {
        "sku": "GIFT", "name": "Gift box", "gtins": [{"gtin": GIFT}],
        "kit": [{"sku": "MUG", "qty": 2}, {"sku": "TEA", "qty": 1}]}])  # fmt: skip
    hub.api("POST", "/api/purchase-orders", {"po": "PO-7", "lines": [
        {"sku": "MUG", "qty": 6, "unit_cost": "2.50"},
        {"sku": "TEA", "qty": 3, "unit_cost": "1.20"}]})  # fmt: skip
    start(pack, hub, ("purchase-orders", "PO-7"), ("catalog", "GIFT"))
    pack.scan_all("OP:ben", "CMD:MODE:RECEIVE", "PO:PO-7", "LOC:A-01-1", "QTY:6", MUG,
                  "LOC:B-02-1", "QTY:3")  # fmt: skip
    pack.scan(gs1(TEA, "301231", "L-1"), symbology="]C1")
    wait_until(lambda: stock(hub, "TEA"), what="stock put away")

    pack.scan_all("CMD:MODE:ASSEMBLE", GIFT, MUG)
    pack.scan("CMD:DONE", "not_complete")
    pack.scan(TEA, "lot_required")
    pack.scan(gs1(TEA, "301231", "L-1"), symbology="]C1")
    pack.scan(GIFT, "not_in_kit")  # the kit is no part of itself
    pack.scan_all(MUG, "LOC:K-1", "CMD:DONE")
    wait_until(lambda: stock(hub, "GIFT"), what="kit booked")

    assert stock(hub, "GIFT") == {("K-1", None): 1}
    assert stock(hub, "MUG") == {("A-01-1", None): 4}
    assert stock(hub, "TEA") == {("B-02-1", "L-1"): 2}
    layers = hub.api("GET", "/api/products/GIFT/layers")["layers"]
    assert [(x["location"], x["qty"], x["unit_cost"]) for x in layers] == [("K-1", 1, "6.20")]
    kit = hub.api("GET", "/api/products/GIFT/history")["kit"]
    assert (kit["built"], kit["buildable"], kit["available"]) == (1, 2, 3)

    hub.api("POST", "/api/orders", {"order": "SO-G", "lines": [{"sku": "GIFT", "qty": 1}]})
    pack.wait_cached("orders", "SO-G")
    pack.scan_all("CMD:MODE:PACK", "SO-G")
    assert pack.station.snapshot()["lines"][0]["location"] == "K-1"
    pack.scan(GIFT)
    pack.scale.place(Decimal(2 * 340 + 210))
    wait_until(lambda: hub.api("GET", "/api/orders/SO-G")["status"] == "shipped", what="shipped")
    assert not any(stock(hub, "GIFT").values())
    assert stock(hub, "MUG") == {("A-01-1", None): 4}  # the built kit shipped, not new parts
    kinds = {a["kind"] for a in hub.api("GET", "/api/alerts")["alerts"]}
    assert "kit_backflushed" not in kinds
