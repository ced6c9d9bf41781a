"""A big site in a hub database, for measuring the pages and the API at depth.

Default size: 100,000 products, 5,000,000 movements (one event each, receipts and
shipments over a year, each product in four bins of one aisle), 500,000 pack scans over
100,000 orders, 2,000 locations, 20 suppliers, 1,000 purchase orders, 10 stations, pending
count variances, open count tasks and alerts.

Rows are generated inside SQLite (recursive CTEs) into the hub's own schema
(hub/schema.sql; every INSERT names its columns), with the secondary indexes dropped
first and built once at the end, so a full fill takes minutes, not hours. The result keeps
the invariants a real hub keeps: each balance is the sum of its movements, each own stock
line has FIFO layers of the same quantity and the value and COGS aggregates agree with
them, each station's events run 1..n with its cursor at n (`python -m hub check` passes).
The ABC classes and the stored reports are computed at the end, as the hub's daily
housekeeping does.

Used by scripts/fill-big-db (for scripts/measure-pages) and by bench 5 (bench_pages.py).
"""

import argparse
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hub import daily_refresh, store  # noqa: E402
from protocol.envelope import utc_now  # noqa: E402

START = "2025-11-28T00:00:00"  # a year of history ends on END
END = "2026-11-28T00:00:00+00:00"
YEAR_S = 365 * 86400


