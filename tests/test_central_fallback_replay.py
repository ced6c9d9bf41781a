"""A central hub applies a chunk of its sites' messages one by one after the chunk failed
on one message; when the database then fails part way, the messages already committed
are not applied again on the next turn (they were: an intake order routed and sent to its
site twice, a dead letter counted twice). The real hub (in this process, not run: its
ingest's turn is called as its loop calls it) on a real ledger; the faults are the
database's own, made by triggers: a constraint that refuses one message, and a failure
of the database itself (PostgreSQL's disk_full; on SQLite a function that does not exist,
which fails the statement as a broken database does), removed again as a database comes
back."""

import sqlite3

import psycopg
import pytest

from hub import store
from hub.app import Hub
from hub.config import load
from hub.ingest_batch import Incoming
from protocol.envelope import encode, utc_now
from protocol.messages import HubStatus, Order, OrderLine, StationStatus
from protocol.topics import Topics
from tests import postgres
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub

SITE = Topics("s1")

REFUSE = {  # a station status of station `bad`: refused by a constraint (an item error)
    "sqlite": "CREATE TRIGGER refuse BEFORE INSERT ON site_feeds "
              "WHEN NEW.key = 'station/bad/status' BEGIN SELECT RAISE(ABORT, 'refused'); END",
    "postgresql": "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  "RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END $$; "
                  "CREATE TRIGGER refuse BEFORE INSERT ON site_feeds FOR EACH ROW "
                  "WHEN (NEW.key = 'station/bad/status') EXECUTE FUNCTION refuse()",
}  # fmt: skip
DATABASE_GONE = {  # a site's hub status: the database itself fails
    "sqlite": "CREATE TRIGGER gone BEFORE UPDATE OF hub_state ON site_links "
              "BEGIN SELECT the_disk_is_gone(); END",
    "postgresql": "CREATE FUNCTION gone() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  "RAISE EXCEPTION 'the disk is gone' USING ERRCODE = 'disk_full'; END $$; "
                  "CREATE TRIGGER gone BEFORE UPDATE OF hub_state ON site_links "
                  "FOR EACH ROW EXECUTE FUNCTION gone()",
}  # fmt: skip


def backend() -> str:
    return "postgresql" if postgres.enabled() else "sqlite"


def ddl(target: str, sql: str) -> None:
    """Schema changes of the test's own, on a connection of its own."""
    if backend() == "sqlite":
        with sqlite3.connect(target) as conn:
            conn.executescript(sql)
        return
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def hub(tmp_path):
    """A central hub of one site, s1 (its broker is never reached: the hub is not run)."""
    path = tmp_path / "data" / "ledger.db"
    database = ledger_target(path)
    url = f'[database]\nurl = "{database}"\n' if database != str(path) else ""
    (tmp_path / "hub.toml").write_text(
        f'[hub]\nsite = "centre"\nmode = "central"\ndata_dir = "{tmp_path / "data"}"\n'
        '[mqtt]\nport = 1\n[web]\nport = 0\n'
        f'{url}[[sites]]\nid = "s1"\napi = "http://127.0.0.1:1"\ntoken = "t"\n'
    )  # fmt: skip
    hub = Hub(load(str(tmp_path / "hub.toml")))
    yield hub, database
    hub.web.close()
    hub.conn.close()
    hub.loop.close()


def test_a_database_failure_in_the_one_by_one_fallback_applies_nothing_twice(hub):
    hub, database = hub
    ddl(database, REFUSE[backend()])
    ddl(database, DATABASE_GONE[backend()])
    order = Incoming(hub.topics.order_intake, encode(
        Order(order="SO-1", lines=[OrderLine(sku="MUG", qty=1)])), qos=0)  # routed to s1
    not_json = Incoming(SITE.movements, b"not json", qos=0)  # a dead letter
    refused = Incoming(SITE.station_status("bad"), encode(
        StationStatus(state="online", conn=1, epoch="e1")), qos=0)  # fmt: skip
    status = Incoming(SITE.hub_status, encode(HubStatus(state="online", ts=utc_now())), qos=0)

    with pytest.raises(store.db_errors()):  # to the ingest loop, which tries again
        hub.loop._apply([order, not_json, refused, status])
    ddl(database, "DROP TRIGGER gone ON site_links" if backend() == "postgresql"
        else "DROP TRIGGER gone")  # the database is back  # fmt: skip
    hub.loop.reconnect()  # as the ingest loop does after a database failure
    hub.loop._apply(hub.loop._carried)  # and its next turn

    assert hub.loop._carried == []
    conn = hub.loop.conn  # the loop's new connection
    sent = conn.execute("SELECT count(*) FROM outbox WHERE topic = ?",
                        (SITE.centre_orders,)).fetchall()  # fmt: skip
    assert [tuple(row) for row in sent] == [(1,)]  # the order sent to its site once
    letters = conn.execute("SELECT topic, repeats FROM dead_letters ORDER BY id").fetchall()
    # Each received once (`repeats` counts the arrivals of one dead letter).
    assert [tuple(row) for row in letters] == [(SITE.movements, 1),
                                               (SITE.station_status("bad"), 1)]  # fmt: skip
    assert conn.execute("SELECT hub_state FROM site_links WHERE site = 's1'").fetchall() == [
        ("online",)]  # fmt: skip
