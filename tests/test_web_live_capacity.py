"""Live pages do not take the web server's threads: with 200 pages' live polls open on a
real hub process, `/healthz` answers, and every poll gets its update or, beyond the
waiting room's share, a retry answer at once. Never a 5xx. (No timing asserts: the
clients have timeouts, so a server that holds everything makes the test fail, not hang.)"""

import json
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from protocol.envelope import encode_event
from protocol.events import Adjustment
from protocol.topics import Topics
from scripts.lib.web_client import Client
from tests.conftest import PASSWORDS
from tests.harness import ROOT
from tests.mqtt_client import TestClient

pytestmark = pytest.mark.hub

PAGES = 200
SESSIONS = 4
PASSWORD = "live-page-password"


def _add_user(hub) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hub", "user", "add", "watcher", "--role", "viewer",
         "--password-stdin", "--config", str(hub.config_path)],
        input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _poll(port: int, cookie: str, since: int, answers: list, i: int) -> None:
    client = Client(port, timeout=90)
    client.cookie = cookie
    try:
        status, body = client.request("GET", f"/changes?since={since}")
        answers[i] = (status, json.loads(body) if status == 200 else body)
    except OSError as exc:
        answers[i] = ("no answer", repr(exc))
    # Open until the end, as a browser keeps its connection between polls.
    answers[i] += (client,)


@pytest.mark.slow
def test_healthz_answers_and_every_poll_is_answered_with_200_pages_open(hub):
    _add_user(hub)
    logins = [Client(hub.web_port, timeout=30) for _ in range(SESSIONS)]
    for login in logins:
        login.login("watcher", PASSWORD)
    status, body = logins[0].request("GET", "/overview.json")
    assert status == 200
    since = json.loads(body)["version"]

    answers: list = [None] * PAGES
    polls = [threading.Thread(target=_poll, args=(hub.web_port, logins[i % SESSIONS].cookie,
                                                  since, answers, i)) for i in range(PAGES)]  # fmt: skip
    try:
        for poll in polls:
            poll.start()
        time.sleep(1.0)  # the polls are in: parked, or answered at once

        health = Client(hub.web_port, timeout=10)
        assert health.request("GET", "/healthz")[0] == 200
        health.close()

        station = TestClient(hub.broker.port, "dock-1", PASSWORDS["dock-1"])
        event = Adjustment(sku="MUG-1", qty=1, location="A-01", reason="found")
        station.publish(Topics("test").events("dock-1"), encode_event("dock-1", "e1", 1, event))
        station.close()
        for poll in polls:
            poll.join(120)

        kinds = Counter(_kind(answer, since) for answer in answers)
        assert set(kinds) <= {"update", "retry"}, kinds
        assert kinds["update"] >= 1  # the polls that waited got the new version
        assert kinds["update"] + kinds["retry"] == PAGES
    finally:
        for answer in answers:
            if answer is not None:
                answer[-1].close()
        for login in logins:
            login.close()


def _kind(answer, since: int) -> str:
    if answer is None:
        return "unfinished"
    status, body = answer[0], answer[1]
    if status != 200:
        return f"HTTP {status}"
    if "retry_after" in body and body["retry_after"] > 0:
        return "retry"
    return "update" if body["version"] > since else "no change"
