"""The hub's JSON API over real HTTP with random bodies, query strings and headers:
a clear 4xx with a JSON error for anything wrong, never a 500."""

import http.client
import json
import threading
import urllib.parse

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from waitress.server import create_server

from hub import store
from hub.web import close_app, create_app
from protocol.topics import Topics
from tests.faults.strategies import json_values
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub

TOKEN = "fuzz-token"
GETS = ["/healthz", "/api/stations", "/api/stock", "/api/movements", "/api/alerts",
        "/api/dead-letters", "/overview.json"]  # fmt: skip
POSTS = ["/api/products", "/api/orders"]
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hub")
    path = ledger_target(folder / "ledger.db")
    conn = store.connect(path)
    store.create_schema(conn)
    conn.close()
    app = create_app(db_path=path, topics=Topics("fuzz"), tokens=[TOKEN], data_dir=folder)
    web = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    yield web.effective_port
    web.close()
    thread.join(5)
    close_app(app)


def request(port: int, method: str, path: str, body: bytes | None, headers: dict) -> tuple:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read(), response.getheader("Content-Type", "")
    finally:
        conn.close()


query_values = st.one_of(
    st.text(max_size=20), st.integers().map(str), st.sampled_from(["", "-1", "1e9", "0x10"])
)
queries = st.dictionaries(
    st.sampled_from(["sku", "limit", "offset", "before", "since", "x"]), query_values, max_size=4
).map(urllib.parse.urlencode)
headers = st.fixed_dictionaries(
    {"Authorization": st.sampled_from([f"Bearer {TOKEN}", "Bearer nope", "Basic x", ""])},
    optional={"Content-Type": st.sampled_from(["application/json", "text/plain", "x/y"])},
)
product_like = st.fixed_dictionaries(
    {"sku": json_values | st.text(max_size=70), "name": json_values | st.text(max_size=600)},
    optional={"gtins": json_values, "unit_weight_g": json_values | st.text(max_size=10)},
)
order_like = st.fixed_dictionaries(
    {"order": json_values | st.text(max_size=20), "lines": json_values},
    optional={"status": json_values},
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(msgspec.json.encode),
    st.lists(product_like, max_size=3).map(msgspec.json.encode),
    product_like.map(msgspec.json.encode),
    order_like.map(msgspec.json.encode),
)


def assert_clear(status: int, body: bytes, content_type: str) -> None:
    assert status < 500, body[:300]
    if status >= 400 and content_type.startswith("application/json"):
        assert json.loads(body).get("error")


@SETTINGS
@given(path=st.sampled_from(GETS), query=queries, headers=headers)
def test_random_queries_get_a_clear_answer(server, path, query, headers):
    assert_clear(*request(server, "GET", f"{path}?{query}", None, headers))


@SETTINGS
@given(path=st.sampled_from(POSTS), body=bodies, headers=headers)
def test_random_bodies_get_a_clear_answer(server, path, body, headers):
    assert_clear(*request(server, "POST", path, body, headers))


@SETTINGS
@given(path=st.text(max_size=30).map(urllib.parse.quote), method=st.sampled_from(
    ["GET", "POST", "PUT", "DELETE", "PATCH"]))  # fmt: skip
def test_random_paths_and_methods_get_a_clear_answer(server, path, method):
    assert_clear(*request(server, method, f"/api/{path}", b"{}", {}))


@pytest.mark.parametrize("path", POSTS)
def test_invalid_utf8_in_a_key_gets_a_clear_answer(server, path):
    body = b'{"\x80sku":1}'
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    status, answer, _type = request(server, "POST", path, body, headers)
    assert status == 400, answer
    assert_clear(status, answer, _type)
