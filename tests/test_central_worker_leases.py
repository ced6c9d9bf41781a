"""A central hub's ingest workers own its sites' streams as site hubs' workers own stations
(hub.ownership, a `site:{id}` lease): the sites spread over the live workers, a worker
applies and asks for only the sites it owns, a silent worker's site moves to another, and
two workers that both believe they own a site apply none of its movements twice. The real
hub.central and hub.ownership on the run's backend (`HUB_TEST_DB`), one connection per
worker; only the wall clock the leases are measured by is the test's."""

import threading
from datetime import UTC, datetime

import pytest

from hub import store
from hub.central import CentralIngest
from hub.ingest import Incoming
from hub.ownership import Ownership, site_stream
from kit.clock import Clock
from protocol.envelope import encode
from protocol.messages import AppliedMovement, Stock
from protocol.topics import Topics
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub

TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LEASE_S = 5.0
SITES = ("s1", "s2")


@pytest.fixture
def db(tmp_path):
    target = ledger_target(tmp_path / "centre.db")
    conn = store.connect(target)
    store.create_schema(conn)
    conn.close()
    return target


def worker(db, clock: Clock) -> tuple[Ownership, CentralIngest]:
    ownership = Ownership(store.connect(db), "ingest", LEASE_S, clock=clock, sites=SITES)
    ownership.start()
    conn = store.connect(db)
    return ownership, CentralIngest(conn, Topics("hq"), list(SITES), 2.0, fence=ownership)


def movements(site: str, seqs: range) -> list[Incoming]:
    return [Incoming(Topics(site).movements, encode(AppliedMovement(
        ledger_seq=seq, station="dock-1", epoch="e1", seq=seq, type="receipt", sku="MUG-1",
        location="A-01", delta=1, ts=TS, hub_ts=TS, value_micros=1_000_000)))
        for seq in seqs]  # fmt: skip


def applied(db, site: str) -> list[int]:
    conn = store.connect(db)
    try:
        rows = conn.execute("SELECT ledger_seq FROM site_movements WHERE site = ? "
                            "ORDER BY ledger_seq", (site,)).fetchall()  # fmt: skip
        return [row[0] for row in rows]
    finally:
        conn.close()


def test_sites_spread_over_the_workers_and_each_applies_and_asks_only_for_its_own(db):
    clock = Clock()
    (a, centre_a), (b, centre_b) = worker(db, clock), worker(db, clock)
    for _ in range(2):  # the first turn each: who is alive; the second: the fair share
        a.tick()
        b.tick()
    assert {len(a.stations), len(b.stations)} == {1}
    assert a.stations | b.stations == {site_stream(s) for s in SITES}
    site = "s1"
    owner, other = (centre_a, centre_b) if site_stream(site) in a.stations else (centre_b,
                                                                                 centre_a)  # fmt: skip
    assert other.process(movements(site, range(1, 6))).not_mine == 5
    assert applied(db, site) == []
    assert owner.process(movements(site, range(1, 6))).applied == 5

    # The site is known to be ahead (its stock says ledger_seq 9): only its owner asks.
    ahead = Incoming(Topics(site).stock("MUG-1"), encode(Stock(sku="MUG-1", on_hand=9, ts=TS,
                                                              ledger_seq=9)))  # fmt: skip
    owner.process([ahead])
    assert other.due_resends(0.0) == [] and other.due_resends(10.0) == []
    assert owner.due_resends(0.0) == [] and owner.due_resends(10.0) == [(site, 6)]


def test_a_silent_workers_site_moves_and_its_late_batch_applies_nothing(db):
    clock = Clock()
    (a, centre_a), (b, centre_b) = worker(db, clock), worker(db, clock)
    for _ in range(2):
        a.tick()
        b.tick()
    (owner, centre_owner), (heir, centre_heir) = (
        ((a, centre_a), (b, centre_b)) if site_stream("s1") in a.stations
        else ((b, centre_b), (a, centre_a))
    )  # fmt: skip
    assert centre_owner.process(movements("s1", range(1, 6))).applied == 5
    for _ in range(int(LEASE_S) + 2):  # the owner falls silent; the heir takes its site
        clock.now += 1.0
        heir.tick()
    assert site_stream("s1") in heir.stations
    late = centre_owner.process(movements("s1", range(6, 11)))  # its queue, after its lease
    assert (late.applied, late.not_mine) == (0, 5)
    assert centre_heir.process(movements("s1", range(6, 11))).applied == 5
    assert applied(db, "s1") == list(range(1, 11))
    assert owner.stations == frozenset({site_stream("s1")})  # its view, not the database's


def test_two_workers_both_believing_they_own_a_site_apply_no_movement_twice(db):
    # No fence: only the transactions, the centre's applied cursor and the UNIQUE
    # (site, ledger_seq) stand between the two, as when a lease is wrong.
    stream = movements("s1", range(1, 201))
    errors: list[BaseException] = []

    def feed() -> None:
        conn = store.connect(db)
        centre = CentralIngest(conn, Topics("hq"), list(SITES), 2.0)
        try:
            for start in range(0, len(stream), 10):
                centre.process(stream[start:start + 10])
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=feed) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert applied(db, "s1") == list(range(1, 201))
