"""The hub as several processes on one ledger (`python -m hub run --role web|ingest`): web
processes share logins, their rate limit and the key that signs their cookies, and an
ingest worker's /healthz says 503 when it has lost its broker or cannot renew its leases."""

import http.cookiejar
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

from hub import catalog, store
from hub.web import auth
from kit.faultproxy import FaultProxy
from protocol.envelope import encode
from protocol.messages import Order, OrderLine, Product
from protocol.topics import Topics
from tests import postgres
from tests.conftest import PASSWORDS
from tests.faults.rig import Endpoint
from tests.harness import ROOT, Hub, wait_until
from tests.mqtt_client import TestClient
from tests.webapp import csrf_of

pytestmark = pytest.mark.hub

PASSWORD = "pass-word-of-the-boss"


class Browser:
    """One browser: its cookies go to every process of the hub (same host, any port)."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, url: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(url))

    def post(self, url: str, form: dict) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode()
        return self._open(urllib.request.Request(url, data=data, method="POST"))

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def login(self, url: str, name: str, password: str) -> int:
        _status, page = self.get(url + "/login")
        return self.post(url + "/login", {"username": name, "password": password,
                                          "csrf_token": csrf_of(page)})[0]  # fmt: skip


@pytest.fixture
def webs(tmp_path, broker):
    webs = [Hub(tmp_path / f"web-{i}", broker, PASSWORDS["hub"], role="web",
                data_dir=tmp_path / "data") for i in (1, 2)]  # fmt: skip
    for web in webs:
        web.start()
    yield webs
    for web in webs:
        web.stop()


def test_two_web_processes_serve_one_login_session(webs):
    one, two = webs
    subprocess.run(
        [sys.executable, "-m", "hub", "user", "add", "boss", "--role", "supervisor",
         "--password-stdin", "--config", str(one.config_path)],
        input=PASSWORD + "\n", text=True, cwd=ROOT, check=True, timeout=60,
    )  # fmt: skip
    browser = Browser()
    assert browser.get(two.url + "/api/stock")[0] == 401
    assert browser.login(one.url, "boss", PASSWORD) == 200  # the redirect, followed
    assert browser.get(two.url + "/api/stock")[0] == 200
    _status, page = browser.get(two.url + "/")
    browser.post(two.url + "/logout", {"csrf_token": csrf_of(page)})
    assert browser.get(one.url + "/api/stock")[0] == 401


def test_a_change_made_through_one_web_process_wakes_the_live_pages_of_the_other(webs):
    one, two = webs
    assert two.api("GET", "/changes?since=-1")["version"] == 0
    answer: list[dict] = []
    poll = threading.Thread(target=lambda: answer.append(two.api("GET", "/changes?since=0")))
    poll.start()  # parked until web two sees the ledger move (or 25 s)
    one.api("POST", "/api/products", [{"sku": "MUG-1", "name": "Mug"}])
    poll.join(40)
    assert answer and answer[0]["version"] >= 1


def test_failed_logins_on_one_web_process_count_on_the_other(webs):
    one, two = webs
    stranger = Browser()
    for _ in range(5):
        assert stranger.login(one.url, "boss", "wrong") == 401
    assert stranger.login(two.url, "boss", "wrong") == 429


# A central hub's worker (docs/multi-site.md) is watched as a site hub's is, on either backend.
CENTRAL = {"hub_config": 'mode = "central"\n', "extra_config": '[[sites]]\nid = "s1"\n'}


@pytest.mark.parametrize("kind", ["site", "central"])
def test_an_ingest_worker_is_503_without_its_broker_or_its_lease_heartbeat(tmp_path, broker,
                                                                           kind):  # fmt: skip
    broker.add_user("hub-1", "hub-1-secret", "hub" if kind == "site" else "central")
    broker.reload()
    proxy = FaultProxy(broker.port).start()
    worker = Hub(tmp_path / "worker", Endpoint(proxy.port), "hub-1-secret", role="ingest",
                 username="hub-1", ingest_config="lease_s = 1.0\n",
                 **(CENTRAL if kind == "central" else {}))  # fmt: skip
    try:
        worker.start()
        wait_until(lambda: worker.health()[1]["workers"], 20, "the worker listed as live")
        assert worker.health()[0] == 200
        assert [w["role"] for w in worker.health()[1]["workers"]] == ["ingest"]
        if kind == "central":  # the site's stream is the worker's
            wait_until(lambda: worker.query("SELECT worker FROM station_leases WHERE "
                                            "station = 'site:s1'")[0][0], 20, "s1 owned")  # fmt: skip

        proxy.cut()
        wait_until(lambda: worker.health()[1]["stalled"] == ["broker"], 20, "503: no broker")
        assert worker.health()[0] == 503
        proxy.restore()
        wait_until(lambda: worker.health()[0] == 200, 20, "healthy again")

        # Another process holds the ledger's write lock: the worker cannot renew its
        # leases (it would lose its stations), and says so.
        blocker = store.connect(worker.database)
        try:
            with store.rehearsal(blocker):  # the writer's lock (SQLite's, or the advisory one)
                wait_until(lambda: "leases" in worker.health()[1]["stalled"], 20,
                           "503: no leases")  # fmt: skip
                assert worker.health()[0] == 503
        finally:
            blocker.close()
        wait_until(lambda: worker.health()[0] == 200, 20, "healthy again")
    finally:
        worker.stop()
        proxy.close()


def web_heartbeat(web: Hub) -> float:
    return web.query("SELECT heartbeat FROM workers WHERE role = 'web'")[0][0]


@pytest.mark.skipif(not postgres.enabled(), reason="on SQLite every write takes the file's lock")
def test_a_web_process_renews_its_row_while_another_session_holds_the_writer_lock(tmp_path,
                                                                                  broker):  # fmt: skip
    """The web process's row says only that it is alive: it is renewed outside any writing
    transaction, so an ingest worker's long batch (here another session holding the writer
    lock) does not make a live web process look gone from /api/overview's `workers`, nor
    its /healthz say 503 (`leases`). It used to wait for the lock."""
    web = Hub(tmp_path / "web", broker, PASSWORDS["hub"], role="web",
              ingest_config="lease_s = 1.0\n").start()  # fmt: skip
    blocker = store.connect(web.database)
    try:
        wait_until(lambda: web.query("SELECT count(*) FROM workers WHERE role = 'web'") == [(1,)],
                   20, "the web process's row")  # fmt: skip
        with store.rehearsal(blocker):  # the writer lock, held by a session of no hub process
            held_from = web_heartbeat(web)
            wait_until(lambda: web_heartbeat(web) > held_from + 3, 20,
                       "the row renewed for three lease periods with the writer lock held")  # fmt: skip
            assert web.health()[0] == 200, web.health()
    finally:
        blocker.close()
        web.stop()


def test_web_processes_starting_together_agree_on_one_session_key(tmp_path):
    keys: list[str] = []
    start = threading.Barrier(8)

    def one_process() -> None:
        start.wait()
        keys.append(auth.secret_key(tmp_path, None))

    threads = [threading.Thread(target=one_process) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(keys) == 8 and len(set(keys)) == 1
    assert (tmp_path / "web-secret-key").read_text() == keys[0]
    assert [p.name for p in tmp_path.iterdir()] == ["web-secret-key"]


def test_sales_orders_on_the_intake_topic_are_taken_by_the_ingest_workers(tmp_path, broker):
    # A shared subscription: each order goes to one of the workers (saving one twice would
    # be harmless, an order is replaced whole, but the broker shares them out).

    broker.add_user("erp_test", "erp-secret", "integration")
    workers = []
    for i in (1, 2):
        broker.add_user(f"hub-{i}", f"hub-{i}-secret", "hub")
        workers.append(Hub(tmp_path / f"worker-{i}", broker, f"hub-{i}-secret", role="ingest",
                           username=f"hub-{i}", data_dir=tmp_path / "data"))  # fmt: skip
    broker.reload()
    (tmp_path / "data").mkdir()
    conn = store.connect(workers[0].database)
    store.create_schema(conn)
    catalog.upsert_products(conn, Topics("test"), [Product(sku="MUG-1", name="Mug")])
    conn.close()
    erp = TestClient(broker.port, "erp_test", "erp-secret")
    try:
        for worker in workers:
            worker.start()
        for i in range(10):
            order = Order(order=f"SO-{i}", lines=[OrderLine(sku="MUG-1", qty=1)])
            erp.publish(Topics("test").order_intake, encode(order))
        wait_until(lambda: workers[0].query("SELECT count(*) FROM orders")[0][0] == 10, 30,
                   "the ten orders saved")  # fmt: skip
        for worker in workers:
            worker.stop()
        assert workers[0].query("SELECT topic, reason FROM dead_letters") == []
    finally:
        erp.close()
        for worker in workers:
            worker.stop()
