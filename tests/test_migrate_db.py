"""`python -m hub migrate-db` moves a site's SQLite ledger to PostgreSQL: afterwards
`hub check` passes on both, and balances, cost layers and open orders are equal."""

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from hub import orders, store, users
from protocol.events import Adjustment, Count, Move, Receipt, Scan, Shipment, ShipmentLine
from protocol.messages import Order, OrderLine
from protocol.returns import Return, ReturnLine
from tests import postgres
from tests.domain_helpers import TOPICS, Feed, products, reverse
from tests.harness import ROOT

pytestmark = pytest.mark.hub


@pytest.fixture(scope="module")
def cluster(postgres_cluster, tmp_path_factory):
    """The run's cluster on the PostgreSQL pass; on the SQLite pass one of its own (this
    test needs both backends whichever pass it runs in)."""
    if postgres_cluster is not None:
        yield postgres_cluster
        return
    try:
        postgres.pg_bin("initdb")
    except RuntimeError as exc:
        pytest.skip(str(exc))
    own = postgres.Cluster.new().start()
    yield own
    own.stop()


def make_traffic(path: Path) -> None:
    """A site's day through the real ingest, on a SQLite file: receipts with costs and
    lots, orders, a shipment, a move, a count, a return, a reversal, a dead letter, users."""
    conn = store.connect(path)
    store.create_schema(conn)
    products(conn, {"sku": "MUG", "name": "Mug", "unit_cost": "9"},
             {"sku": "TEA", "name": "Tea", "unit_cost": "0.333333"})  # fmt: skip
    dock, pack = Feed(conn, station="dock"), Feed(conn, station="pack")
    dock(Receipt(sku="MUG", qty=10, location="A-1", unit_cost=Decimal("2.50")),
         Receipt(sku="TEA", qty=7, location="B-1", lot="L1", expiry="2027-01-01",
                 unit_cost=Decimal("0.123457")),
         Receipt(sku="MUG", qty=5, location="A-1", unit_cost=Decimal("3.10")))  # fmt: skip
    orders.upsert_order(conn, TOPICS, Order(order="SO-1", customer="Acme", lines=[
        OrderLine(sku="MUG", qty=3, unit_price=Decimal("7.99"))]))  # fmt: skip
    orders.upsert_order(conn, TOPICS, Order(order="SO-2", customer="Bolt", lines=[
        OrderLine(sku="MUG", qty=2), OrderLine(sku="TEA", qty=4)]))  # fmt: skip
    pack(Scan(code="MUG", verdict="ok", mode="pack", order="SO-1", sku="MUG"),
         Shipment(order="SO-1", lines=[ShipmentLine(sku="MUG", qty=3, location="A-1")]))
    dock(Move(sku="MUG", qty=2, from_="A-1", to="A-2"),
         Adjustment(sku="TEA", qty=-1, location="B-1", lot="L1", reason="damaged"),
         Count(sku="MUG", counted=9, location="A-1"),
         Return(order="SO-1", operator="rita",
                lines=[ReturnLine(sku="MUG", qty=1, condition="resellable", reason="not_wanted",
                                  location="A-2")]))  # fmt: skip
    moved = conn.execute("SELECT id FROM movements WHERE type = 'adjustment'").fetchone()[0]
    reverse(conn, moved)
    with store.transaction(conn):
        store.dead_letter(conn, "wh/v1/s1/station/x/events", b"\x00not json", "bad", "now", "x")
    users.add(conn, "ada", "admin", "a-long-password")
    conn.close()


def config(folder: Path, url: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hub.toml"
    database = f'[database]\nurl = "{url}"\n' if url else ""
    path.write_text(f'[hub]\nsite = "s1"\ndata_dir = "{folder}"\n{database}')
    return path


def hub(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, check=False)  # fmt: skip


def test_a_ledger_moves_to_postgresql_whole_and_both_check_ok(tmp_path, cluster):
    site = tmp_path / "site"
    site.mkdir()
    make_traffic(site / "ledger.db")
    url = cluster.database("t_migrated")
    moved = hub("migrate-db", "--from", str(site / "ledger.db"), "--to", url)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    outcome = json.loads(moved.stdout)
    assert outcome["ok"] and outcome["differences"] == []
    assert outcome["tables"]["movements"] >= 10 and outcome["tables"]["cost_layers"] > 2

    for folder, target in ((site, None), (tmp_path / "pg", url)):
        checked = hub("check", "--config", str(config(folder, target)))
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert json.loads(checked.stdout)["ok"]

    file, pg = store.connect(site / "ledger.db"), store.connect(url)
    try:
        for query in ("SELECT sku, location, lot, owner, qty FROM balances",
                      "SELECT * FROM cost_layers", "SELECT * FROM orders",
                      "SELECT * FROM cost_flows", "SELECT * FROM daily_totals",
                      "SELECT * FROM dead_letters", "SELECT * FROM meta"):  # fmt: skip
            assert sorted(file.execute(query).fetchall(), key=repr) == sorted(
                pg.execute(query).fetchall(), key=repr
            )
        # Analyzed: PostgreSQL plans the hub's first batches from the ledger's statistics.
        unanalyzed = pg.execute("SELECT relname FROM pg_stat_user_tables WHERE relname IN "
                                "('movements', 'alerts', 'events', 'balances') "
                                "AND last_analyze IS NULL").fetchall()  # fmt: skip
        assert unanalyzed == []
        # The ledger goes on where the file stopped: the next ids follow the copied ones.
        last = file.execute("SELECT max(id) FROM movements").fetchone()[0]
        feed = Feed(pg, station="dock", epoch="e2")
        feed(Receipt(sku="MUG", qty=1, location="A-1", unit_cost=Decimal("2")))
        assert pg.execute("SELECT max(id) FROM movements").fetchone()[0] == last + 1
    finally:
        file.close()
        pg.close()


def test_a_database_that_holds_a_ledger_already_is_refused_untouched(tmp_path, cluster):
    make_traffic(tmp_path / "ledger.db")
    url = cluster.database("t_in_use")
    conn = store.connect(url)
    Feed(conn)(Receipt(sku="X", qty=1, location="A-1"))
    conn.close()
    refused = hub("migrate-db", "--from", str(tmp_path / "ledger.db"), "--to", url)
    assert refused.returncode == 2
    assert "already holds rows" in refused.stderr
    conn = store.connect(url)
    assert conn.execute("SELECT count(*) FROM movements").fetchone()[0] == 1
    conn.close()


def test_a_missing_file_or_a_wrong_url_is_named(tmp_path, cluster):
    missing = hub("migrate-db", "--from", str(tmp_path / "none.db"), "--to",
                  cluster.url("postgres"))  # fmt: skip
    assert missing.returncode == 2 and "none.db: no ledger file" in missing.stderr
    make_traffic(tmp_path / "ledger.db")
    wrong = hub("migrate-db", "--from", str(tmp_path / "ledger.db"), "--to", "mysql://x/y")
    assert wrong.returncode == 2 and "not a postgresql:// URL" in wrong.stderr
