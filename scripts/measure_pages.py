"""Measures every page and API call of the hub's web app against a (big) database: the
real app under waitress on a loopback port, real HTTP with a logged-in session (pages) or a
Bearer token (API). Prints p50/p95/max per route as a table (and JSON with --json).

The database is a SQLite file or a PostgreSQL URL (a ledger moved there by `python -m hub
migrate-db`); on PostgreSQL the app reads through its pool of connections, as the hub's web
does, and the session key is kept in a temporary folder.

Usage: scripts/measure-pages var/big/ledger.db [--requests 40] [--only 'report kpis' ...]
       scripts/measure-pages 'postgresql://user@/warehouse?host=/path/to/socket'
"""

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts" / "lib")]

from waitress.server import create_server  # noqa: E402
from web_client import Client, ensure_user  # noqa: E402

from hub import store  # noqa: E402
from hub.web import close_app, create_app  # noqa: E402
from protocol.topics import Topics  # noqa: E402

TOKEN = "measure-pages-token"
USER, PASSWORD = "measure-pages", "measure-pages-password"


class Samples:
    """Real ids from the database, picked at random for each request."""

    def __init__(self, conn) -> None:
        self.rng = random.Random(7)
        # SQL of both backends (no rowid on PostgreSQL): the n-th key, n at random.
        count = lambda table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] or 1  # noqa: E731
        pick = lambda sql, n: [r[0] for r in conn.execute(sql, (self.rng.randrange(n),))]  # noqa: E731
        n_products, n_orders = count("products"), count("orders")
        self.skus = [pick("SELECT sku FROM products ORDER BY sku LIMIT 1 OFFSET ?", n_products)
                     for _ in range(50)]  # fmt: skip
        self.skus = [s[0] for s in self.skus if s] or ["NONE"]
        self.orders = [pick("SELECT order_id FROM orders ORDER BY order_id LIMIT 1 OFFSET ?",
                            n_orders) for _ in range(50)]  # fmt: skip
        self.orders = [o[0] for o in self.orders if o] or ["NONE"]
        self.locations = [r[0] for r in conn.execute(
            "SELECT DISTINCT location FROM balances LIMIT 50")] or ["A-01"]  # fmt: skip
        self.stations = [r[0] for r in conn.execute("SELECT station FROM stations")] or ["none"]

    def __getattr__(self, name: str) -> str:
        source = {"sku": self.skus, "order": self.orders, "location": self.locations,
                  "station": self.stations}[name]  # fmt: skip
        return self.rng.choice(source)

    def gtin(self) -> str:
        return "4" + self.sku[4:].rjust(12, "0") if self.sku.startswith("SKU-") else "0"


