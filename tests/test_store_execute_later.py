"""A write whose result nobody reads is given to `execute_later`: on PostgreSQL, inside a
`store.writes_held` block, its rows are held and sent with the other rows of the same
statement (a plain INSERT's by COPY, an upsert's as one statement a round of distinct keys,
any other's in one `executemany`) before the next other statement; on SQLite each runs at
once. Either way every statement after it sees it, rows of one key land as if one after
the other, a movement reaches the table after its event, and what a rolled-back
savepoint or transaction held is gone with it."""

import json

import psycopg
import pytest

from hub import store
from tests import postgres
from tests.domain_helpers import open_ledger

pytestmark = pytest.mark.hub

NOW = "2026-12-07T05:00:00+00:00"


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    yield conn
    conn.close()


def event(conn, seq: int) -> int:
    return store.event_insert(conn, "st-1", "e1", seq, "receipt", NOW, NOW, b"{}")


def movement(conn, event_id: int, delta: int = 1) -> None:
    store.movement_add(conn, event_id, "receipt", "MUG", "A-1", "", "", delta, NOW, NOW)


def counts(conn) -> tuple[int, int, int]:
    """(events, movements, balance of MUG at A-1)."""
    return (conn.execute("SELECT count(*) FROM events").fetchone()[0],
            conn.execute("SELECT count(*) FROM movements").fetchone()[0],
            store.on_hand(conn, "MUG"))  # fmt: skip


def test_the_next_statement_sees_what_was_given_later(conn):
    with store.transaction(conn), store.writes_held(conn):
        movement(conn, event(conn, 1), 5)
        assert store.event_content(conn, "st-1", "e1", 1) == ("receipt", NOW, "{}")
        assert counts(conn) == (1, 1, 5)
    assert counts(conn) == (1, 1, 5)


def test_a_movement_reaches_its_table_after_its_event_when_a_read_came_between(conn):
    """The read sends what is held; the next window holds a movement before the event the
    one after it names: statements go in the order first held in the block, events
    first, or the second movement's event would not be there yet."""
    with store.transaction(conn), store.writes_held(conn):
        store.balances_read_ahead(conn, ["MUG"])  # as a batch does: a movement reads none
        first = event(conn, 1)
        assert counts(conn)[0] == 1
        movement(conn, first)
        movement(conn, event(conn, 2))
    assert counts(conn) == (2, 2, 2)
    assert store.check_ledger(conn) == []


def test_text_and_bytes_of_any_kind_arrive_as_given(conn):
    """COPY's text format escapes what it must (tabs, new lines, backslashes; NULL as
    \\N): none of that may show in what is stored."""
    awkward = 'tab\there, line\nbreak, back\\slash \\N, quote \' "'
    payload = b"\x00\t\n\\N\xff"
    with store.transaction(conn), store.writes_held(conn), store.outbox_batched(conn):
        store.event_insert(conn, "st-1", "e1", 1, "scan", NOW, NOW,
                           json.dumps({"note": awkward}).encode())  # fmt: skip
        store.alert_add(conn, "unknown_sku", "warning", awkward, NOW)  # sku, station None
        store.outbox_put(conn, "wh/v1/s/alerts", payload, False)
    _type, _ts, data = store.event_content(conn, "st-1", "e1", 1)
    assert json.loads(data) == {"note": awkward}
    [alert] = store.alerts_page(conn, False, "unknown_sku", 10, 0)
    assert (alert["message"], alert["sku"], alert["station"]) == (awkward, None, None)
    assert [row[2] for row in store.outbox_read(conn, 0, 10)] == [payload]


def test_held_upserts_of_one_key_land_one_after_the_other(conn):
    """One upsert statement cannot change a row twice: rows of the same key go in
    rounds, in their order; an adding upsert sums them, a replacing one keeps the last."""
    with store.transaction(conn), store.writes_held(conn):
        first = event(conn, 1)
        for delta in (3, 4, -2):
            movement(conn, first, delta)
        store.movement_add(conn, first, "receipt", "MUG", "B-2", "", "", 7, NOW, NOW)
        for applied in (5, 9, 3):
            store.cursor_set(conn, "st-1", "e1", applied, NOW)
        store.cursor_set(conn, "st-2", "e1", 1, NOW)
    assert [tuple(line) for line in store.stock_lines(conn, "MUG")] == [("A-1", "", "", 5),
                                                                      ("B-2", "", "", 7)]
    assert store.cursors_of(conn, ["st-1", "st-2"]) == {("st-1", "e1"): 3, ("st-2", "e1"): 1}
    assert store.check_ledger(conn) == []


