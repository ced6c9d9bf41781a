"""On PostgreSQL too, the reads behind the pages and the list endpoints never scan a big
table whole: on a ledger filled as a big site's (scripts/lib/big_ledger.py, moved over by
`migrate-db`, with the history a site keeps: decided counts, done count tasks, closed
purchase orders, cleared alerts), analyzed as autovacuum leaves it, no statement a read
runs is planned as a Seq Scan of a table of thousands of rows. Twice: vacuumed, every page
marked visible to all (an index then may be read without its table: Index Only Scan), and
as a busy site's tables are, their pages written since VACUUM last ran not so marked (the
planner counts those from `pg_class.relallvisible`; here none, the bound), where an index
of a state's rows costs a read of the table per row and walking the table in the page's
order testing each row may look cheaper.

Each read runs as the hub runs it (hub/store/postgres.py's connection: server-side binding,
statements prepared after their second run), once with plans made for the values given
(custom) and once with plans made without them (generic, which PostgreSQL may switch a
prepared statement to after its fifth run): `plan_cache_mode` forces each. The plans are
EXPLAIN's, of the statements as they ran, sent back by the server's `auto_explain` (as
notices) so the test neither repeats nor rebuilds any SQL. The reads are
tests/page_reads.py's, which tests/test_store_page_plans.py checks on SQLite."""

import json
import os

import psycopg
import pytest

from hub import migrate_db
from scripts.lib import big_ledger
from tests import postgres
from tests.page_reads import READS, nodes, postgres_plans

pytestmark = [
    pytest.mark.hub,
    pytest.mark.slow,
    pytest.mark.skipif(not postgres.enabled(), reason="PostgreSQL's plans (HUB_TEST_DB)"),
]

# A fiftieth of the default big site: tables of 10,000-130,000 rows, enough that a scan of
# one costs the planner more than an index does (and a fill of seconds).
SIZE = big_ledger.Size(products=10_000, movements=100_000, scans=30_000)
# A table of this many rows is big: scanning it whole for a page is the fault looked for.
BIG = 5_000
# What a site accumulates beside the filler's open items (each table then has BIG or more
# rows, most of them not in the state a page lists): counts decided one way or another,
# count tasks done, purchase orders closed, alerts of the hub's other kinds cleared.
HISTORY = [
    "INSERT INTO counts (event_id, station, sku, location, lot, book, counted, variance, "
    "status, ts, decided_by, decided) SELECT event_id, station, sku, location, lot, book, "
    "counted, variance, (ARRAY['posted', 'approved', 'rejected', 'superseded'])[g % 4 + 1], "
    "ts, 'sup', ts FROM counts, generate_series(1, 50) g",
    "INSERT INTO count_tasks (task, station, location, sku, status, created, done) "
    "SELECT task || '-' || g, station, location, sku, 'done', created, created "
    "FROM count_tasks, generate_series(1, 100) g",
    "INSERT INTO purchase_orders (po, supplier, status, ordered, expected, first_receipt, "
    "completed, dropship, updated) SELECT po || '-' || g, supplier, 'closed', ordered, "
    "expected, ordered, ordered, dropship, updated FROM purchase_orders, "
    "generate_series(1, 100) g",
    "INSERT INTO alerts (kind, severity, message, sku, station, ts, cleared) "
    "SELECT (ARRAY['pick_errors', 'unknown_sku', 'station_offline', 'count_variance', "
    "'expiring_lot', 'not_on_po', kind])[g % 7 + 1], severity, message, sku, station, ts, ts "
    "FROM alerts, generate_series(1, 10) g",
]
MODES = ("force_custom_plan", "force_generic_plan")
# The largest page a list gives (the API's `limit` goes up to 1,000).
PAGE = 1_000


