"""Logins: the gate on every page, the session cookie, logout, and the rate limit."""

import pytest

from hub.web import close_app, create_app
from tests.webapp import TOKEN, TOPICS, csrf_of, login, page_csrf

pytestmark = pytest.mark.hub

PAGES = ["/", "/overview.json", "/changes?since=999999", "/stock", "/stock.csv",
         "/locations/A-01", "/products/MUG-1", "/orders", "/orders/SO-1",
         "/orders/SO-1/scan-log.csv", "/purchase-orders", "/purchase-orders/PO-1", "/counts", "/reports",
         "/reports/abc", "/reports/abc.csv", "/stations", "/stations/pack-1", "/alerts",
         "/import", "/import/products-template.csv", "/users", "/labels",
         "/labels/print?code=CMD:DONE", "/labels/locations", "/barcode.svg?code=CMD:DONE",
         "/counts/full/FC-0001", "/uplifts", "/sites", "/sites/movements", "/sites/orders",
         "/sites/reorder", "/sites/reports", "/sites/reports/valuation",
         "/sites/reports/valuation.csv"]  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_every_page_route_is_in_the_anonymous_list(app):
    public = {"/login", "/logout", "/healthz", "/livez", "/static/<path:filename>"}
    page_gets = {r.rule for r in app.url_map.iter_rules()
                 if "GET" in r.methods and not r.rule.startswith("/api/")} - public
    patterns = {"/locations/<location>": "/locations/A-01", "/products/<sku>": "/products/MUG-1",
                "/orders/<order_id>": "/orders/SO-1", "/reports/<name>": "/reports/abc",
                "/purchase-orders/<po>": "/purchase-orders/PO-1",
                "/orders/<order_id>/scan-log.csv": "/orders/SO-1/scan-log.csv",
                "/reports/<name>.csv": "/reports/abc.csv", "/stations/<station>": "/stations/pack-1",
                "/counts/full/<run>": "/counts/full/FC-0001",
                "/import/<kind>-template.csv": "/import/products-template.csv",
                "/sites/reports/<name>": "/sites/reports/valuation",
                "/sites/reports/<name>.csv": "/sites/reports/valuation.csv"}
    tested = {p.split("?")[0] for p in PAGES}
    assert {patterns.get(rule, rule) for rule in page_gets} <= tested


def test_a_right_password_logs_in_and_returns_to_the_asked_page(app, ledger):
    ledger.user("ann", "viewer")
    client = app.test_client()
    page = client.get("/login?next=/stock")
    response = client.post("/login", data={"username": "ann", "password": "pass-word",
                                           "next": "/stock", "csrf_token": csrf_of(page.text)})
    assert (response.status_code, response.headers["Location"]) == (302, "/stock")
    assert "ann (viewer)" in client.get("/stock").text


def test_a_wrong_password_is_refused(app, ledger):
    ledger.user("ann", "viewer")
    client = app.test_client()
    assert login(client, "ann", "nope").status_code == 401
    assert client.get("/").status_code == 302


def test_login_never_redirects_to_another_site(app, ledger):
    ledger.user("ann", "viewer")
    client = app.test_client()
    page = client.get("/login")
    response = client.post("/login", data={"username": "ann", "password": "pass-word",
                                           "next": "//evil.example/", "csrf_token": csrf_of(page.text)})
    assert response.headers["Location"] == "/"


def test_the_session_cookie_is_httponly_and_samesite_strict(app, ledger):
    ledger.user("ann", "viewer")
    response = login(app.test_client(), "ann")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie


def test_the_session_cookie_is_secure_over_https(app, ledger):
    ledger.user("ann", "viewer")
    client = app.test_client()
    page = client.get("/login", base_url="https://hub.local")
    response = client.post("/login", base_url="https://hub.local",
                           data={"username": "ann", "password": "pass-word",
                                 "csrf_token": csrf_of(page.text)})  # fmt: skip
    assert "Secure" in response.headers["Set-Cookie"]


def test_logout_ends_the_session_on_the_server(app, ledger):
    ledger.user("ann", "viewer")
    client = app.test_client()
    login(client, "ann")
    stolen = client.get_cookie("hub_session").value
    client.post("/logout", data={"csrf_token": page_csrf(client)})
    thief = app.test_client()
    thief.set_cookie("hub_session", stolen)
    assert thief.get("/").status_code == 302


def test_login_without_the_csrf_token_is_refused(app, ledger):
    ledger.user("ann", "viewer")
    client = app.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": "ann", "password": "pass-word"})
    assert response.status_code == 403


def test_failed_logins_for_one_name_are_limited_even_with_the_right_password(app, ledger):
    ledger.user("ann", "viewer")
    client = app.test_client()
    for _ in range(5):
        assert login(client, "ann", "guess").status_code == 401
    assert login(client, "ann").status_code == 429


def test_the_name_limit_survives_a_restart(app, ledger):
    ledger.user("ann", "viewer")
    for _ in range(5):
        login(app.test_client(), "ann", "guess")
    restarted = create_app(ledger.path, TOPICS, [TOKEN], data_dir=ledger.dir)
    try:
        assert login(restarted.test_client(), "ann").status_code == 429
    finally:
        close_app(restarted)


def test_failed_logins_from_one_address_are_limited_across_names(app, ledger):
    ledger.user("ann", "viewer")
    client = app.test_client()
    for i in range(20):
        login(client, f"nobody-{i}", "guess")
    assert login(client, "ann").status_code == 429
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert login(other, "ann").status_code == 302


def test_a_page_that_changes_nothing_in_the_session_sends_no_cookie(as_role):
    # A live page polls while its forms post: a cookie re-sent with every answer can
    # overwrite the one a POST just set (and the message it flashed).
    client = as_role("viewer")
    client.get("/")
    for path in ("/", "/counts", "/changes?since=-1"):
        assert "Set-Cookie" not in client.get(path).headers, path
