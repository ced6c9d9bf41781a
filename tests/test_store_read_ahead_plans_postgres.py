"""On PostgreSQL too, an ingest batch's reads of the alerts its keys name seek each key
through `alerts_dedupe`, never read every open alert: a site keeps thousands open (a
pick-error spike's, an unknown SKU's, the low-stock ones), and a batch would read them all
(bench 7's lone worker spent a quarter of its time there). Nor, on a site with few, does
the read compare every open alert with every key of a big batch (a seventh of the
server's time for bench 7's batches). As tests/page_reads.py's page reads are checked:
the plans of the statements as they ran, custom and generic, on ledgers whose statistics
know the open alerts (ANALYZE)."""

import psycopg
import pytest

from hub import store
from tests import postgres
from tests.domain_helpers import open_ledger
from tests.page_reads import in_a_writing_transaction, nodes, postgres_plans

pytestmark = [
    pytest.mark.hub,
    pytest.mark.skipif(not postgres.enabled(), reason="PostgreSQL's plans (HUB_TEST_DB)"),
]

OPEN = 5_000  # open alerts, each of its own key; as many cleared
READS = {
    "alerts read ahead": lambda c: store.alerts_read_ahead(c, ["low_stock:MUG", "low_stock:TEA"]),
    "open alerts of keys": lambda c: store.alerts_open_of(c, ["pick_errors:st-1"]),
}


def ledger_with_alerts(folder, open_alerts: int) -> str:
    """A ledger with `open_alerts` open alerts, each of its own key, and as many cleared."""
    path = folder / "ledger.db"
    open_ledger(path).close()
    url = postgres.ledger_target(path)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO alerts (id, kind, severity, message, station, ts, dedupe, cleared) "
            "SELECT g, 'pick_errors', 'warning', 'pick errors', 'st-' || g, '2026-12-07', "
            "'pick_errors:st-' || g, CASE WHEN g %% 2 = 0 THEN '2026-12-07' END "
            "FROM generate_series(1, %s) g",
            (2 * open_alerts,),
        )
        conn.execute("VACUUM ANALYZE alerts")
    return url


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> str:
    return ledger_with_alerts(tmp_path_factory.mktemp("alerts"), OPEN)


@pytest.fixture(scope="module")
def few_alerts(tmp_path_factory) -> str:
    return ledger_with_alerts(tmp_path_factory.mktemp("few-alerts"), 300)


@pytest.mark.parametrize("mode", ("force_custom_plan", "force_generic_plan"))
@pytest.mark.parametrize("name", READS)
def test_a_batch_read_of_alert_keys_seeks_each_key(ledger, name, mode):
    found = postgres_plans(ledger, in_a_writing_transaction(READS[name]), mode)
    scans = [node for statement in found for node in nodes(statement["Plan"])
             if node.get("Relation Name") == "alerts"]  # fmt: skip
    assert scans, found
    assert all(node.get("Index Name") == "alerts_dedupe" and "dedupe" in node["Index Cond"]
               for node in scans), scans  # fmt: skip


@pytest.mark.parametrize("mode", ("force_custom_plan", "force_generic_plan"))
def test_a_big_batchs_keys_are_not_each_compared_with_every_open_alert(few_alerts, mode):
    keys = [f"low_stock:SKU-{n:04d}" for n in range(900)] + ["pick_errors:st-1"]
    read = in_a_writing_transaction(lambda conn: store.alerts_read_ahead(conn, keys))
    found = postgres_plans(few_alerts, read, mode)
    scans = [node for statement in found for node in nodes(statement["Plan"])
             if node.get("Relation Name") == "alerts"]  # fmt: skip
    assert scans, found
    assert not any("ANY" in node.get("Filter", "") for node in scans), scans
