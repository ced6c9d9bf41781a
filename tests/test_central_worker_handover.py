"""A central hub's site moving from one ingest worker to another loses none of the site's
messages, not only its movements (which the new owner asks the site to resend): a
routed order's state and an alert cleared, which the site sends once
(`centre/order-state`, `alerts`, not retained), must reach the centre even when they came
while the site was changing hands (hub.site_restate answers the new owner's resend). All real
processes (tests.company): two site hubs and brokers bridged to the central broker, the
central hub as two ingest workers and a web process; the owning worker frozen (SIGSTOP)
as a worker stalls (a long pause, a host under swap), past its lease."""

import json
import os
import signal

import pytest

from kit.waiting import wait_until
from protocol.envelope import encode, utc_now
from protocol.messages import StationStatus
from protocol.topics import Topics
from tests.company import PASSWORD, SKUS, Company, Site
from tests.mqtt_client import TestClient
from tests.test_central_roles import _order_status, _owner_names

pytestmark = [pytest.mark.slow, pytest.mark.hub]


def central_state(company: Company, order: str) -> str:
    return company.central.api("GET", f"/api/sites/orders/{order}")["state"]


def alerts_open_at_centre(company: Company, site: str) -> int:
    return company.site_rows()[site]["alerts_open"]


def station_status(site: Site, station: str, state: str) -> None:
    """The station's retained status, as it (or its last will) publishes it: offline
    raises the site hub's station_offline alert, online clears it."""
    client = TestClient(site.broker.port, station, PASSWORD.format(station))
    try:
        client.publish(Topics(site.id).station_status(station),
                       encode(StationStatus(state=state, ts=utc_now())), retain=True)  # fmt: skip
    finally:
        client.close()


def crossed(watch: TestClient, site: str) -> tuple[dict, dict]:
    """The order's state and the alert as they reach the central broker."""
    topics, state, alert = Topics(site), None, None
    while state is None or alert is None:
        message = watch.next(timeout=30)
        if message.topic == topics.order_state:
            state = json.loads(message.payload)
        elif message.topic == topics.alerts:
            alert = json.loads(message.payload)
    return state, alert


def test_a_sites_messages_sent_while_it_changes_worker_reach_the_centre(tmp_path):
    with Company(tmp_path, central_workers=2) as company:
        company.wait_links("up")
        wait_until(lambda: set(_owner_names(company)) == {"central-1", "central-2"}, 60,
                   "one site each")  # fmt: skip
        for site in company.sites.values():
            site.hub.api("POST", "/api/products", [{"sku": sku, "name": sku} for sku in SKUS])
        company.central.api("POST", "/api/orders",
                            {"order": "SO-1", "lines": [{"sku": SKUS[0], "qty": 1}]})  # fmt: skip
        site_id = company.central.api("GET", "/api/sites/orders/SO-1")["site"]
        site = company.sites[site_id]
        wait_until(lambda: _order_status(site, "SO-1") == "open", 60, "SO-1 at its site")
        wait_until(lambda: central_state(company, "SO-1") == "open", 60, "the centre: open")
        station_status(site, "pack-1", "offline")
        wait_until(lambda: alerts_open_at_centre(company, site_id) == 1, 60,
                   "the centre: pack-1's station_offline alert open")  # fmt: skip

        victim = company.site_owner(site_id)
        survivor = next(w for w in company.workers if w is not victim)
        # What reaches the central broker on the site's order-state and alerts topics (the
        # web process's broker user: the web role does not connect to the broker itself).
        watch = TestClient(company.central_broker.port, "central", PASSWORD.format("central"))
        watch.subscribe(Topics(site_id).order_state)
        watch.subscribe(Topics(site_id).alerts)
        pid = victim.proc.process.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            site.hub.api("POST", "/api/orders/SO-1/cancel")
            station_status(site, "pack-1", "online")
            state, alert = crossed(watch, site_id)
            # on the central broker, to the victim
            assert (state["status"], alert["state"]) == ("cancelled", "cleared")
            wait_until(lambda: company.site_owner(site_id) is survivor, 30,
                       "the frozen worker's site taken over")  # fmt: skip
        finally:
            os.kill(pid, signal.SIGCONT)
            watch.close()
        wait_until(lambda: "gives up site:" + site_id in victim.proc.log_since_start(), 30,
                   "the victim sees its lease gone")  # fmt: skip
        wait_until(lambda: central_state(company, "SO-1") == "cancelled", 30,
                   "the centre learns SO-1 was cancelled at its site")  # fmt: skip
        wait_until(lambda: alerts_open_at_centre(company, site_id) == 0, 30,
                   "the centre learns pack-1's alert was cleared at its site")  # fmt: skip
