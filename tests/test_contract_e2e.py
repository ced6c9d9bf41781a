"""The MQTT contract tried as another system's developer would, on a running demo-sized hub
(the demo's tour: real broker, hub and two stations): every payload on every topic, empty
retained ones included, matches docs/asyncapi.yaml (jsonschema), and a subscriber written
with gmqtt (an MQTT library independent of the project's paho), logged in as an
integration, rebuilds the stock from the retained `stock/#` snapshots and `movements`
alone, following docs/protocol.md's snapshot-then-stream rule; it equals GET /api/stock."""

import asyncio
import json
import sys
import threading
from collections import defaultdict
from pathlib import Path

import jsonschema
import pytest
import yaml

from kit.ports import free_port
from tests.harness import wait_until

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "scripts" / "lib")]
gmqtt = pytest.importorskip("gmqtt")

pytestmark = pytest.mark.slow
DOCUMENT = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())


class Capture:
    """A gmqtt client on its own asyncio loop, keeping (topic, payload, retained)."""

    def __init__(self, port: int, user: str, password: str, filters: list[str]) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.client = gmqtt.Client(user)
        self.client.set_auth_credentials(user, password)
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(port, filters), self.loop).result(20)
        assert self.subscribed.wait(20)

    async def _start(self, port: int, filters: list[str]) -> None:
        await self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.subscribe([gmqtt.Subscription(f, qos=1) for f in filters])

    def _on_message(self, _client, topic, payload, _qos, properties) -> int:
        with self.lock:
            self.messages.append((topic, bytes(payload), bool(properties.get("retain"))))
        return 0

    def taken(self) -> list[tuple[str, bytes, bool]]:
        with self.lock:
            return list(self.messages)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.client.disconnect(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)


def channel_of(topic: str) -> dict:
    levels = topic.split("/")
    for channel in DOCUMENT["channels"].values():
        parts = channel["address"].split("/")
        if len(parts) == len(levels) and all(
            p.startswith("{") or p == level for p, level in zip(parts, levels, strict=True)
        ):
            return channel
    raise AssertionError(f"{topic}: no channel in docs/asyncapi.yaml")


def problems_of(topic: str, payload: bytes) -> list[str]:
    """Why `payload` matches none of the messages of its channel ([] when it matches one)."""
    channel = channel_of(topic)
    found = []
    for ref in channel["messages"].values():
        message = DOCUMENT["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]
        schema = {**message["payload"], "components": DOCUMENT["components"]}
        try:
            value = payload.decode() if message.get("contentType") else json.loads(payload)
            jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())
            return []
        except (ValueError, jsonschema.ValidationError) as exc:
            found.append(f"{message['name']}: {str(exc).splitlines()[0]}")
    return [f"{topic} {payload[:200]!r}: {found}"]


class StockRebuild:
    """docs/protocol.md's rule: the retained snapshot per sku, then only the movements of
    that sku with a higher ledger_seq (deduped on ledger_seq)."""

    def __init__(self, messages: list[tuple[str, bytes, bool]]) -> None:
        self.lines: dict[str, dict[tuple, int]] = defaultdict(dict)
        self.position: dict[str, int] = {}
        seen: set[int] = set()
        for topic, payload, retained in messages:
            if "/stock/" in topic and retained and payload:
                stock = json.loads(payload)
                self.position[stock["sku"]] = stock["ledger_seq"]
                self.lines[stock["sku"]] = {
                    (ln["location"], ln.get("lot"), ln.get("owner")): ln["qty"]
                    for ln in stock["locations"]
                }
            elif topic.endswith("/movements"):
                move = json.loads(payload)
                if move["ledger_seq"] in seen or move["ledger_seq"] <= self.position.get(
                    move["sku"], 0
                ):
                    continue
                seen.add(move["ledger_seq"])
                key = (move["location"], move.get("lot"), move.get("owner"))
                lines = self.lines[move["sku"]]
                lines[key] = lines.get(key, 0) + move["delta"]

    def stock(self) -> dict[str, dict[tuple, int]]:
        return {
            sku: {k: q for k, q in lines.items() if q}
            for sku, lines in self.lines.items()
            if any(lines.values())
        }


def api_stock(demo) -> dict[str, dict[tuple, int]]:
    items = demo.api("GET", "/api/stock?limit=1000")["stock"]
    return {
        item["sku"]: {
            (ln["location"], ln["lot"], ln["owner"]): ln["qty"] for ln in item["locations"]
        }
        for item in items
        if item["locations"]
    }


def test_contract_every_payload_matches_and_the_stock_rebuilds_from_the_topics(tmp_path):
    import demo as demo_script  # scripts/demo.py

    demo = demo_script.Demo(tmp_path, free_port(), free_port(), pace=0)
    captures: list[Capture] = []
    try:
        demo.start()
        # Joins after the seed: some stock snapshots are already retained.
        everything = Capture(demo.broker_port, "observer_demo", demo.passwords["observer_demo"],
                             ["wh/v1/#"])  # fmt: skip
        erp = Capture(demo.broker_port, "erp_demo", demo.passwords["erp_demo"],
                      ["wh/v1/demo/stock/#", "wh/v1/demo/movements"])  # fmt: skip
        captures = [everything, erp]
        demo.run(tour=True, seed=1604)  # the same random choices on every run
        assert not demo.failed
        wait_until(lambda: StockRebuild(erp.taken()).stock() == api_stock(demo), 60,
                   "the rebuilt stock equal to GET /api/stock")  # fmt: skip
        messages = everything.taken()
    finally:
        for capture in captures:
            capture.stop()
        demo.stop()
    topics = {topic.split("/")[3] for topic, _, _ in messages}
    assert {"station", "orders", "purchase-orders", "catalog", "stock", "movements"} <= topics
    assert any(not payload for _, payload, _ in messages), "no empty retained payload seen"
    problems = [p for topic, payload, _ in messages for p in problems_of(topic, payload)]
    assert problems == []
