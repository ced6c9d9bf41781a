"""5. The hub's pages and API with 100,000 products and 5,000,000 movements.

The big database is filled with bulk SQL (recursive CTEs, indexes built afterwards) into
the hub's own schema, and kept under var/bench/ so later runs skip the fill. Endpoints are
measured one after the other over one keep-alive connection, on the real hub process.
"""

import http.client
import shutil
import sqlite3
import time
from pathlib import Path

from bench_env import ROOT, TOKEN, Broker, HubProcess, station_ids
from bench_report import Figure, percentile

from hub import store

# (path, needs the API token). One line per endpoint.
ENDPOINTS = [
    ("/", False),
    ("/overview.json", False),
    ("/api/stock", True),
    ("/api/stock?sku=SKU-004242", True),
    ("/api/stock?offset=50000", True),
    ("/api/movements", True),
    ("/api/movements?before=2500000", True),
    ("/api/stations", True),
    ("/api/alerts", True),
]

FILL = """
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < :products)
INSERT INTO products SELECT printf('SKU-%06d', x), printf('Product %d', x),
  printf('{"sku":"SKU-%06d","name":"Product %d","gtins":[{"gtin":"%014d"}]}', x, x, x),
  '2026-01-01T00:00:00+00:00' FROM n;
INSERT INTO gtins SELECT printf('%014d', rowid), sku, 1 FROM products;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < :events)
INSERT INTO events SELECT x, printf('st-%03d', x % 50 + 1), '0123456789abcdef', x / 50 + 1,
  'move', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:01+00:00',
  printf('{"sku":"SKU-%06d","qty":%d,"from":"A-%03d","to":"B-%03d"}',
         x * 7919 % :products + 1, x % 5 + 1, x % 200, x % 150) FROM n;
INSERT INTO movements (id, event_id, type, sku, location, delta, ts, hub_ts)
  SELECT 2 * id - 1, id, 'move', json_extract(data, '$.sku'), json_extract(data, '$.from'),
         -json_extract(data, '$.qty'), ts, hub_ts FROM events;
INSERT INTO movements (id, event_id, type, sku, location, delta, ts, hub_ts)
  SELECT 2 * id, id, 'move', json_extract(data, '$.sku'), json_extract(data, '$.to'),
         json_extract(data, '$.qty'), ts, hub_ts FROM events;
INSERT INTO balances SELECT sku, location, lot, owner, sum(delta) FROM movements
  GROUP BY sku, location, lot, owner;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 50)
INSERT INTO stations SELECT printf('st-%03d', x), '0123456789abcdef', 'online',
  printf('{"state":"online","conn":1,"epoch":"0123456789abcdef","head":%d}', :events / 50),
  '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00' FROM n;
INSERT INTO cursors SELECT station, epoch, :events / 50, last_seen FROM stations;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000)
INSERT INTO alerts (kind, severity, message, sku, station, ts) SELECT 'negative_stock',
  'critical', printf('SKU-%06d below zero', x), printf('SKU-%06d', x), 'st-001',
  '2026-01-01T00:00:00+00:00' FROM n;
"""


def fill(path: Path, products: int, movements: int) -> None:
    """The hub's schema filled in bulk; secondary indexes are built after the rows."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    store.create_schema(conn)
    indexes = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall()
    for (name,) in indexes:
        conn.execute(f"DROP INDEX {name}")
    params = {"products": products, "events": movements // 2}
    conn.execute("BEGIN")
    for statement in FILL.split(";\n"):
        if statement.strip():
            conn.execute(statement, {k: v for k, v in params.items() if f":{k}" in statement})
    conn.execute("COMMIT")
    store.create_schema(conn)  # IF NOT EXISTS: brings the dropped indexes back
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


def big_db(dir: Path, products: int, movements: int) -> Path:
    """A filled data dir: kept under var/bench/ for full runs, made fresh for quick ones."""
    if products < 100_000:
        data = dir / "data"
    else:
        data = ROOT / "var" / "bench" / f"hub-{products}-{movements}"
    done = data / "filled"
    if not done.exists():
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        started = time.monotonic()
        fill(data / "ledger.db", products, movements)
        done.write_text(f"{time.monotonic() - started:.0f} s\n")
        print(f"   filled {data} in {done.read_text().strip()}", flush=True)
    return data


def timings_ms(port: int, path: str, token: bool, count: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {TOKEN}"} if token else {}
    samples = []
    try:
        for i in range(count + 2):  # two to warm the connection and the page cache
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path}: HTTP {response.status}")
            if i >= 2:
                samples.append((time.perf_counter() - start) * 1000)
    finally:
        conn.close()
    return samples


def run(dir: Path, quick: bool) -> list[Figure]:
    products, movements, count = (1_000, 20_000, 10) if quick else (100_000, 5_000_000, 50)
    dir.mkdir(parents=True)
    data = big_db(dir, products, movements)
    broker = Broker(dir / "broker", station_ids(0))
    hub = HubProcess(dir / "hub", broker, data_dir=data)
    figures = []
    try:
        for path, token in ENDPOINTS:
            samples = timings_ms(hub.web_port, path, token, count)
            p95 = percentile(samples, 95)
            figures.append(Figure(f"5. GET {path} p50", percentile(samples, 50), "ms"))
            figures.append(Figure(f"5. GET {path} p95", p95, "ms", None, "p95 < 100 ms",
                                  p95 < 100))  # fmt: skip
        rss = hub.peak_rss_mb()
    finally:
        hub.stop()
        broker.stop()
    figures.append(Figure(f"6. hub peak RSS, pages on {movements:,} movements", rss, "MB",
                          None, "< 200 MB", rss < 200))  # fmt: skip
    return figures
