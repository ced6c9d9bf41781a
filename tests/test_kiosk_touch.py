"""POST /touch over real HTTP: same-origin JSON only, known commands only, nothing else
reaches the core."""

import json
import queue
import urllib.error
import urllib.request

import pytest

from station.inputs import Touch
from station.snapshot import SnapshotBoard
from station.ui.server import KioskServer


@pytest.fixture
def kiosk():
    touches: queue.SimpleQueue = queue.SimpleQueue()
    server = KioskServer("127.0.0.1", 0, SnapshotBoard(), touches.put)
    server.start()
    yield server, touches
    server.stop()


def post(server: KioskServer, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(server.url + "touch", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def own_origin(server: KioskServer) -> str:
    return server.url.rstrip("/")


JSON = {"Content-Type": "application/json"}


def test_kiosk_touch_same_origin_json_reaches_the_core(kiosk):
    server, touches = kiosk
    body = json.dumps({"command": "mode", "arg": "receive"}).encode()
    status, _ = post(server, body, {**JSON, "Origin": own_origin(server)})
    assert status == 202
    assert touches.get(timeout=5) == Touch("mode", "receive")


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b'{"command": "done"}', {**JSON, "Origin": "http://evil.example"}, 403),
        (b'{"command": "done"}', {**JSON, "Sec-Fetch-Site": "cross-site"}, 403),
        (b"command=done", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        (b'{"command": "rm -rf"}', JSON, 400),
        (b'{"command": "short", "arg": 5}', JSON, 400),
        (b"[1, 2]", JSON, 400),
        (b"{not json", JSON, 400),
    ],
    ids=["foreign_origin", "cross_site_fetch", "form_post", "unknown", "bad_arg", "array", "junk"],
)
def test_kiosk_touch_refuses_and_emits_nothing(kiosk, body, headers, status):
    server, touches = kiosk
    got, answer = post(server, body, headers)
    assert got == status
    assert answer["error"]
    assert touches.empty()
