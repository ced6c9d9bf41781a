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
    flagged = hub.query("SELECT json_extract(data, '$.code') FROM events "
                        "WHERE type = 'scan' AND json_extract(data, '$.verdict') = 'over_receipt'")
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
    hub.api("POST", "/api/orders", {"order": "SO-1", "customer": "Acme",
                                    "packaging_weight_g": "150",
                                    "lines": [{"sku": "MUG", "qty": 2}, {"sku": "TEA", "qty": 1}]})
    pack.wait_cached("orders", "SO-1")

    pack.scan("SO-1")
    shown = pack.station.snapshot()["lines"]
    assert [(x["sku"], x["location"]) for x in shown] == [("MUG", "A-01-1"), ("TEA", "B-02-1")]
    pack.scan(MUG)
    pack.scan(TEA, "lot_required")  # the plain EAN has no lot: scan the GS1 code
    pack.scan(gs1(TEA, "301231", "L-1"), symbology="]C1")
    pack.scan(MUG)
    pack.scale.place(Decimal(150 + 2 * 340 + 210))
    wait_until(lambda: pack.events("shipment"), what="shipment journaled")

    wait_until(lambda: hub.query("SELECT status FROM orders WHERE order_id = 'SO-1'")
               == [("shipped",)], what="order shipped")  # fmt: skip
    assert stock(hub, "MUG") == {("A-01-1", None): 2}
    assert stock(hub, "TEA") == {("B-02-1", "L-1"): 1}
    (shipment,) = hub.query("SELECT json_extract(data, '$.weight_g'), "
                            "json_extract(data, '$.weight_override') FROM events "
                            "WHERE type = 'shipment'")  # fmt: skip
    assert shipment == ("1040.00", None)
    jobs = pack.printer.wait_for_jobs(3)  # two put-away labels, then the shipping label
    shipping = jobs[2].decode("utf-8")
    assert shipping.startswith("^XA") and "ORDER SO-1" in shipping and "1.040 kg" in shipping
    assert "Acme" in shipping and "^BC" in shipping  # the order's Code 128
