"""The reads behind the pages and the list endpoints never scan a whole table: each
seeks an index or walks one in order and stops at the page size (SQLite's own query
plans, so no timing is asserted). A big site has 100,000 products and millions of rows.
The reads are tests/page_reads.py's, which tests/test_store_page_plans_postgres.py runs on
PostgreSQL."""

import re

import pytest

from tests.domain_helpers import open_ledger
from tests.page_reads import READS, sqlite_plans

pytestmark = pytest.mark.sqlite_only

# "SCAN x" with no index is a whole table, unless x is the query's own small result set: a
# subquery's, which the plan names first as "CO-ROUTINE x" or "MATERIALIZE x", or the
# stock search's `WITH hits` read as `h`.
SCAN = re.compile(r"^SCAN (?!h$)(\w+)$")
SUBQUERY = re.compile(r"^(?:CO-ROUTINE|MATERIALIZE) (\w+)$")


@pytest.mark.parametrize("name", READS)
def test_a_page_read_scans_no_whole_table(tmp_path, name):
    conn = open_ledger(tmp_path / "ledger.db")
    found = sqlite_plans(conn, READS[name])
    assert found, "the read ran no query"
    subqueries = {m[1] for m in map(SUBQUERY.match, found) if m}
    scans = [m[1] for m in map(SCAN.match, found) if m]
    assert [table for table in scans if table not in subqueries] == [], found
