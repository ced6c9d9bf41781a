"""A central hub's ingest worker with a backlog of its sites' movements: its batches must
not outlast its leases (as tests/test_ingest_worker_long_batches.py for stations).

One site's thousands of movements are queued at the worker ahead of another site's first
ones, with the shortest lease the config allows (1 s). Were the worker to apply them all in
one transaction, the second site's movements would meet its lease check after the lease
ran out, and be acknowledged and left: here no site hub answers a resend request, so they
would never be applied. Every movement must be applied once, in order, without a resend.

A real `python -m hub run --role ingest` process of a central hub, a real Mosquitto with the
central broker's ACL (the movements published by the sites' bridge users), the run's real
backend (SQLite, or PostgreSQL with HUB_TEST_DB=postgresql, where the backlog is far slower
to apply: there a worker that takes its whole queue in one transaction fails this test;
SQLite applies it within the lease either way)."""

from datetime import UTC, datetime

import pytest

from hub import brokerconf
from protocol.envelope import encode
from protocol.messages import AppliedMovement
from protocol.topics import Topics
from tests.broker import start_broker
from tests.harness import Hub, wait_until
from tests.ingest_workers import Publisher

pytestmark = [pytest.mark.slow, pytest.mark.hub]

TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
FIRST, SECOND = "s1", "s2"
# Enough that applying FIRST's backlog takes several leases on either backend.
BACKLOG = 6000
SECOND_MOVEMENTS = 200


class Bridge(Publisher):
    """A site's bridge delivering its movements once each (never resent)."""

    def __init__(self, port: int, site: str) -> None:
        self.site = site
        super().__init__(port, brokerconf.BRIDGE_PREFIX + site)

    def publish(self, seqs: range) -> None:
        infos = [self.client.publish(Topics(self.site).movements, movement(seq), qos=1)
                 for seq in seqs]  # fmt: skip
        for info in infos:
            info.wait_for_publish(60)


def movement(seq: int) -> bytes:
    return encode(AppliedMovement(ledger_seq=seq, station="dock-1", epoch="e1", seq=seq,
                                  type="receipt", sku="MUG-1", location="A-01", delta=1,
                                  ts=TS, hub_ts=TS, value_micros=1_000_000))  # fmt: skip


def applied(worker: Hub, site: str) -> int:
    rows = worker.query("SELECT applied FROM site_links WHERE site = ?", (site,))
    return rows[0][0] if rows else 0


def test_a_backlog_ahead_of_a_sites_first_movements_loses_none_of_them(tmp_path):
    users = {"central-1": ("central-1-secret", "central")}
    users |= {brokerconf.BRIDGE_PREFIX + s: (f"{brokerconf.BRIDGE_PREFIX}{s}-secret", "bridge")
              for s in (FIRST, SECOND)}  # fmt: skip
    broker = start_broker(tmp_path / "broker", users, site="centre")
    worker = Hub(tmp_path / "worker", broker, "central-1-secret", role="ingest",
                 username="central-1", site="centre", hub_config='mode = "central"\n',
                 extra_config=f'[[sites]]\nid = "{FIRST}"\n[[sites]]\nid = "{SECOND}"\n',
                 ingest_config="lease_s = 1\nmax_batch = 100000\n")  # fmt: skip
    bridges: list[Bridge] = []
    try:
        worker.start()
        bridges = [Bridge(broker.port, s) for s in (FIRST, SECOND)]
        first, second = bridges
        # Once a site's first movement is applied, the worker owns it and hears it.
        for bridge in bridges:
            wait_until(lambda b=bridge: b.publish(range(1, 2)) or applied(worker, b.site), 30,
                       f"{bridge.site}'s subscription", step=0.5)  # fmt: skip
        first.publish(range(2, BACKLOG + 1))  # queued at the worker faster than it applies
        second.publish(range(2, SECOND_MOVEMENTS + 1))  # behind all of them
        wait_until(lambda: applied(worker, FIRST) == BACKLOG
                   and applied(worker, SECOND) == SECOND_MOVEMENTS, 180,
                   "every movement applied without a resend", step=0.5)  # fmt: skip
        rows = worker.query("SELECT site, ledger_seq FROM site_movements ORDER BY id")
        for site, count in ((FIRST, BACKLOG), (SECOND, SECOND_MOVEMENTS)):
            assert [seq for s, seq in rows if s == site] == list(range(1, count + 1))
        assert worker.query("SELECT count(*) FROM site_pending") == [(0,)]
        assert worker.query("SELECT count(*) FROM dead_letters") == [(0,)]
    finally:
        for bridge in bridges:
            bridge.close()
        if worker.proc:
            worker.stop()
        broker.stop()
