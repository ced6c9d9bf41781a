"""On PostgreSQL the schema's migrations run as on SQLite: a database made by an older hub
gets each later step once, in order, then what schema.sql adds; one made from the current
schema is left as it is."""

import pytest

from hub import store
from tests import postgres
from tests.postgres import ledger_target

pytestmark = [
    pytest.mark.hub,
    pytest.mark.skipif(not postgres.enabled(), reason="PostgreSQL's migrations (HUB_TEST_DB)"),
]


def columns(conn, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position",
        (table,),
    )
    return [name for (name,) in rows]


def test_an_older_database_gets_the_later_steps_once_and_keeps_its_rows(tmp_path):
    conn = store.connect(ledger_target(tmp_path / "ledger.db"))
    # As a hub of version 3 left it: without the columns of steps 4 and 5, one dead letter.
    conn.execute("ALTER TABLE dead_letters DROP COLUMN digest, DROP COLUMN repeats")
    conn.execute("UPDATE hub_schema SET version = 3, digest = 'older'")
    conn.execute("INSERT INTO dead_letters (topic, payload, reason, received, source, size) "
                 "VALUES ('t', '\\x00'::bytea, 'bad', 'now', 'x', 1)")  # fmt: skip
    store.create_schema(conn)
    assert columns(conn, "dead_letters")[-2:] == ["digest", "repeats"]
    assert conn.execute("SELECT topic, digest, repeats FROM dead_letters").fetchall() == [
        ("t", "", 1)]  # fmt: skip
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    store.create_schema(conn)  # again: nothing left to do, nothing done twice
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    conn.close()


def test_a_database_of_the_current_schema_gets_what_schema_sql_adds(tmp_path):
    conn = store.connect(ledger_target(tmp_path / "ledger.db"))
    conn.execute("DROP INDEX return_lines_event")  # as before schema.sql added it
    conn.execute("UPDATE hub_schema SET digest = 'before the index'")
    store.create_schema(conn)
    found = conn.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'return_lines_event'")
    assert found.fetchone() is not None
    conn.close()


def test_a_central_database_from_before_the_site_movements_time_gets_the_column(tmp_path):
    conn = store.connect(ledger_target(tmp_path / "ledger.db"))
    # As the first multi-site commits left it: site_movements without `ts` (nor its
    # index), at version 5, with a movement of a site.
    conn.execute("DROP INDEX site_movements_ts")
    conn.execute("ALTER TABLE site_movements DROP COLUMN ts")
    conn.execute("ALTER TABLE site_committed DROP COLUMN quarantined")
    conn.execute("UPDATE hub_schema SET version = 5, digest = 'older'")
    conn.execute("INSERT INTO site_movements (site, ledger_seq, type, sku, location, delta, "
                 "value, payload, applied) VALUES ('s1', 1, 'receipt', 'MUG', 'A-01', 3, "
                 "6000000, '{}', 'now')")  # fmt: skip
    store.create_schema(conn)
    assert "ts" in columns(conn, "site_movements")
    assert "quarantined" in columns(conn, "site_committed")
    assert conn.execute("SELECT site, ledger_seq, ts FROM site_movements").fetchall() == [
        ("s1", 1, "")]  # fmt: skip
    found = conn.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'site_movements_ts'")
    assert found.fetchone() is not None
    conn.execute("UPDATE hub_schema SET version = 5, digest = 'older'")
    store.create_schema(conn)  # a version-5 database that has the column: left as it is
    assert columns(conn, "site_movements").count("ts") == 1
    conn.close()


def test_a_database_from_before_settled_transfers_gets_the_column_unsettled(tmp_path):
    conn = store.connect(ledger_target(tmp_path / "ledger.db"))
    # As a hub of version 7 left it: transfers without `settled` (nor its index), one of them.
    conn.execute("DROP INDEX transfers_unsettled")
    conn.execute("ALTER TABLE transfers DROP COLUMN settled")
    conn.execute("UPDATE hub_schema SET version = 7, digest = 'older'")
    conn.execute("INSERT INTO transfers (transfer, from_site, to_site, status, created, "
                 "payload) VALUES ('T-000001', 's1', 's2', 'received', 'then', '{}')")  # fmt: skip
    store.create_schema(conn)
    assert columns(conn, "transfers")[-1] == "settled"
    assert conn.execute("SELECT transfer, settled FROM transfers").fetchall() == [
        ("T-000001", 0)]  # fmt: skip
    assert [row.transfer for row in store.transfers_unsettled(conn, 10)] == ["T-000001"]
    conn.close()


def test_a_database_from_before_the_name_trigrams_gets_them(tmp_path):
    """PostgreSQL's own index of text inside product names (postgres.EXTRAS) comes with
    the schema's digest: a ledger made before it gets the extension and the index at the
    next start."""
    conn = store.connect(ledger_target(tmp_path / "ledger.db"))
    conn.execute("DROP INDEX products_name_trigrams")
    conn.execute("DROP EXTENSION pg_trgm")
    conn.execute("UPDATE hub_schema SET digest = 'before the trigrams'")
    store.create_schema(conn)
    found = conn.execute("SELECT indexdef FROM pg_indexes "
                         "WHERE indexname = 'products_name_trigrams'").fetchone()  # fmt: skip
    assert found is not None and "gin_trgm_ops" in found[0]
    conn.close()
