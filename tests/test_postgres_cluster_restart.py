"""The PostgreSQL pass's `Cluster.restart` stops the server at once, as a crash would: what
was committed before it is there afterwards, as on a hub's durable server, however soon
the restart comes (a batch a hub acked, a test's database handed out just before)."""

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from hub import store
from tests import postgres

pytestmark = [pytest.mark.hub,
              pytest.mark.skipif(not postgres.enabled(), reason="the test cluster's restart")]  # fmt: skip


def _name(url: str) -> str:
    return conninfo_to_dict(url)["dbname"]


def test_a_row_committed_just_before_a_restart_is_there_after_it(tmp_path, postgres_cluster):
    url = postgres.ledger_target(tmp_path / "ledger.db")
    conn = store.connect(url)
    with store.transaction(conn):
        conn.execute("INSERT INTO dead_letters (topic, payload, reason, received)"
                     " VALUES (?, ?, ?, ?)", ("t", b"x", "before the restart", "now"))  # fmt: skip
    conn.close()
    postgres_cluster.restart()
    with psycopg.connect(url) as after:
        assert after.execute("SELECT reason FROM dead_letters").fetchall() == [
            ("before the restart",)
        ]


def test_a_database_handed_out_just_before_a_restart_is_there_after_it(tmp_path,
                                                                       postgres_cluster):  # fmt: skip
    postgres.put_back({_name(postgres.ledger_target(tmp_path / "first.db"))})
    name = _name(postgres.ledger_target(tmp_path / "second.db"))  # the kept one, renamed
    postgres_cluster.restart()
    assert name in postgres.test_databases()
