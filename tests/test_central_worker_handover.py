"""A central hub's site moving from one ingest worker to another loses none of the site's
messages, not only its movements (which the new owner asks the site to resend): a
routed order's state, which the site sends once (`centre/order-state`, not retained),
must reach the centre even when it came while the site was changing hands. All real
processes (tests.company): two site hubs and brokers bridged to the central broker, the
central hub as two ingest workers and a web process; the owning worker frozen (SIGSTOP)
as a worker stalls (a long pause, a host under swap), past its lease."""

import json
import os
import signal

import pytest

from kit.waiting import wait_until
from protocol.topics import Topics
from tests.company import PASSWORD, SKUS, Company
from tests.mqtt_client import TestClient
from tests.test_central_roles import _order_status, _owner_names

pytestmark = [pytest.mark.slow, pytest.mark.hub]


def central_state(company: Company, order: str) -> str:
    return company.central.api("GET", f"/api/sites/orders/{order}")["state"]


@pytest.mark.xfail(
    strict=True,
    reason="bug: a site's non-retained messages (centre/order-state, alerts) that reach the "
    "old owner during a handover are fenced and acked, and the new owner's resend asks "
    "only for movements: the centre never learns the order was cancelled",
)
def test_an_order_state_sent_while_the_site_changes_worker_reaches_the_centre(tmp_path):
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

        victim = company.site_owner(site_id)
        survivor = next(w for w in company.workers if w is not victim)
        # What reaches the central broker on the site's order-state topic (the web
        # process's broker user: the web role does not connect to the broker itself).
        watch = TestClient(company.central_broker.port, "central", PASSWORD.format("central"))
        watch.subscribe(Topics(site_id).order_state)
        pid = victim.proc.process.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            site.hub.api("POST", "/api/orders/SO-1/cancel")
            state = json.loads(watch.next(Topics(site_id).order_state, timeout=30).payload)
            assert state["status"] == "cancelled"  # on the central broker, to the victim
            wait_until(lambda: company.site_owner(site_id) is survivor, 30,
                       "the frozen worker's site taken over")  # fmt: skip
        finally:
            os.kill(pid, signal.SIGCONT)
            watch.close()
        wait_until(lambda: "gives up site:" + site_id in victim.proc.log_since_start(), 30,
                   "the victim sees its lease gone")  # fmt: skip
        wait_until(lambda: central_state(company, "SO-1") == "cancelled", 30,
                   "the centre learns SO-1 was cancelled at its site")  # fmt: skip
