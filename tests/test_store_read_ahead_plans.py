"""The reads an ingest batch makes once for many keys (its SKUs, orders, alert keys) seek
each key through that key's index, never walk every open alert or open order: on a site
with thousands of them each batch would read them all (SQLite's own query plans, so no
timing is asserted; the hub runs no ANALYZE, so the planner has no statistics)."""

import pytest

from hub import store
from tests.domain_helpers import open_ledger
from tests.page_reads import in_a_writing_transaction, sqlite_plans

pytestmark = pytest.mark.sqlite_only

# Each read, and how its plan must reach its table: by the key it was given.
READS = {
    "alerts read ahead": (lambda c: store.alerts_read_ahead(c, ["low_stock:MUG"]),
                          "SEARCH alerts USING INDEX alerts_dedupe (dedupe=?)"),
    "open alerts of keys": (lambda c: store.alerts_open_of(c, ["pick_errors:st-1"]),
                            "SEARCH alerts USING INDEX alerts_dedupe (dedupe=?)"),
    "open orders of ids": (lambda c: store.orders_open_of(c, ["SO-1"]),
                           "SEARCH orders USING INDEX sqlite_autoindex_orders_1 (order_id=?)"),
    "orders waiting for skus": (lambda c: store.orders_waiting_for(c, ["MUG"]),
                                "SEARCH l USING INDEX order_lines_commit (sku=?)"),
    "last layer costs": (lambda c: store.last_costs_read_ahead(c, ["MUG"]),
                         "SEARCH c USING INDEX cost_layers_last_in (sku=?)"),
}  # fmt: skip


@pytest.mark.parametrize("name", READS)
def test_a_batch_read_seeks_each_key(tmp_path, name):
    read, seek = READS[name]
    found = sqlite_plans(open_ledger(tmp_path / "ledger.db"), in_a_writing_transaction(read))
    searches = [step for step in found if step.startswith("SEARCH")]
    assert searches and searches[0] == seek, found
