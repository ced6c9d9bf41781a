"""On PostgreSQL a writer that waits for the writer lock ends its holder only when the
holder is a hub process's session and that process has stopped saying it is alive: never
a live process's transaction however long, nor a session of anything else (a person's
psql, a tool). Real sessions of the run's cluster, each named as a hub process names its
sessions."""

import threading

import psycopg
import pytest

from hub import store
from hub.store import writer_lock
from tests import postgres
from tests.postgres import ledger_target

pytestmark = [
    pytest.mark.hub,
    pytest.mark.skipif(not postgres.enabled(), reason="PostgreSQL's sessions and locks"),
]


def session(url: str, name: str) -> psycopg.Connection:
    return psycopg.connect(store.for_process(url, name), autocommit=True)


def holding(url: str, name: str) -> psycopg.Connection:
    """A session of process `name` inside a writing transaction, then quiet (as a client
    frozen there)."""
    conn = session(url, name)
    writer_lock.begin(conn)
    return conn


def alive(conn: psycopg.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def url(tmp_path) -> str:
    return ledger_target(tmp_path / "ledger.db")


def test_a_holder_whose_process_stopped_saying_it_is_alive_is_ended(url):
    beats = session(url, "beats")
    writer_lock.beat(beats, "hub-a", -1.0)  # its last word is already past
    holder = holding(url, "hub-a")
    waiter = session(url, "hub-b")
    writer_lock.begin(waiter)  # waits, looks, ends the holder, gets the lock
    assert waiter.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    waiter.execute("ROLLBACK")
    assert not alive(holder)
    for conn in (beats, holder, waiter):
        conn.close()


def test_a_holder_whose_process_is_alive_is_waited_for_however_long(url):
    beats = session(url, "beats")
    writer_lock.beat(beats, "hub-a", 3600.0)
    holder = holding(url, "hub-a")
    waiter = session(url, "hub-b")
    got = threading.Event()

    def write() -> None:
        writer_lock.begin(waiter)
        got.set()

    thread = threading.Thread(target=write)
    thread.start()
    # Several of the waiter's looks at the holder (one each WAIT_CHECK_MS).
    assert not got.wait(writer_lock.WAIT_CHECK_MS / 1000 * 4)
    assert alive(holder)
    holder.execute("COMMIT")
    thread.join(30)
    assert got.is_set()
    waiter.execute("ROLLBACK")
    for conn in (beats, holder, waiter):
        conn.close()


def test_a_holder_that_is_no_hub_process_is_never_ended(url):
    beats = session(url, "beats")
    writer_lock.beat(beats, "hub-gone", -1.0)
    holder = psycopg.connect(url, autocommit=True)  # a person's session: no hub name
    writer_lock.begin(holder)
    quiet = session(url, "hub-gone")  # a stuck hub process's session, not the holder
    assert writer_lock.end_stuck_holder(beats) == []
    assert alive(holder) and alive(quiet)
    for conn in (beats, holder, quiet):
        conn.close()


def test_each_session_of_a_process_carries_its_name_and_keepalives(url):
    conn = session(url, "hub-a:1:ingest:0f")
    assert conn.info.parameter_status("application_name") == "hub-a:1:ingest:0f"
    assert conn.info.get_parameters()["keepalives_idle"] == "10"
    conn.close()
    # A name the configured URL gave is replaced; its keepalives are kept.
    conn = session(url + "&application_name=mine&keepalives_idle=99", "hub-b")
    assert conn.info.parameter_status("application_name") == "hub-b"
    assert conn.info.get_parameters()["keepalives_idle"] == "99"
    conn.close()
