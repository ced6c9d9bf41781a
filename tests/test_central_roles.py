"""The central hub as several processes (issues 14 and 15): two ingest workers and a web
process on one ledger, fed by two site hubs over their bridges, all real processes. Each
site's stream is owned by one worker at a time (a `site:{id}` lease, as a station's);
the worker owning a site SIGKILLed mid-stream loses and doubles nothing: the survivor takes
the site, asks it to resend, and the centre's replay equals each site's. Runs on both
backends (`HUB_TEST_DB=postgresql`): on SQLite the workers share the file as a site hub's
do."""

import urllib.error

import pytest

from kit.waiting import wait_until
from tests.company import SKUS, Company, Site
from tests.test_multisite import assert_centre_equals_sites

pytestmark = [pytest.mark.slow, pytest.mark.hub]


def test_a_central_worker_sigkilled_mid_stream_loses_and_doubles_nothing(tmp_path):
    with Company(tmp_path, central_workers=2) as company:
        s1, s2 = company.sites["s1"], company.sites["s2"]
        company.wait_links("up")  # read through the web process
        # Spread over the live workers: one site each (the first up takes both, then gives
        # one back to the other).
        wait_until(lambda: set(_owner_names(company)) == {"central-1", "central-2"}, 60,
                   "one site each")  # fmt: skip
        # Each process is listed while its row is fresh (renewed each lease turn; under a
        # loaded machine a turn can come late): the roster is waited for, not read once.
        def roster() -> list[tuple[str, int]]:
            workers = company.central.api("GET", "/api/overview")["workers"]
            return sorted((w["role"], w["sites"]) for w in workers)

        wait_until(lambda: roster() == [("ingest", 1), ("ingest", 1), ("web", 0)], 30,
                   "two ingest workers with a site each, and the web process")  # fmt: skip
        s1.events(15)
        s2.events(10)
        company.wait_caught_up()

        victim = company.site_owner("s1")
        survivor = next(w for w in company.workers if w is not victim)
        s1.events(30)  # on its way over the bridge while the worker dies
        victim.kill()
        s2.events(10)
        s1.events(10)
        wait_until(lambda: company.site_owner("s1") is survivor, 30,
                   "the killed worker's site taken over")  # fmt: skip
        company.wait_caught_up()
        assert_centre_equals_sites(company)
        assert "asking site s1 to resend its movements" in survivor.proc.log_since_start()

        # What the centre publishes goes out with the survivor alone (the outbox duty moved
        # if the victim held it): an order posted to the web process reaches its site.
        for site in (s1, s2):
            site.hub.api("POST", "/api/products", [{"sku": sku, "name": sku} for sku in SKUS])
        company.central.api("POST", "/api/orders",
                            {"order": "SO-1", "lines": [{"sku": SKUS[0], "qty": 1}]})  # fmt: skip
        routed = company.sites[company.central.api("GET", "/api/sites/orders/SO-1")["site"]]
        wait_until(lambda: _order_status(routed, "SO-1") == "open", 60, "SO-1 at its site")

        # Back, as systemd would start it: it gets a share again, and the centre still
        # follows both sites exactly.
        victim.start()
        wait_until(lambda: set(_owner_names(company)) == {"central-1", "central-2"}, 60,
                   "one site each again")  # fmt: skip
        s1.events(5)
        s2.events(5)
        company.wait_caught_up()
        assert_centre_equals_sites(company)


def _owner_names(company: Company) -> list[str | None]:
    owners = [company.site_owner(site) for site in company.sites]
    return [owner.dir.name if owner else None for owner in owners]


def _order_status(site: Site, order: str) -> str | None:
    try:
        return site.hub.api("GET", f"/api/orders/{order}")["status"]
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
