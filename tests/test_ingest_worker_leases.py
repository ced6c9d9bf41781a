"""Several ingest workers on one ledger (hub.ownership): the stations spread over the live
workers, a silent worker's stations move to the others, a worker applies only what it
owns, each duty has one holder, and even two workers that both believe they own a station
apply none of its events twice. Real SQLite files, one connection per worker; only the
wall clock the leases are measured by is the test's."""

import sqlite3
import threading
from datetime import UTC, datetime

import pytest

from hub import store
from hub.ingest import Incoming, Ingest
from hub.ownership import DUTIES, Change, Ownership
from kit.clock import Clock
from protocol.envelope import encode_event
from protocol.events import Receipt
from protocol.topics import Topics

pytestmark = pytest.mark.hub

TOPICS = Topics("test")
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LEASE_S = 5.0
STATIONS = [f"pack-{i}" for i in range(1, 8)]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "ledger.db"
    conn = store.connect(path)
    store.create_schema(conn)
    with store.transaction(conn):
        for station in STATIONS:
            store.station_lease_add(conn, station)
    conn.close()
    return path


def worker(db, clock: Clock) -> Ownership:
    return Ownership(store.connect(db), "ingest", LEASE_S, clock=clock)


def events(station: str, seqs: range) -> list[Incoming]:
    return [Incoming(TOPICS.events(station),
                     encode_event(station, "e1", seq, Receipt(sku="MUG-1", qty=1,
                                                              location="A-01"), TS))
            for seq in seqs]  # fmt: skip


def ledger_events(db) -> list[tuple[str, int]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT station, seq FROM events ORDER BY station, seq").fetchall()
    finally:
        conn.close()


def test_stations_spread_over_live_workers_and_a_silent_ones_move_to_the_others(db):
    clock = Clock()
    a, b, c = (worker(db, clock) for _ in range(3))
    for _ in range(2):  # the first turn each: who is alive; the second: the fair share
        for w in (a, b, c):
            w.tick()
    held = [a.stations, b.stations, c.stations]
    assert set().union(*held) == set(STATIONS)
    assert sum(len(h) for h in held) == len(STATIONS)  # no station twice
    assert all(len(h) <= 3 for h in held)  # ceil(7 / 3)

    silent = c.stations
    for _ in range(int(LEASE_S) + 2):  # c stops (SIGKILL): a and b go on
        clock.now += 1.0
        a.tick()
        b.tick()
    assert a.stations | b.stations == set(STATIONS)
    assert not a.stations & b.stations
    assert silent <= a.stations | b.stations

    for _ in range(3):  # c comes back: the others give it back a fair share
        clock.now += 1.0
        for w in (a, b, c):
            w.tick()
    assert sorted(len(w.stations) for w in (a, b, c)) == [2, 2, 3]
    assert a.stations | b.stations | c.stations == set(STATIONS)


def test_each_duty_has_one_holder_and_moves_when_it_falls_silent(db):
    clock = Clock()
    workers = [worker(db, clock) for _ in range(3)]
    for w in workers:
        w.tick()
    for duty in DUTIES:
        assert sum(duty in w.duties for w in workers) == 1
    holder = next(w for w in workers if "outbox" in w.duties)
    others = [w for w in workers if w is not holder]
    for _ in range(int(LEASE_S) + 2):
        clock.now += 1.0
        for w in others:
            w.tick()
    for duty in DUTIES:
        assert sum(duty in w.duties for w in others) == 1


def test_a_worker_applies_only_the_stations_it_owns_and_stops_when_its_lease_moves(db):
    clock = Clock()
    a, b = worker(db, clock), worker(db, clock)
    for _ in range(2):
        a.tick()
        b.tick()
    station = sorted(a.stations)[0]
    ingest_a = Ingest(a.conn, TOPICS, fence=a)
    ingest_b = Ingest(b.conn, TOPICS, fence=b)

    assert ingest_b.process(events(station, range(1, 6))).not_mine == 5
    assert ingest_a.process(events(station, range(1, 6))).applied == 5
    for _ in range(int(LEASE_S) + 2):  # a falls silent; b takes its stations
        clock.now += 1.0
        b.tick()
    assert station in b.stations
    late = ingest_a.process(events(station, range(6, 11)))  # a's queue, after its lease
    assert (late.applied, late.not_mine) == (0, 5)
    assert ingest_b.process(events(station, range(6, 11))).applied == 5
    assert ledger_events(db) == [(station, seq) for seq in range(1, 11)]


def test_a_worker_that_takes_back_its_own_expired_lease_says_so(db):
    """Its turns came late (a stopped or starved process), nobody else took its stations:
    meanwhile the fence left their events unapplied, so taking them back is reported as
    `retaken`, for the worker to ask the stations to resend, as after a move."""
    clock = Clock()
    a = worker(db, clock)
    assert a.tick().gained == set(STATIONS)
    assert a.tick() == Change()  # renewed: nothing to ask for
    ingest = Ingest(a.conn, TOPICS, fence=a)
    clock.now += LEASE_S + 1  # its lease ran out
    assert ingest.process(events("pack-1", range(1, 4))).not_mine == 3  # fenced off
    change = a.tick()
    assert change == Change(retaken=frozenset(STATIONS))
    assert a.stations == set(STATIONS)
    assert a.tick() == Change()


def test_two_workers_both_believing_they_own_a_station_apply_no_event_twice(db):
    # No fence at all: only the transactions and the ledger's unique key stand between
    # the two, as when a lease is wrong.
    conns = [store.connect(db) for _ in range(2)]
    stream = events("pack-1", range(1, 301))
    errors: list[BaseException] = []

    def feed(conn) -> None:
        ingest = Ingest(conn, TOPICS)
        try:
            for start in range(0, len(stream), 10):
                ingest.process(stream[start:start + 10])
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=feed, args=(conn,)) for conn in conns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert ledger_events(db) == [("pack-1", seq) for seq in range(1, 301)]
    assert store.check_ledger(conns[0]) == []
    assert conns[0].execute("SELECT sum(qty) FROM balances").fetchone()[0] == 300


def test_the_ledger_itself_refuses_one_event_twice(db):
    conn = store.connect(db)
    with store.transaction(conn):
        store.event_insert(conn, "pack-1", "e1", 1, "receipt", TS.isoformat(), TS.isoformat(),
                           b"{}")  # fmt: skip
    with pytest.raises(sqlite3.IntegrityError), store.transaction(conn):
        store.event_insert(conn, "pack-1", "e1", 1, "receipt", TS.isoformat(), TS.isoformat(),
                           b"{}")  # fmt: skip


def test_a_worker_cut_from_the_broker_lets_its_stations_go_at_once(db):
    clock = Clock()
    a, b = worker(db, clock), worker(db, clock)
    for _ in range(2):
        a.tick()
        b.tick()
    assert a.stations and a.duties
    change = a.tick(serving=False)
    assert change.lost and not a.stations and not a.duties
    clock.now += 1.0  # well within the lease a would have held
    b.tick()
    assert b.stations == set(STATIONS) and b.duties == set(DUTIES)