def routes(s: Samples) -> list[tuple[str, str, callable]]:
    """(label, kind, path maker); kind 'page' uses the session, 'api' the token."""
    q = urllib.parse.quote
    return [
        ("overview", "page", lambda: "/"),
        ("overview.json", "page", lambda: "/overview.json"),
        ("stock (first page)", "page", lambda: "/stock"),
        ("stock (page 1000)", "page", lambda: "/stock?after=SKU-050000"),
        ("stock low", "page", lambda: "/stock?filter=low"),
        ("stock search sku", "page", lambda: f"/stock?q={q(s.sku[:8])}"),
        ("stock search name", "page", lambda: f"/stock?q={q('Product ' + s.sku[-5:])}"),
        ("stock search gtin", "page", lambda: f"/stock?q={s.gtin()}"),
        ("stock search location", "page", lambda: f"/stock?q={q(s.location)}"),
        ("stock below zero", "page", lambda: "/stock?filter=negative"),
        ("stock csv", "page", lambda: f"/stock.csv?q={q(s.sku[:9])}"),
        ("location", "page", lambda: f"/locations/{q(s.location)}"),
        ("product", "page", lambda: f"/products/{q(s.sku)}"),
        ("orders", "page", lambda: "/orders"),
        ("orders open", "page", lambda: "/orders?status=open"),
        ("order + scan log", "page", lambda: f"/orders/{q(s.order)}"),
        ("order scan log csv", "page", lambda: f"/orders/{q(s.order)}/scan-log.csv"),
        ("purchase orders", "page", lambda: "/purchase-orders"),
        ("counts", "page", lambda: "/counts"),
        ("reports", "page", lambda: "/reports"),
        *[(f"report {name}", "page", lambda name=name: f"/reports/{name}") for name in
          ("stock", "valuation", "reorder", "abc", "dead-stock", "surplus", "kpis", "margins",
           "alerts")],
        ("report reorder csv", "page", lambda: "/reports/reorder.csv?limit=100"),
        ("stations", "page", lambda: "/stations"),
        ("station", "page", lambda: f"/stations/{q(s.station)}"),
        ("alerts + dead letters", "page", lambda: "/alerts"),
        ("api overview", "api", lambda: "/api/overview"),
        ("api stock search", "api", lambda: f"/api/stock/search?q={q(s.sku[:8])}"),
        ("api location stock", "api", lambda: f"/api/locations/{q(s.location)}/stock"),
        ("api product history", "api", lambda: f"/api/products/{q(s.sku)}/history"),
        ("api order scan log", "api", lambda: f"/api/orders/{q(s.order)}/scan-log"),
        ("api stations", "api", lambda: "/api/stations"),
        ("api stock", "api", lambda: "/api/stock?limit=100"),
        ("api stock page 500", "api", lambda: "/api/stock?limit=100&after=SKU-050000"),
        ("api stock one sku", "api", lambda: f"/api/stock?sku={q(s.sku)}"),
        ("api movements", "api", lambda: "/api/movements?limit=100"),
        ("api products", "api", lambda: "/api/products"),
        ("api product", "api", lambda: f"/api/products/{q(s.sku)}"),
        ("api product layers", "api", lambda: f"/api/products/{q(s.sku)}/layers"),
        ("api stock low", "api", lambda: "/api/stock/search?low=1"),
        ("api counts due", "api", lambda: "/api/counts/due"),
        ("api purchase orders", "api", lambda: "/api/purchase-orders"),
        ("api counts pending", "api", lambda: "/api/counts?status=pending"),
        ("api count tasks", "api", lambda: "/api/count-tasks?status=open"),
        ("api orders", "api", lambda: "/api/orders"),
        ("api report valuation", "api", lambda: "/api/reports/valuation"),
        ("api alerts", "api", lambda: "/api/alerts"),
        ("api dead letters", "api", lambda: "/api/dead-letters"),
        ("api me", "api", lambda: "/api/me"),
        ("api openapi", "api", lambda: "/api/openapi.json"),
    ]


def measure(db: str, n: int, only: list[str] | None = None) -> list[dict]:
    conn = store.connect(db)
    store.create_schema(conn)  # indexes a newer hub adds to an older database
    ensure_user(conn, USER, PASSWORD)
    conn.close()
    with tempfile.TemporaryDirectory(prefix="measure-pages-") as data_dir:
        return _measure(db, n, data_dir, only)


def _measure(db: str, n: int, data_dir: str, only: list[str] | None) -> list[dict]:
    app = create_app(db, Topics("measure"), [TOKEN], data_dir=data_dir)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        page, api = Client(server.effective_port), Client(server.effective_port)
        page.login(USER, PASSWORD)
        conn = store.connect(db)
        samples = Samples(conn)
        conn.close()
        results = []
        for label, kind, make in routes(samples):
            if only and label not in only:
                continue
            client = page if kind == "page" else api
            headers = {} if kind == "page" else {"Authorization": f"Bearer {TOKEN}"}
            times, statuses = [], set()
            for i in range(n + 2):
                path = make()
                started = time.perf_counter()
                status, _ = client.request("GET", path, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                statuses.add(status)
                if i >= 2:  # the first two warm the caches
                    times.append(elapsed)
            times.sort()
            results.append({"route": label, "status": sorted(statuses),
                            "p50_ms": statistics.median(times),
                            "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))],
                            "max_ms": times[-1]})  # fmt: skip
        page.close()
        api.close()
        return results
    finally:
        server.close()
        close_app(app)  # its PostgreSQL pool


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("db", help="a SQLite file, or a postgresql:// URL")
    parser.add_argument("--requests", type=int, default=40, help="per route")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--only", action="append", metavar="ROUTE",
                        help="measure only this route (its label, e.g. 'report kpis'); repeatable")
    args = parser.parse_args()
    if not store.is_postgres_url(args.db) and not Path(args.db).exists():
        print(f"no database at {args.db} (scripts/fill-big-db makes one)", file=sys.stderr)
        return 2
    unknown = set(args.only or ()) - {label for label, _kind, _make in routes(None)}
    if unknown:
        print(f"no route {', '.join(sorted(unknown))} (see routes() for the labels)",
              file=sys.stderr)
        return 2
    results = measure(args.db, args.requests, args.only)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'route':<26} {'status':<10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for r in results:
        status = ",".join(map(str, r["status"]))
        print(f"{r['route']:<26} {status:<10} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
              f"{r['max_ms']:>8.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