@dataclass(frozen=True)
class Size:
    products: int = 100_000
    movements: int = 5_000_000
    scans: int = 500_000

    @property
    def orders(self) -> int:
        return max(1, self.scans // 5)


def _series(count: str) -> str:
    return f"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {count}) "


def _ts(expr: str, count: str) -> str:
    """An ISO time, `expr` of 1..count spread over the year, in the hub's own format."""
    return (f"strftime('%Y-%m-%dT%H:%M:%f', '{START}', '+' || (({expr}) * {YEAR_S} / {count}) "
            f"|| ' seconds') || '+00:00'")  # fmt: skip


# Each step is one statement; named parameters come from Size and the constants above.
# Product s (1..P) in round r of the movements lives in zone s % 10, aisle (s / 10) % 50,
# bin r % 4; one movement in five is a receipt of 1-20 units, the others ship one unit.
STEPS: list[tuple[str, str]] = [
    ("suppliers", _series("20") + """
INSERT INTO suppliers (supplier, name, email, lead_time_days, updated)
SELECT printf('SUP-%02d', i), printf('Supplier %d', i), printf('orders@supplier%d.example', i),
       7 + i % 14, :start FROM c"""),
    ("products", _series(":products") + """
INSERT INTO products (sku, name, data, updated, master, unit_cost, par_level, reorder_point,
                      safety_stock, high_risk, owner)
SELECT sku, name,
       json_object('sku', sku, 'name', name, 'gtins', json_array(json_object('gtin', gtin))),
       :start,
       json_object('sku', sku, 'name', name, 'gtins', json_array(json_object('gtin', gtin)),
                   'unit_cost', printf('%.2f', cost / 1e6),
                   'suppliers', json_array(json_object('supplier', supplier)),
                   'reorder_point', point, 'high_risk', json(CASE WHEN risky THEN 'true'
                   ELSE 'false' END)),
       cost, NULL, point, NULL, risky, ''
FROM (SELECT printf('SKU-%06d', i) AS sku,
             printf('Product %d, %s', i, CASE i % 4 WHEN 0 THEN 'blue' WHEN 1 THEN 'red'
                    WHEN 2 THEN 'large' ELSE 'small' END) AS name,
             printf('%014d', 4000000000000 + i) AS gtin, (i % 50 + 1) * 250000 AS cost,
             printf('SUP-%02d', i % 20 + 1) AS supplier,
             CASE WHEN i % 10 = 0 THEN 20 END AS point, i % 100 = 0 AS risky FROM c)"""),
    ("gtins", """
INSERT INTO gtins (gtin, sku, units)
SELECT json_extract(data, '$.gtins[0].gtin'), sku, 1 FROM products"""),
    ("product suppliers", """
INSERT INTO product_suppliers (sku, supplier, rank, lead_time_days, unit_cost)
SELECT p.sku, s.supplier, 0, s.lead_time_days, p.unit_cost FROM products p
JOIN suppliers s ON s.supplier = json_extract(p.master, '$.suppliers[0].supplier')"""),
    ("locations", _series("2000") + """
INSERT INTO locations (code, zone, aisle, bay, bin, barcode, updated)
SELECT code, zone, aisle, '', bin, 'LOC:' || code, :start
FROM (SELECT printf('%s-%02d-%d', char(65 + (i - 1) % 10), ((i - 1) / 10) % 50, (i - 1) / 500)
             AS code, char(65 + (i - 1) % 10) AS zone, printf('%02d', ((i - 1) / 10) % 50)
             AS aisle, printf('%d', (i - 1) / 500) AS bin FROM c)"""),
    ("movements", _series(":movements") + f"""
INSERT INTO movements (id, event_id, type, sku, location, lot, owner, delta, ts, hub_ts)
SELECT i, i, CASE WHEN (r + s) % 5 = 0 THEN 'receipt' ELSE 'shipment' END,
       printf('SKU-%06d', s), printf('%s-%02d-%d', char(65 + s % 10), (s / 10) % 50, r % 4),
       '', '', CASE WHEN (r + s) % 5 = 0 THEN i % 20 + 1 ELSE -1 END, ts, ts
FROM (SELECT i, (i - 1) / :products AS r, (i * 7919) % :products + 1 AS s,
             {_ts('i', ':movements')} AS ts FROM c)"""),
    ("movement events", """
INSERT INTO events (id, station, epoch, seq, type, ts, hub_ts, data)
SELECT id, printf('pack-%d', id % 10 + 1), 'e1', (id - 1) / 10 + 1, type, ts, hub_ts,
       CASE type WHEN 'receipt' THEN json_object('sku', sku, 'qty', delta,
                  'location', location, 'operator', printf('op%d', id % 10 + 1))
       ELSE json_object('order', printf('SO-M%07d', id), 'lines', json_array(json_object(
            'sku', sku, 'qty', 1, 'location', location)), 'operator',
            printf('op%d', id % 10 + 1)) END
FROM movements"""),
    ("orders", _series(":orders") + f"""
INSERT INTO orders (order_id, status, data, created, updated, closed)
SELECT order_id, status, json_object('order', order_id, 'lines', json_array(json_object(
       'sku', printf('SKU-%06d', i % :products + 1), 'qty', 5)), 'status', status), ts, ts,
       CASE status WHEN 'open' THEN NULL ELSE ts END
FROM (SELECT i, printf('SO-%06d', i) AS order_id,
             CASE WHEN i % 50 = 0 THEN 'open' ELSE 'shipped' END AS status,
             {_ts('i', ':orders')} AS ts FROM c)"""),
    ("order lines", """
INSERT INTO order_lines (order_id, line, sku, qty, shipped, short, kit, role, open)
SELECT order_id, 1, json_extract(data, '$.lines[0].sku'), 5,
       CASE status WHEN 'open' THEN 0 ELSE 5 END, 0, '', 'stock', status = 'open'
FROM orders"""),
    ("scans", _series(":scans") + f"""
INSERT INTO events (station, epoch, seq, type, ts, hub_ts, data)
SELECT printf('pack-%d', i % 10 + 1), 'scans', (i - 1) / 10 + 1, 'scan', ts, ts,
       json_object('code', printf('%014d', 4000000000000 + i % :products + 1),
                   'verdict', CASE WHEN i % 97 = 0 THEN 'not_in_order' ELSE 'ok' END,
                   'mode', 'pack', 'order', printf('SO-%06d', (i - 1) / 5 + 1),
                   'sku', printf('SKU-%06d', i % :products + 1),
                   'operator', printf('op%d', i % 10 + 1))
FROM (SELECT i, {_ts('i', ':scans')} AS ts FROM c)"""),
    ("scan statistics", """
INSERT INTO scan_stats (day, station, operator, mode, scans, errors)
SELECT substr(hub_ts, 1, 10), station, json_extract(data, '$.operator'), 'pack', count(*),
       sum(json_extract(data, '$.verdict') != 'ok')
FROM events WHERE type = 'scan' GROUP BY 1, 2, 3"""),
    ("stock lines", """
CREATE TEMP TABLE stock_lines AS
SELECT sku, location, min(id) AS first, min(hub_ts) AS received, sum(delta) AS qty
FROM movements GROUP BY sku, location"""),
    ("balances", """
INSERT INTO balances (sku, location, lot, owner, qty)
SELECT sku, location, '', '', qty FROM temp.stock_lines"""),
    ("FIFO layers", """
INSERT INTO cost_layers (sku, location, lot, movement_id, received, qty_in, qty_left,
                         unit_cost, kind)
SELECT l.sku, l.location, '', l.first, l.received, max(l.qty, 0), l.qty, p.unit_cost,
       CASE WHEN l.qty < 0 THEN 'shipment' ELSE 'layer' END
FROM temp.stock_lines l JOIN products p ON p.sku = l.sku WHERE l.qty != 0"""),
    ("daily aggregates per product", """
INSERT INTO daily_sku (day, sku, out_qty, in_qty, cogs)
SELECT d.day, d.sku, d.out_qty, d.in_qty, d.out_qty * p.unit_cost
FROM (SELECT substr(hub_ts, 1, 10) AS day, sku,
             sum(CASE WHEN delta < 0 THEN -delta ELSE 0 END) AS out_qty,
             sum(CASE WHEN delta > 0 THEN delta ELSE 0 END) AS in_qty
      FROM movements GROUP BY 1, 2) d JOIN products p ON p.sku = d.sku"""),
    ("daily totals", """
INSERT INTO daily_totals (day, value_delta, cogs)
SELECT d.day, sum((d.in_qty - d.out_qty) * p.unit_cost), sum(d.cogs)
FROM daily_sku d JOIN products p ON p.sku = d.sku GROUP BY d.day"""),
    ("product activity and low stock", """
INSERT INTO sku_activity (sku, last_out, last_count, low)
SELECT p.sku, (SELECT max(day) FROM daily_sku d WHERE d.sku = p.sku AND d.out_qty > 0), NULL,
       p.reorder_point IS NOT NULL AND (SELECT coalesce(sum(qty), 0) FROM balances b
       WHERE b.sku = p.sku) - coalesce(o.committed, 0) <= p.reorder_point
FROM products p LEFT JOIN (SELECT sku, sum(qty - shipped - short) AS committed
                           FROM order_lines WHERE open = 1 GROUP BY sku) o ON o.sku = p.sku"""),
    ("purchase orders", _series(":products / 100") + """
INSERT INTO purchase_orders (po, supplier, status, ordered, expected, first_receipt, completed,
                             dropship, updated)
SELECT printf('PO-%06d', i), printf('SUP-%02d', i % 20 + 1), status, ordered,
       date(ordered, '+10 days'), CASE WHEN status != 'open' THEN date(ordered, '+9 days') END,
       CASE WHEN status IN ('received', 'closed') THEN date(ordered, '+11 days') END, 0, :end
FROM (SELECT i, CASE i % 4 WHEN 0 THEN 'open' WHEN 1 THEN 'receiving' WHEN 2 THEN 'received'
             ELSE 'closed' END AS status,
             date(:start, '+' || (i * 350 / (:products / 100)) || ' days') AS ordered FROM c)"""),
    ("purchase order lines", """
INSERT INTO po_lines (po, line, sku, qty, received, unit_cost)
SELECT o.po, n.line, printf('SKU-%06d', (CAST(substr(o.po, 4) AS INTEGER) * 97 + n.line * 13)
       % :products + 1), 24,
       CASE o.status WHEN 'open' THEN 0 WHEN 'receiving' THEN 12 WHEN 'received' THEN 24
       ELSE 20 END, 1000000
FROM purchase_orders o, (SELECT 1 AS line UNION ALL SELECT 2) n"""),
    ("pending count variances", _series("200") + """
INSERT INTO events (station, epoch, seq, type, ts, hub_ts, data)
SELECT 'pack-1', 'counts', i, 'count', :end, :end,
       json_object('sku', b.sku, 'location', b.location, 'counted', abs(b.qty) + 40,
                   'operator', 'op1')
FROM c JOIN balances b ON b.rowid = (i * 997) % (SELECT max(rowid) FROM balances) + 1"""),
    ("counts", """
INSERT INTO counts (event_id, station, sku, location, lot, book, counted, variance, status, ts)
SELECT e.id, e.station, b.sku, b.location, NULL, b.qty, json_extract(e.data, '$.counted'),
       json_extract(e.data, '$.counted') - b.qty, 'pending', e.ts
FROM events e JOIN balances b ON b.sku = json_extract(e.data, '$.sku')
 AND b.location = json_extract(e.data, '$.location') WHERE e.epoch = 'counts'"""),
    ("count tasks", _series("100") + """
INSERT INTO count_tasks (task, station, location, sku, status, created)
SELECT printf('CT-%06d', i), printf('pack-%d', i % 10 + 1), b.location, b.sku, 'open', :end
FROM c JOIN balances b ON b.rowid = (i * 1499) % (SELECT max(rowid) FROM balances) + 1"""),
    ("cursors", """
INSERT INTO cursors (station, epoch, applied, updated)
SELECT station, epoch, max(seq), :end FROM events GROUP BY station, epoch"""),
    ("stations", """
INSERT INTO stations (station, epoch, state, status, first_seen, last_seen)
SELECT station, 'e1', 'online', json_object('state', 'online', 'conn', 1, 'epoch', 'e1',
       'head', applied, 'mode', 'pack', 'operator', 'op' || substr(station, 6),
       'devices', json_object('scanner', 'ok', 'scale', 'ok', 'printer', 'ok')), :start, :end
FROM cursors WHERE epoch = 'e1'"""),
    ("alerts", _series("1000") + """
INSERT INTO alerts (kind, severity, message, sku, station, ts)
SELECT 'negative_stock', 'critical', printf('SKU-%06d at A-00-0 is below zero (-1)', i),
       printf('SKU-%06d', i), 'pack-1', :end FROM c"""),
    ("low-stock alerts", """
INSERT INTO alerts (kind, severity, message, sku, ts, dedupe)
SELECT 'low_stock', 'warning', sku || ': at or below its reorder point', sku, :end,
       'low_stock:' || sku FROM sku_activity WHERE low = 1"""),
    ("counters", """
INSERT INTO meta (key, value) VALUES ('counter:po', :products / 100), ('counter:count-task', 100)
"""),
]


def drop_indexes(conn: sqlite3.Connection) -> None:
    """Secondary indexes go; `store.create_schema` builds them again, once, sorted."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]  # fmt: skip
    for name in names:
        conn.execute(f'DROP INDEX "{name}"')


def fill(path: Path, size: Size, say=print) -> None:
    """Creates the database at `path` (which must not exist) and fills it."""
    if path.exists():
        raise FileExistsError(f"{path} exists: give a new file")
    conn = store.connect(path)
    try:
        store.create_schema(conn)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA cache_size=-400000")
        drop_indexes(conn)
        params = {"products": size.products, "movements": size.movements,
                  "scans": size.scans, "orders": size.orders, "start": START + "+00:00",
                  "end": END}  # fmt: skip
        conn.execute("BEGIN")
        for label, sql in STEPS:
            say(f"{time.strftime('%H:%M:%S')} {label}")
            conn.execute(sql, {k: v for k, v in params.items() if f":{k}" in sql})
        conn.execute("DROP TABLE temp.stock_lines")
        conn.execute("COMMIT")
        say(f"{time.strftime('%H:%M:%S')} indexes")
        store.create_schema(conn)  # CREATE INDEX IF NOT EXISTS: the dropped ones, built once
        conn.execute("ANALYZE")
        say(f"{time.strftime('%H:%M:%S')} ABC classes and stored reports")
        _refresh_reports(conn)
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def _refresh_reports(conn: sqlite3.Connection) -> None:
    """What the hub's housekeeping computes once a day, for today: a hub started on the
    filled database the same day serves the stored reports from its first request."""
    now = utc_now()
    daily_refresh.refresh(conn, now.date(), now.isoformat(), force=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="the ledger file to create (must not exist)")
    parser.add_argument("--products", type=int, default=Size.products)
    parser.add_argument("--movements", type=int, default=Size.movements)
    parser.add_argument("--scans", type=int, default=Size.scans)
    args = parser.parse_args()
    if args.products < 100 or args.movements < args.products or args.scans < 10:
        parser.error("at least 100 products, as many movements as products, and 10 scans")
    if args.db.exists():
        print(f"{args.db} exists: give a new file", file=sys.stderr)
        return 2
    args.db.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    fill(args.db, Size(args.products, args.movements, args.scans))
    print(f"filled {args.db} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
