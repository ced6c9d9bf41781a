"""An ingest worker's batch takes at most twice what its deadline let the last one apply
(hub/batch_limit.py): what a batch does before its first message grows with its size, and
must not outlast the leases its last turn renewed."""

import pytest

from hub import store
from hub.app import Hub
from hub.batch_limit import FIRST, LEAST, BatchLimit
from hub.config import load
from tests.broker import start_broker
from tests.harness import wait_until
from tests.ingest_workers import Publisher, password
from tests.postgres import ledger_target

STATION = "pack-a"
BACKLOG = 3000


def test_a_workers_first_batch_is_small_and_full_batches_in_time_double_it():
    limit = BatchLimit(most=100_000)
    assert limit.size == FIRST
    sizes = []
    for _ in range(5):
        limit.closed(taken=limit.size, size=limit.size)
        sizes.append(limit.size)
    assert sizes == [FIRST * 2, FIRST * 4, FIRST * 8, FIRST * 16, FIRST * 32]


def test_a_batch_its_deadline_closed_sets_the_next_to_twice_what_it_applied():
    limit = BatchLimit(most=100_000)
    for _ in range(6):
        limit.closed(taken=limit.size, size=limit.size)  # a quiet start: 6,400
    limit.closed(taken=300, size=6_400)  # then the machine slows down
    assert limit.size == 600
    limit.closed(taken=1, size=600)
    assert limit.size == LEAST  # one message a turn still renews the leases each turn


def test_a_batch_that_was_not_full_leaves_the_limit_as_it_was():
    limit = BatchLimit(most=100_000)
    limit.closed(taken=3, size=3)  # only three were waiting: says nothing of the deadline
    assert limit.size == FIRST


def test_the_limit_never_passes_max_batch():
    limit = BatchLimit(most=150)
    assert limit.size == 100
    limit.closed(taken=100, size=100)
    assert limit.size == 150
    limit.closed(taken=150, size=150)
    assert limit.size == 150
    assert BatchLimit(most=5).size == 5


# --- the limit in a real worker's loop -------------------------------------------------


@pytest.fixture
def worker(tmp_path):
    """An ingest worker built in this process on the run's backend, connected to a real
    broker, its loop turned by the test (never run on its own thread)."""
    users = {"hub-1": (password("hub-1"), "hub"), STATION: (password(STATION), "station")}
    broker = start_broker(tmp_path / "broker", users)
    data = tmp_path / "data"
    database = ledger_target(data / "ledger.db")
    url = f'[database]\nurl = "{database}"\n' if database != str(data / "ledger.db") else ""
    (tmp_path / "hub.toml").write_text(
        f'[hub]\nsite = "test"\ndata_dir = "{data}"\n{url}'
        f'[mqtt]\nport = {broker.port}\nusername = "hub-1"\npassword = "{password("hub-1")}"\n'
        '[web]\nport = 0\n[ingest]\nlease_s = 1\nmax_batch = 100000\n'
    )  # fmt: skip
    hub = Hub(load(str(tmp_path / "hub.toml")), role="ingest")
    with store.transaction(hub.conn):
        store.station_lease_add(hub.conn, STATION)
    hub.link.start()
    publisher = None
    try:
        wait_until(lambda: hub.link.connected, 10, "the worker's link connected")
        hub.ownership.start()
        publisher = Publisher(broker.port, STATION)
        yield hub, publisher
    finally:
        if publisher is not None:
            publisher.close()
        hub.link.stop(say_offline=True)
        hub.web.close()
        hub.loop.close()
        hub.conn.close()
        broker.stop()


def applied(hub: Hub) -> int:
    rows = hub.loop.conn.execute("SELECT applied FROM cursors WHERE station = ?",
                                 (STATION,)).fetchall()  # fmt: skip
    return rows[0][0] if rows else 0


def test_a_workers_batches_take_no_more_than_its_limit_and_the_limit_grows(worker):
    hub, publisher = worker
    wait_until(lambda: hub.loop._turn() or STATION in hub.ownership.stations, 10,
               "the worker owns the station")  # fmt: skip
    wait_until(lambda: hub.loop._turn() or publisher.publish(range(1, 2)) or applied(hub),
               20, "the worker applies the station's events", step=0.3)  # fmt: skip
    publisher.publish(range(2, BACKLOG + 1))

    turns = []  # (the limit a turn began with, what it applied)
    while applied(hub) < BACKLOG:
        limit, before = hub.loop.limit.size, applied(hub)
        hub.loop._turn()
        turns.append((limit, applied(hub) - before))
        assert len(turns) < 10 * BACKLOG, "the worker stopped applying"

    assert all(done <= limit for limit, done in turns), turns
    assert max(limit for limit, _ in turns) > FIRST  # full batches in time made it grow
    rows = hub.loop.conn.execute("SELECT seq FROM events WHERE station = ? ORDER BY id",
                                 (STATION,)).fetchall()  # fmt: skip
    assert [row[0] for row in rows] == list(range(1, BACKLOG + 1))
