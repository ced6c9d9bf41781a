"""A ledger made by an older hub is brought up to date when a newer hub opens it, keeping
every row; a new ledger starts at the latest version."""

import sqlite3

from hub import store


def open_new(path) -> sqlite3.Connection:
    conn = store.connect(path)
    store.create_schema(conn)
    return conn


def test_a_new_ledger_is_made_at_the_latest_version(tmp_path):
    conn = open_new(tmp_path / "ledger.db")
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    store.create_schema(conn)  # every start: nothing to do, nothing fails
    assert store.schema_version(conn) == store.SCHEMA_VERSION


def test_a_ledger_from_before_the_pick_locations_gets_them_and_keeps_its_rows(tmp_path):
    path = tmp_path / "ledger.db"
    old = open_new(path)
    # The ledger as the first release left it: no pick_location, user_version 0.
    old.executescript(
        "ALTER TABLE sku_activity DROP COLUMN pick_location; PRAGMA user_version = 0;"
        "DROP INDEX dead_letters_source; DROP INDEX dead_letters_digest;"
        "ALTER TABLE dead_letters DROP COLUMN source; ALTER TABLE dead_letters DROP COLUMN size;"
        "ALTER TABLE dead_letters DROP COLUMN digest;"
        "ALTER TABLE dead_letters DROP COLUMN repeats;"
        "INSERT INTO sku_activity (sku, last_out, low) VALUES ('MUG', '2026-11-01', 1);"
    )
    old.close()

    conn = open_new(path)
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    assert conn.execute("SELECT sku, last_out, low, pick_location FROM sku_activity").fetchall() \
        == [("MUG", "2026-11-01", 1, None)]
    with store.transaction(conn):
        store.activity_set(conn, "MUG", True, "A-1")
    assert store.activity_flags(conn, ["MUG", "TEA"]) == {"MUG": (True, "A-1")}


def test_dead_letters_from_before_their_caps_are_kept_and_counted_from_then_on(tmp_path):
    path = tmp_path / "ledger.db"
    old = open_new(path)
    # The dead letters as version 1 left them: no source, size, digest or repeats.
    old.executescript(
        "DROP INDEX dead_letters_source; DROP INDEX dead_letters_digest;"
        "ALTER TABLE dead_letters DROP COLUMN source; ALTER TABLE dead_letters DROP COLUMN size;"
        "ALTER TABLE dead_letters DROP COLUMN digest;"
        "ALTER TABLE dead_letters DROP COLUMN repeats; PRAGMA user_version = 1;"
        "INSERT INTO dead_letters (topic, payload, reason, received) "
        "VALUES ('wh/v1/main/station/a/events', x'7b7d', 'old', '2026-11-01');"
    )
    old.close()

    conn = open_new(path)
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    [row] = store.dead_letters(conn)
    assert (row["reason"], row["payload"], row["repeats"]) == ("old", "{}", 1)
    with store.transaction(conn):
        store.dead_letter(conn, "wh/v1/main/station/a/events", b"{}", "new", "2026-11-02", "a")
    assert len(store.dead_letters(conn)) == 2


def test_a_central_ledger_from_before_the_site_movements_time_gets_the_column(tmp_path):
    path = tmp_path / "ledger.db"
    old = open_new(path)
    # As the first multi-site commits left a central ledger: site_movements without `ts`
    # (nor its index), at version 5, with a movement of a site.
    old.executescript(
        "DROP INDEX site_movements_ts; ALTER TABLE site_movements DROP COLUMN ts;"
        "ALTER TABLE site_committed DROP COLUMN quarantined;"
        "INSERT INTO site_committed (site, sku, committed, ledger_seq) VALUES ('s1', 'MUG', 2, 1);"
        "PRAGMA user_version = 5;"
        "INSERT INTO site_movements (site, ledger_seq, type, sku, location, delta, value, "
        "payload, applied) VALUES ('s1', 1, 'receipt', 'MUG', 'A-01', 3, 6000000, '{}', 'now');"
    )
    old.close()

    conn = open_new(path)
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    assert conn.execute("SELECT site, ledger_seq, delta, ts FROM site_movements").fetchall() \
        == [("s1", 1, 3, "")]
    assert store.site_not_available(conn) == [("s1", "MUG", 2, 0)]
    index = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'site_movements_ts'")
    assert index.fetchone() is not None
    conn.close()


def test_a_ledger_at_version_5_that_has_the_site_movements_time_is_left_as_it_is(tmp_path):
    path = tmp_path / "ledger.db"
    old = open_new(path)
    old.execute("PRAGMA user_version = 5")
    old.close()
    conn = open_new(path)  # the column is there already: adding it again would fail
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    names = [row[1] for row in conn.execute("PRAGMA table_info(site_movements)")]
    assert names.count("ts") == 1


def test_a_ledger_from_before_settled_transfers_gets_the_column_unsettled(tmp_path):
    path = tmp_path / "ledger.db"
    old = open_new(path)
    # As a hub of version 7 left it: transfers without `settled` (nor its index), one of them.
    old.executescript(
        "DROP INDEX transfers_unsettled; DROP TABLE transfers;"
        "CREATE TABLE transfers (transfer TEXT PRIMARY KEY, from_site TEXT NOT NULL, "
        "to_site TEXT NOT NULL, status TEXT NOT NULL, created TEXT NOT NULL, shipped TEXT, "
        "received TEXT, booked_out INTEGER NOT NULL DEFAULT 0, payload TEXT NOT NULL);"
        "INSERT INTO transfers (transfer, from_site, to_site, status, created, payload) "
        "VALUES ('T-000001', 's1', 's2', 'received', 'then', '{}');"
        "PRAGMA user_version = 7;"
    )
    old.close()
    conn = open_new(path)
    assert store.schema_version(conn) == store.SCHEMA_VERSION
    assert conn.execute("SELECT transfer, settled FROM transfers").fetchall() == [
        ("T-000001", 0)]  # fmt: skip
    assert [row.transfer for row in store.transfers_unsettled(conn, 10)] == ["T-000001"]
    conn.close()
