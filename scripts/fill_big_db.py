"""Fills a hub database with a big site: 100,000 products, 5,000,000 movements (one event
each), 500,000 scans over 100,000 orders, 2,000 locations, 10 stations; balances equal the
sum of movements. Rows are generated inside SQLite (recursive CTEs), indexes built once at
the end, so a fill takes a few minutes. Used by scripts/measure-pages and the benchmark."""

import argparse
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub import store  # noqa: E402

START = "2025-11-28T00:00:00"  # a year of history


def _series(n: int) -> str:
    return f"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {n}) "


def _ts(expr: str, span_s: int, n: int) -> str:
    """An ISO time spread over span_s for i in 1..n, in the hub's own format."""
    return (f"strftime('%Y-%m-%dT%H:%M:%f', '{START}', '+' || (({expr}) * {span_s} / {n}) "
            f"|| ' seconds') || '+00:00'")  # fmt: skip


def drop_indexes(conn: sqlite3.Connection) -> None:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]  # fmt: skip
    for name in names:
        conn.execute(f'DROP INDEX "{name}"')


def fill(conn: sqlite3.Connection, products: int, movements: int, scans: int) -> None:
    orders = max(1, scans // 5)
    year = 365 * 86400
    step = lambda label: print(f"{time.strftime('%H:%M:%S')} {label}", flush=True)  # noqa: E731
    step("products and GTINs")
    conn.execute(_series(products) + "INSERT INTO products SELECT printf('SKU-%06d', i), "
                 "printf('Product %d, %s', i, CASE i % 4 WHEN 0 THEN 'blue' WHEN 1 THEN 'red' "
                 "WHEN 2 THEN 'large' ELSE 'small' END), json_object('sku', printf('SKU-%06d', i),"
                 " 'name', printf('Product %d', i), 'gtins', json_array(json_object('gtin', "
                 "printf('%013d', 4000000000000 + i)))), '2025-11-28T00:00:00+00:00' FROM c")
    conn.execute(_series(products) + "INSERT INTO gtins SELECT printf('%014d', 4000000000000 + i),"
                 " printf('SKU-%06d', i), 1 FROM c")
    step("stations")
    conn.execute(_series(10) + "INSERT INTO stations SELECT printf('pack-%d', i), 'e1', 'online', "
                 "json_object('state', 'online', 'epoch', 'e1', 'mode', 'pack', 'operator', "
                 "'op' || i, 'devices', json_object('scanner', 'ok', 'scale', 'ok', 'printer', "
                 "'ok'), 'head', 0), '2025-11-28T00:00:00+00:00', '2026-11-28T00:00:00+00:00' "
                 "FROM c")
    step(f"{movements:,} movement events")
    # Event i: a receipt of 1-20 units (one in five) or a shipment of one unit, of a product
    # spread over the catalog, in one of 2,000 bins, from one of 10 stations.
    conn.execute(_series(movements) + "INSERT INTO events (id, station, epoch, seq, type, ts, "
                 "hub_ts, data) SELECT i, printf('pack-%d', i % 10 + 1), 'e1', (i - 1) / 10 + 1, "
                 "CASE WHEN i % 5 = 0 THEN 'receipt' ELSE 'shipment' END, "
                 f"{_ts('i', year, movements)}, {_ts('i', year, movements)}, "
                 "json_object('sku', printf('SKU-%06d', (i * 7919) % " + str(products) + " + 1)) "
                 "FROM c")
    conn.execute("INSERT INTO movements (id, event_id, type, sku, location, lot, owner, delta, "
                 "ts, hub_ts) SELECT id, id, type, json_extract(data, '$.sku'), "
                 "printf('%s-%02d-%d', char(65 + id % 10), (id / 10) % 50, id % 4), '', '', "
                 "CASE type WHEN 'receipt' THEN id % 20 + 1 ELSE -1 END, ts, hub_ts FROM events")
    step(f"{scans:,} scans over {orders:,} orders")
    conn.execute(_series(orders) + "INSERT INTO orders SELECT printf('SO-%06d', i), "
                 "CASE WHEN i % 50 = 0 THEN 'open' ELSE 'shipped' END, json_object('order', "
                 "printf('SO-%06d', i), 'lines', json_array(json_object('sku', printf('SKU-%06d', "
                 f"i % {products} + 1), 'qty', 5))), {_ts('i', year, orders)}, "
                 f"{_ts('i', year, orders)} FROM c")
    conn.execute(_series(scans) + "INSERT INTO events (station, epoch, seq, type, ts, hub_ts, "
                 f"data) SELECT printf('pack-%d', i % 10 + 1), 'scans', (i - 1) / 10 + 1, 'scan', "
                 f"{_ts('i', year, scans)}, {_ts('i', year, scans)}, json_object('code', "
                 "printf('%013d', 4000000000000 + i % " + str(products) + " + 1), 'verdict', "
                 "CASE WHEN i % 97 = 0 THEN 'not_in_order' ELSE 'ok' END, 'mode', 'pack', "
                 "'order', printf('SO-%06d', (i - 1) / 5 + 1), 'sku', printf('SKU-%06d', "
                 f"i % {products} + 1), 'operator', 'op' || (i % 10 + 1)) FROM c")
    conn.execute("INSERT INTO cursors SELECT station, epoch, max(seq), '2026-11-28T00:00:00+00:00' "
                 "FROM events GROUP BY station, epoch")
    step("balances (the sum of movements)")
    conn.execute("INSERT INTO balances SELECT sku, location, lot, owner, sum(delta) FROM movements "
                 "GROUP BY sku, location, lot, owner")
    conn.execute(_series(300) + "INSERT INTO alerts (kind, severity, message, sku, station, ts) "
                 "SELECT 'negative_stock', 'critical', printf('SKU-%06d is below zero', i), "
                 "printf('SKU-%06d', i), 'pack-1', '2026-11-27T00:00:00+00:00' FROM c")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db", type=Path, help="the ledger file to create (must not exist)")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--movements", type=int, default=5_000_000)
    parser.add_argument("--scans", type=int, default=500_000)
    args = parser.parse_args()
    if args.db.exists():
        print(f"{args.db} exists: give a new file", file=sys.stderr)
        return 2
    args.db.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    conn = store.connect(args.db)
    store.create_schema(conn)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    drop_indexes(conn)
    with store.transaction(conn):
        fill(conn, args.products, args.movements, args.scans)
    print(f"{time.strftime('%H:%M:%S')} indexes", flush=True)
    store.create_schema(conn)  # CREATE INDEX IF NOT EXISTS: built once, sorted
    conn.execute("ANALYZE")
    conn.close()
    print(f"filled {args.db} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