def test_held_upserts_carry_any_text_and_null_as_given(conn):
    """The rows of an upsert reach the server as JSON: what JSON escapes (quotes,
    backslashes, new lines, characters past ASCII) and NULL arrive unchanged."""
    awkward = 'tab\there, line\nbreak, back\\slash \\u0041, quote \' " \u00e9\u20ac\U0001f4e6'
    upsert = ("INSERT INTO sku_activity (sku, last_out, pick_location) VALUES (?, ?, ?) "
              "ON CONFLICT (sku) DO UPDATE SET pick_location = excluded.pick_location")
    with store.transaction(conn), store.writes_held(conn):
        conn.execute_later(upsert, (awkward, None, awkward))
        conn.execute_later(upsert, ("MUG", "2026-12-07", None))
        conn.execute_later(upsert, ("MUG", None, awkward))
    rows = conn.execute("SELECT sku, last_out, pick_location FROM sku_activity "
                        "ORDER BY sku").fetchall()  # fmt: skip
    assert [tuple(row) for row in rows] == [("MUG", "2026-12-07", awkward),
                                            (awkward, None, awkward)]  # fmt: skip


def test_a_savepoint_rolled_back_takes_what_it_held(conn):
    with store.transaction(conn), store.writes_held(conn):
        movement(conn, event(conn, 1), 3)
        with pytest.raises(LookupError), store.savepoint(conn, "try"):
            movement(conn, event(conn, 2), 4)
            raise LookupError("given up")
        movement(conn, event(conn, 3), 2)
    assert counts(conn) == (2, 2, 5)
    rows = conn.execute("SELECT seq FROM events ORDER BY seq").fetchall()
    assert [seq for (seq,) in rows] == [1, 3]


def test_what_a_failed_transaction_held_is_never_sent(conn):
    with pytest.raises(LookupError), store.transaction(conn), store.writes_held(conn):
        movement(conn, event(conn, 1), 3)
        raise LookupError("given up")
    with store.transaction(conn), store.writes_held(conn):
        movement(conn, event(conn, 1), 2)
    assert counts(conn) == (1, 1, 2)


@pytest.mark.skipif(not postgres.enabled(), reason="PostgreSQL's held writes (HUB_TEST_DB)")
def test_on_postgresql_the_rows_wait_for_the_next_statement(conn):
    """Seen past the store (psycopg's own connection, which sends nothing held): the rows
    are in this transaction only once a statement of the store's has gone."""
    def events_seen_raw() -> int:
        return conn.raw.execute("SELECT count(*) FROM events").fetchone()[0]

    with store.transaction(conn), store.writes_held(conn):
        movement(conn, event(conn, 1))  # the first reads the highest ids: a statement
        conn.execute("SELECT 1")
        for seq in range(2, 5):
            movement(conn, event(conn, seq))
        assert events_seen_raw() == 1
        conn.execute("SELECT 1")
        assert events_seen_raw() == 4
    assert isinstance(conn.raw, psycopg.Connection)
    assert counts(conn) == (4, 4, 4)


@pytest.mark.skipif(not postgres.enabled(), reason="PostgreSQL's held writes (HUB_TEST_DB)")
def test_on_postgresql_a_receipts_lot_is_held_with_the_rest(conn):
    """A receipt's lot was a statement of its own, which sent everything held before it: a
    batch of receipts with lots went out row by row (3.5 times as long a batch)."""
    def rows_seen_raw(table: str) -> int:
        return conn.raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    with store.transaction(conn), store.writes_held(conn):
        movement(conn, event(conn, 1))
        conn.execute("SELECT 1")
        for seq in range(2, 5):
            movement(conn, event(conn, seq))
            store.lot_seen(conn, "MUG", f"L{seq % 2}", None, NOW)
        assert (rows_seen_raw("events"), rows_seen_raw("lots")) == (1, 0)
        conn.execute("SELECT 1")
        assert (rows_seen_raw("events"), rows_seen_raw("lots")) == (4, 2)
    assert conn.execute("SELECT lot FROM lots ORDER BY lot").fetchall() == [("L0",), ("L1",)]