@pytest.fixture(scope="module")
def filled_site(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("big-site")
    big_ledger.fill(folder / "ledger.db", SIZE, say=lambda _line: None)
    url = postgres.ledger_target(folder / "ledger-pg")
    outcome = migrate_db.migrate(folder / "ledger.db", url)
    assert outcome.ok, outcome
    with psycopg.connect(url, autocommit=True) as conn:
        for sql in HISTORY:
            conn.execute(sql)
        conn.execute("VACUUM ANALYZE")
    return url


@pytest.fixture(scope="module", params=("vacuumed", "busy"))
def big_site(request, filled_site) -> str:
    if request.param == "vacuumed":
        return filled_site
    source = filled_site.partition("?")[0].rpartition("/")[2]
    url = postgres.new_database(os.environ[postgres.ADMIN_URL], f"{source}_busy", source)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE pg_class SET relallvisible = 0 "
                     "WHERE relnamespace = 'public'::regnamespace")  # fmt: skip
    return url


@pytest.fixture(scope="module")
def big(big_site) -> set[str]:
    """The tables of BIG rows or more."""
    with psycopg.connect(big_site) as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= %s "
            "AND relnamespace = 'public'::regnamespace",
            (BIG,),
        )
        return {name for (name,) in rows}


def whole_scans(found: list[dict], big: set[str]) -> list[str]:
    """The steps that read a big table whole: a Seq Scan; or, planned without the values,
    an index walked from end to end while a filter on a value drops rows (no Index Cond):
    what `? IS NULL OR status = ?` is planned as, and which a LIMIT stops only once enough
    rows passed, after the whole table when the value is rare."""
    return [f"{node['Node Type']} on {node['Relation Name']}: {statement['Query Text']}"
            for statement in found for node in nodes(statement["Plan"])
            if node.get("Relation Name") in big and (
                node["Node Type"] == "Seq Scan"
                or node["Node Type"] in ("Index Scan", "Index Only Scan")
                and "Index Cond" not in node and "$" in node.get("Filter", ""))]  # fmt: skip


def oversized(found: list[dict]) -> list[str]:
    """The steps planned for more rows than any page: what `LIMIT ?` is planned as without
    its value (a tenth of the rows below it), which makes the whole plan one for thousands
    of rows (a hash join over a table, parallel workers started for a page of 100)."""
    return [f"{node['Node Type']} of {node['Plan Rows']} rows: {statement['Query Text']}"
            for statement in found for node in nodes(statement["Plan"])
            if node["Node Type"] in ("Limit", "Gather", "Gather Merge")
            and node["Plan Rows"] > PAGE]  # fmt: skip


def test_the_filled_ledger_is_big_where_the_pages_read(big):
    """Else a Seq Scan of a small table would pass for a good plan."""
    assert {"products", "balances", "movements", "events", "orders", "order_lines",
            "purchase_orders", "counts", "count_tasks", "alerts", "cost_layers",
            "sku_activity", "reorder_plans", "abc_classes"} <= big  # fmt: skip


def test_a_forced_generic_plan_is_made_without_the_values(big_site):
    """The check below is only as good as `plan_cache_mode`'s hold on how the hub's
    statements are planned: a generic plan shows the parameters, a custom one the values."""
    read = READS["a product's movements"]
    generic = json.dumps([p["Plan"] for p in postgres_plans(big_site, read, "force_generic_plan")])
    custom = json.dumps([p["Plan"] for p in postgres_plans(big_site, read, "force_custom_plan")])
    assert "$1" in generic and "SKU-000424" not in generic
    assert "SKU-000424" in custom and "$1" not in custom


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", READS)
def test_a_page_read_scans_no_big_table(big_site, big, name, mode):
    found = postgres_plans(big_site, READS[name], mode)
    assert found, "the read ran no query"
    assert whole_scans(found, big) == []


@pytest.mark.parametrize("name", READS)
def test_a_page_read_is_planned_for_a_page(big_site, name):
    """Also planned without the values: a page's size is written out (store.conditions.page),
    not bound (`LIMIT ?`)."""
    assert oversized(postgres_plans(big_site, READS[name], "force_generic_plan")) == []
