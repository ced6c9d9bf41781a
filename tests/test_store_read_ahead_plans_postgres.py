"""On PostgreSQL too, an ingest batch's reads of the alerts its keys name seek each key
through `alerts_dedupe`, never read every open alert: a site keeps thousands open (a
pick-error spike's, an unknown SKU's, the low-stock ones), and a batch would read them all
(bench 7's lone worker spent a quarter of its time there). As tests/page_reads.py's page
reads are checked: the plans of the statements as they ran, custom and generic, on a
ledger whose statistics know the open alerts (ANALYZE)."""

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


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("alerts") / "ledger.db"
    open_ledger(path).close()
    url = postgres.ledger_target(path)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO alerts (id, kind, severity, message, station, ts, dedupe, cleared) "
            "SELECT g, 'pick_errors', 'warning', 'pick errors', 'st-' || g, '2026-12-07', "
            "'pick_errors:st-' || g, CASE WHEN g %% 2 = 0 THEN '2026-12-07' END "
            "FROM generate_series(1, %s) g",
            (2 * OPEN,),
        )
        conn.execute("VACUUM ANALYZE alerts")
    return url


@pytest.mark.parametrize("mode", ("force_custom_plan", "force_generic_plan"))
@pytest.mark.parametrize("name", READS)
def test_a_batch_read_of_alert_keys_seeks_each_key(ledger, name, mode):
    found = postgres_plans(ledger, in_a_writing_transaction(READS[name]), mode)
    scans = [node for statement in found for node in nodes(statement["Plan"])
             if node.get("Relation Name") == "alerts"]  # fmt: skip
    assert scans, found
    assert all(node.get("Index Name") == "alerts_dedupe" and "dedupe" in node["Index Cond"]
               for node in scans), scans  # fmt: skip
