"""Roles: viewers read, supervisors act, admins manage users and imports; tokens act as
supervisors; every state change from a browser needs the session's CSRF token."""

import msgspec
import pytest

from hub import users
from protocol.messages import StationStatus
from tests.webapp import TOKEN, page_csrf

pytestmark = pytest.mark.hub

BEARER = {"Authorization": f"Bearer {TOKEN}"}
STATUS = msgspec.json.encode(StationStatus(state="online", mode="pack"))


@pytest.fixture
def station(ledger):
    ledger.status("pack-1", STATUS)
    return "pack-1"


def outbox_topics(ledger) -> list[str]:
    return [row[1] for row in ledger.conn.execute("SELECT id, topic FROM outbox ORDER BY id")]


def test_a_viewer_cannot_send_a_station_command(as_role, ledger, station):
    client = as_role("viewer")
    csrf = page_csrf(client)
    response = client.post("/stations/pack-1/commands/identify", data={"csrf_token": csrf})
    assert response.status_code == 403
    assert not [t for t in outbox_topics(ledger) if "/cmd/" in t]


def test_a_supervisor_sends_a_station_command_through_the_outbox(as_role, ledger, station):
    client = as_role("supervisor")
    response = client.post("/stations/pack-1/commands/identify",
                           data={"csrf_token": page_csrf(client)})  # fmt: skip
    assert response.status_code == 302
    assert "wh/v1/test/station/pack-1/cmd/identify" in outbox_topics(ledger)


def test_a_viewer_cannot_approve_a_count_variance(as_role):
    client = as_role("viewer")
    response = client.post("/counts/variances/1/approve", data={"csrf_token": page_csrf(client)})
    assert response.status_code == 403


def test_a_supervisor_cannot_import_or_manage_users(as_role):
    client = as_role("supervisor")
    csrf = page_csrf(client)
    assert client.get("/import").status_code == 403
    assert client.post("/users", data={"csrf_token": csrf, "name": "x", "role": "admin",
                                       "password": "secret-words"}).status_code == 403  # fmt: skip
    assert client.get("/api/users").status_code == 403


def test_an_admin_adds_and_removes_users(as_role, ledger):
    client = as_role("admin")
    csrf = page_csrf(client)
    client.post("/users", data={"csrf_token": csrf, "name": "bob", "role": "viewer",
                                "password": "secret-words"})  # fmt: skip
    assert [u["name"] for u in client.get("/api/users").json["users"]] == ["admin", "bob"]
    client.post("/users/bob/remove", data={"csrf_token": csrf})
    assert [u["name"] for u in client.get("/api/users").json["users"]] == ["admin"]


def test_a_wrong_csrf_token_is_refused_on_a_form(as_role, ledger, station):
    client = as_role("supervisor")
    response = client.post("/stations/pack-1/commands/identify", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert not [t for t in outbox_topics(ledger) if "/cmd/" in t]


def test_a_session_api_post_needs_the_csrf_header(as_role, ledger, station):
    client = as_role("supervisor")
    path = "/api/stations/pack-1/commands/identify"
    assert client.post(path, json={}).status_code == 403
    csrf = client.get("/api/me").json["csrf_token"]
    assert client.post(path, json={}, headers={"X-CSRF-Token": csrf}).status_code == 202


def test_a_viewer_session_reads_the_api_but_cannot_change_anything(as_role, station):
    client = as_role("viewer")
    csrf = client.get("/api/me").json["csrf_token"]
    assert client.get("/api/stations").status_code == 200
    response = client.post("/api/products", json={"sku": "X", "name": "x"},
                           headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert response.status_code == 403


def test_a_token_acts_as_a_supervisor(app, ledger, station):
    client = app.test_client()
    assert client.get("/api/me", headers=BEARER).json == {"name": "api-token",
                                                         "role": "supervisor"}  # fmt: skip
    assert client.post("/api/stations/pack-1/commands/resync", json={},
                       headers=BEARER).status_code == 202  # fmt: skip
    assert client.get("/api/users", headers=BEARER).status_code == 403


def test_the_api_without_a_token_or_login_answers_401(app):
    response = app.test_client().post("/api/stations/pack-1/commands/identify", json={})
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_a_wrong_token_answers_401(app):
    headers = {"Authorization": "Bearer wrong"}
    assert app.test_client().get("/api/stations", headers=headers).status_code == 401


def test_removing_a_user_ends_their_session(as_role, ledger):
    client = as_role("viewer")
    users.remove(ledger.conn, "viewer")
    assert client.get("/").status_code == 302
