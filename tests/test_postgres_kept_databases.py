"""The PostgreSQL pass keeps the databases its tests are done with, emptied, for later tests
(tests/postgres.py: copying the template is most of a second on the CI's file system). A
kept database must be as a fresh copy of the template: no rows, every id starting again;
one whose shape a test changed is dropped, never handed to another test."""

import os

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from hub import store
from tests import postgres

pytestmark = [pytest.mark.hub,
              pytest.mark.skipif(not postgres.enabled(), reason="PostgreSQL's test databases")]  # fmt: skip


def _used(path) -> str:
    """The name of a test database with rows in it and its ids moved on."""
    conn = store.connect(postgres.ledger_target(path))
    with store.transaction(conn):
        for n in range(3):
            conn.execute("INSERT INTO dead_letters (topic, payload, reason, received)"
                         " VALUES (?, ?, ?, ?)", ("t", b"x", f"r{n}", "now"))  # fmt: skip
    conn.close()
    return conninfo_to_dict(postgres.ledger_target(path))["dbname"]


def test_a_database_put_back_is_handed_out_again_empty_with_its_ids_from_the_start(tmp_path):
    name = _used(tmp_path / "first.db")
    kept = len(postgres.kept_databases())
    postgres.put_back({name})
    assert len(postgres.kept_databases()) == kept + 1

    again = store.connect(postgres.ledger_target(tmp_path / "second.db"))
    assert len(postgres.kept_databases()) == kept  # a kept one, not a new copy
    assert again.execute("SELECT count(*) FROM dead_letters").fetchone() == (0,)
    with store.transaction(again):
        again.execute("INSERT INTO dead_letters (topic, payload, reason, received)"
                      " VALUES (?, ?, ?, ?)", ("t", b"x", "r", "now"))  # fmt: skip
    assert again.execute("SELECT id FROM dead_letters").fetchone() == (1,)
    again.close()


def test_one_paths_database_is_put_back_as_often_as_it_is_made():
    """A property test's ":memory:" ledger is one database name, made and put back by each
    test that uses one; a second made while the first waits (the pool hands out any kept
    one) is kept too (two kept under one name failed the suite once)."""
    name = conninfo_to_dict(postgres.ledger_target(":memory:"))["dbname"]
    postgres.put_back({name})
    kept = len(postgres.kept_databases())
    with psycopg.connect(os.environ[postgres.ADMIN_URL], autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {postgres.TEMPLATE}")
    postgres.put_back({name})
    assert len(postgres.kept_databases()) == kept + 1


def test_a_database_whose_shape_a_test_changed_is_dropped_not_kept(tmp_path):
    name = _used(tmp_path / "changed.db")
    conn = store.connect(postgres.ledger_target(tmp_path / "changed.db"))
    with store.transaction(conn):
        conn.execute("ALTER TABLE dead_letters ADD COLUMN extra text")
    conn.close()
    kept_before = postgres.kept_databases()
    postgres.put_back({name})
    assert postgres.kept_databases() == kept_before and name not in postgres.test_databases()
