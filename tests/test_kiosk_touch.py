"""POST /touch over real HTTP: same-origin JSON only, known commands only, nothing else
reaches the core."""

import http.client
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


def request_as(server: KioskServer, method: str, path: str, host: str, body: bytes = b""):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    origin = f"http://{host}"
    connection.request(method, path, body=body or None,
                       headers={"Host": host, "Origin": origin, **JSON})  # fmt: skip
    answer = connection.getresponse()
    status, text = answer.status, answer.read().decode()
    connection.close()
    return status, text


@pytest.mark.parametrize("path", ["/touch", "/snapshot", "/"])
def test_kiosk_refuses_a_foreign_host_name_dns_rebinding(kiosk, path):
    # evil.example resolved to this machine: the browser sends its own name as Host and
    # Origin, which agree with each other, so only the Host allowlist stops it.
    server, touches = kiosk
    method = "POST" if path == "/touch" else "GET"
    host = f"evil.example:{server.port}"
    status, text = request_as(server, method, path, host, b'{"command": "override"}')
    assert status == 421
    assert "unknown Host 'evil.example:" in json.loads(text)["error"]
    assert touches.empty()


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "[::1]", "bench-3.local"])
def test_kiosk_answers_to_its_own_names(name):
    touches: queue.SimpleQueue = queue.SimpleQueue()
    server = KioskServer("127.0.0.1", 0, SnapshotBoard(), touches.put, ("bench-3.local",))
    server.start()
    try:
        body = b'{"command": "mode", "arg": "count"}'
        status, _ = request_as(server, "POST", "/touch", f"{name}:{server.port}", body)
        assert status == 202
        assert touches.get(timeout=5) == Touch("mode", "count")
    finally:
        server.stop()
