"""5. The hub's pages and API with 100,000 products and 5,000,000 movements.

The big database is filled by big_ledger (the same filler as scripts/fill-big-db) into the
hub's own schema, and kept under var/bench/ so later runs skip the fill (a new schema or
filler makes a new one). Endpoints are measured one after the other over one keep-alive
connection, on the real hub process: pages with a login session, the API with a token.
"""

import hashlib
import shutil
import time
from pathlib import Path

from bench_env import ROOT, TOKEN, Broker, HubProcess, station_ids
from bench_report import Figure, percentile
from big_ledger import STEPS, Size, fill
from web_client import Client, ensure_user

from hub import store

USER, PASSWORD = "bench", "bench-password"

# (path, "page" with the login session or "api" with the token). One line per endpoint.
ENDPOINTS = [
    ("/", "page"),
    ("/overview.json", "page"),
    ("/stock?after=SKU-050000", "page"),
    ("/stock?q=Product%20424", "page"),
    ("/products/SKU-000424", "page"),
    ("/counts", "page"),
    ("/purchase-orders", "page"),
    ("/api/stock", "api"),
    ("/api/stock?sku=SKU-000424", "api"),
    ("/api/stock?after=SKU-050000", "api"),
    ("/api/products/SKU-000424/history", "api"),
    ("/api/movements", "api"),
    ("/api/movements?before=2500000", "api"),
    ("/api/stations", "api"),
    ("/api/alerts", "api"),
    ("/reports/reorder", "page"),
    ("/reports/dead-stock", "page"),
    ("/reports/surplus", "page"),
    ("/api/reports/reorder", "api"),
    ("/api/reports/dead-stock", "api"),
    ("/api/reports/surplus", "api"),
    ("/api/reports/abc", "api"),
]


def _version() -> str:
    """Of the schema and the filler: a stored database made by others is not reused."""
    text = store.SCHEMA + "".join(sql for _label, sql in STEPS)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def big_db(dir: Path, size: Size) -> Path:
    """A filled data dir: kept under var/bench/ for full runs, made fresh for quick ones."""
    if size.products < 100_000:
        data = dir / "data"
    else:
        data = ROOT / "var" / "bench" / f"hub-{size.products}-{size.movements}-{_version()}"
    done = data / "filled"
    if not done.exists():
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        started = time.monotonic()
        fill(data / "ledger.db", size, say=lambda line: print(f"   {line}", flush=True))
        conn = store.connect(data / "ledger.db")
        ensure_user(conn, USER, PASSWORD, "viewer")
        conn.close()
        done.write_text(f"{time.monotonic() - started:.0f} s\n")
        print(f"   filled {data} in {done.read_text().strip()}", flush=True)
    return data


def timings_ms(client: Client, path: str, headers: dict, count: int) -> list[float]:
    samples = []
    for i in range(count + 2):  # two to warm the connection and the page cache
        start = time.perf_counter()
        status, _ = client.request("GET", path, headers=headers)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}")
        if i >= 2:
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def run(dir: Path, quick: bool) -> list[Figure]:
    size, count = (Size(1_000, 20_000, 2_000), 10) if quick else (Size(), 50)
    dir.mkdir(parents=True)
    data = big_db(dir, size)
    broker = Broker(dir / "broker", station_ids(0))
    hub = HubProcess(dir / "hub", broker, data_dir=data)
    figures = []
    page, api = Client(hub.web_port), Client(hub.web_port)
    try:
        page.login(USER, PASSWORD)
        for path, kind in ENDPOINTS:
            client, headers = (page, {}) if kind == "page" else (
                api, {"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
            samples = timings_ms(client, path, headers, count)
            p95 = percentile(samples, 95)
            figures.append(Figure(f"5. GET {path} p50", percentile(samples, 50), "ms"))
            figures.append(Figure(f"5. GET {path} p95", p95, "ms", None, "p95 < 100 ms",
                                  p95 < 100))  # fmt: skip
        rss = hub.peak_rss_mb()
    finally:
        page.close()
        api.close()
        hub.stop()
        broker.stop()
    # 73-77 MB on 2026-11-28: no higher than that, give or take the allocator's spread.
    figures.append(Figure(f"6. hub peak RSS, pages on {size.movements:,} movements", rss, "MB",
                          None, "<= 80 MB", rss <= 80))  # fmt: skip
    return figures
