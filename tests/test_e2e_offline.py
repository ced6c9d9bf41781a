"""A station packs a whole order while the broker is down; when it comes back, the
shipment reaches the hub exactly once."""

import pytest

from tests.harness import wait_until

pytestmark = pytest.mark.slow


def test_an_order_packed_offline_reaches_the_hub_once(broker, hub, pack_station, scanner):
    hub.api(
        "POST",
        "/api/products",
        [{"sku": "MUG-1", "name": "Mug", "gtins": [{"gtin": "4006381333931"}]}],
    )
    hub.api("POST", "/api/orders", {"order": "SO-9", "lines": [{"sku": "MUG-1", "qty": 3}]})
    wait_until(lambda: hub.query("SELECT count(*) FROM outbox") == [(0,)], what="order published")
    wait_until(lambda: (pack_station.dir / "data" / "cache.db").exists(), what="station cache")
    wait_until(lambda: pack_station.cached("orders", "SO-9"), what="order cached")
    broker.stop()
    for code in ["OP:alice", "SO-9", "4006381333931", "4006381333931", "4006381333931"]:
        scanner.scan(code)
    wait_until(
        lambda: len(pack_station.journal()) == 6, what="journaled offline"
    )  # 5 scans + shipment
    assert hub.query("SELECT count(*) FROM events") == [(0,)]
    broker.start()
    wait_until(
        lambda: hub.query("SELECT count(*) FROM events") == [(6,)], 30, "applied after reconnect"
    )
    assert hub.query("SELECT sku, delta FROM movements") == [("MUG-1", -3)]
    assert hub.query("SELECT status FROM orders WHERE order_id = 'SO-9'") == [("shipped",)]

