"""The station's copy of what the hub publishes retained: catalog, orders, POs, count tasks.

Kept in SQLite so a station that boots with no network still knows its orders, and in
memory for lookups at scan speed. It implements the workflows' `Lookups`.
"""

import logging
import sqlite3
from datetime import date
from pathlib import Path

import msgspec

from protocol.messages import CountTask, Order, Product, PurchaseOrder
from protocol.returns import Returnable
from protocol.topics import Topics

log = logging.getLogger(__name__)

# The topic level after wh/v1/{site}/ (or after station/{id}/) -> the cached type.
KINDS: dict[str, type[msgspec.Struct]] = {
    "catalog": Product,
    "orders": Order,
    "purchase-orders": PurchaseOrder,
    "count-tasks": CountTask,
    "returnable": Returnable,
}


class Cache:
    def __init__(self, path: str | Path, topics: Topics, station: str) -> None:
        self.topics = topics
        self.station = station
        try:
            self.conn = _connect(path)
        except sqlite3.Error as exc:
            # A read-only or broken card: the broker re-sends every retained message on
            # connect, so a cache in memory still serves this run.
            log.error("cannot open the cache %s (%s): caching in memory", path, exc)
            self.conn = _connect(":memory:")
        self._items: dict[str, dict[str, msgspec.Struct]] = {kind: {} for kind in KINDS}
        self._gtins: dict[str, tuple[str, int]] = {}
        for topic, kind, payload in self.conn.execute("SELECT topic, kind, payload FROM retained"):
            self._remember(kind, topic, msgspec.json.decode(payload, type=KINDS[kind]))

    def kind_of(self, topic: str) -> str | None:
        """Which cached kind a topic carries, or None if it is not one we cache."""
        levels = self.topics.leaf(topic)
        if len(levels) == 2 and levels[0] in ("catalog", "orders", "purchase-orders",
                                              "returnable"):  # fmt: skip
            return levels[0]
        if levels[:3] == ["station", self.station, "count-tasks"] and len(levels) == 4:
            return "count-tasks"
        return None

    def apply(self, topic: str, payload: bytes) -> bool:
        """Store or (empty payload) forget one retained message. False if it was invalid."""
        kind = self.kind_of(topic)
        if kind is None:
            return False
        key = topic.rsplit("/", 1)[1]
        if not payload:
            self.conn.execute("DELETE FROM retained WHERE topic = ?", [topic])
            self._forget(kind, key)
            return True
        try:
            item = msgspec.json.decode(payload, type=KINDS[kind])
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            log.error("ignoring invalid %s on %s: %s", kind, topic, exc)
            return False
        self.conn.execute(
            "INSERT OR REPLACE INTO retained VALUES (?, ?, ?)", [topic, kind, payload]
        )
        self._forget(kind, key)
        self._remember(kind, topic, item)
        return True

    def _remember(self, kind: str, topic: str, item: msgspec.Struct) -> None:
        key = topic.rsplit("/", 1)[1]
        self._items[kind][key] = item
        if isinstance(item, Product):
            for gtin in item.gtins:
                self._gtins[_gtin14(gtin.gtin)] = (item.sku, gtin.units)

    def _forget(self, kind: str, key: str) -> None:
        old = self._items[kind].pop(key, None)
        if isinstance(old, Product):
            for gtin in old.gtins:
                self._gtins.pop(_gtin14(gtin.gtin), None)

    # --- Lookups ------------------------------------------------------------------
    def product(self, sku: str) -> Product | None:
        return self._items["catalog"].get(sku)  # type: ignore[return-value]

    def product_by_gtin(self, gtin: str) -> tuple[Product, int] | None:
        if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
            return None
        found = self._gtins.get(_gtin14(gtin))
        if found is None:
            return None
        product = self.product(found[0])
        return (product, found[1]) if product else None

    def order(self, order: str) -> Order | None:
        return self._items["orders"].get(order)  # type: ignore[return-value]

    def purchase_order(self, po: str) -> PurchaseOrder | None:
        return self._items["purchase-orders"].get(po)  # type: ignore[return-value]

    def returnable(self, id_: str) -> Returnable | None:
        return self._items["returnable"].get(id_)  # type: ignore[return-value]

    def count_tasks(self) -> list[CountTask]:
        return list(self._items["count-tasks"].values())  # type: ignore[arg-type]

    def today(self) -> date:
        return date.today()

    def counts(self) -> dict[str, int]:
        return {kind: len(items) for kind, items in self._items.items()}

    def close(self) -> None:
        self.conn.close()


def _connect(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS retained (topic TEXT PRIMARY KEY, kind TEXT, payload BLOB)"
    )
    return conn


def _gtin14(gtin: str) -> str:
    """GTIN-8/12/13/14 compare equal once zero-padded to 14 digits."""
    return gtin.zfill(14)
