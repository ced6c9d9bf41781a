"""A barcode typed into a serial scanner travels through the station's journal, Mosquitto
and the hub's ingest into the ledger, the API and the stations' caches."""

from tests.harness import wait_until

PRODUCTS = [
    {"sku": "MUG-1", "name": "Mug", "gtins": [{"gtin": "4006381333931"}], "unit_weight_g": 350},
    {"sku": "TEA-1", "name": "Tea", "gtins": [{"gtin": "5012345678900"}]},
]
ORDER = {"order": "SO-1", "lines": [{"sku": "MUG-1", "qty": 2}, {"sku": "TEA-1", "qty": 1}]}


def _shipped(hub):
    movements = hub.api("GET", "/api/movements?limit=10")["movements"]
    return [m for m in movements if m["type"] == "shipment"]


def test_packed_order_reaches_the_ledger_and_api(hub, pack_station, scanner):
    hub.api("POST", "/api/products", PRODUCTS)
    hub.api("POST", "/api/orders", ORDER)
    wait_until(lambda: hub.api("GET", "/api/stations")["stations"], what="station online")
    # The order reaches the station through its retained topic; wait until it is cached.
    wait_until(
        lambda: pack_station.journal() or pack_station.cached("orders", "SO-1"), 20, "order cached"
    )
    for code in ["OP:alice", "SO-1", "4006381333931", "4006381333931", "5012345678900"]:
        scanner.scan(code)
    shipped = wait_until(lambda: _shipped(hub), what="shipment in the ledger")
    assert sorted((m["sku"], m["delta"]) for m in shipped) == [("MUG-1", -2), ("TEA-1", -1)]
    assert all(m["station"] == "pack-1" for m in shipped)
    stock = hub.api("GET", "/api/stock?sku=MUG-1")["stock"][0]
    assert stock["on_hand"] == -2  # shipped with nothing received: recorded, not clamped
    alerts = hub.api("GET", "/api/alerts")["alerts"]
    assert any(a["kind"] == "negative_stock" and a["sku"] == "MUG-1" for a in alerts)
    verdicts = hub.query("SELECT json_extract(data, '$.verdict') FROM events WHERE type = 'scan'")
    assert [v for (v,) in verdicts] == ["ok", "ok", "ok", "ok", "ok"]
    status = hub.query("SELECT status FROM orders WHERE order_id = 'SO-1'")
    assert status == [("shipped",)]


def test_wrong_scans_are_judged_and_journaled(hub, pack_station, scanner):
    hub.api("POST", "/api/products", PRODUCTS)
    hub.api("POST", "/api/orders", {"order": "SO-2", "lines": [{"sku": "MUG-1", "qty": 1}]})
    wait_until(lambda: pack_station.cached("orders", "SO-2"), 20, "order cached")
    for code in ["OP:alice", "SO-2", "5012345678900", "NOPE", "4006381333931"]:
        scanner.scan(code)
    wait_until(lambda: _shipped(hub), what="shipment")
    verdicts = hub.query(
        "SELECT json_extract(data, '$.verdict') FROM events WHERE type = 'scan' ORDER BY seq"
    )
    assert [v for (v,) in verdicts] == ["ok", "ok", "not_in_order", "unknown_barcode", "ok"]

