"""HTTPS for the web page and API: Debian's nginx with the configuration install-hub writes
(hub/webproxy.py), the site CA scripts/make-ca makes, the real hub behind it, and real
HTTPS requests that verify the certificate against that CA."""

import http.client
import http.cookiejar
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from hub.config import ConfigError, load
from hub.webproxy import WebProxy
from kit.nginx import Nginx, nginx_binary
from kit.ports import free_port
from tests.conftest import PASSWORDS
from tests.harness import ROOT, Hub
from tests.webapp import csrf_of

pytestmark = [
    pytest.mark.hub,
    pytest.mark.skipif(
        nginx_binary() is None or shutil.which("openssl") is None,
        reason="nginx and openssl are needed (scripts/test installs them)",
    ),
]
PASSWORD = "a-good-long-password"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> Path:
    """The site CA and the hub's certificate, made once: RSA key generation is most of
    scripts/make-ca's time, and no test here changes them."""
    folder = tmp_path_factory.mktemp("https") / "tls"
    subprocess.run([str(ROOT / "scripts/make-ca"), str(folder), "hub.local", "127.0.0.1"],
                   check=True, capture_output=True)  # fmt: skip
    return folder


@pytest.fixture
def site(tmp_path, broker, tls):
    hub = Hub(tmp_path / "hub", broker, PASSWORDS["hub"],
              web_config='trusted_proxy = "127.0.0.1"\n').start()  # fmt: skip
    subprocess.run([sys.executable, "-m", "hub", "user", "add", "ann", "--role", "viewer",
                    "--password-stdin", "--config", str(hub.config_path)],
                   input=PASSWORD + "\n", text=True, check=True, capture_output=True,
                   cwd=ROOT)  # fmt: skip
    proxy = WebProxy(tls / "server.crt", tls / "server.key", hub_port=hub.web_port,
                     https_port=free_port(), http_port=free_port(), listen=("127.0.0.1",))  # fmt: skip
    nginx = Nginx(tmp_path / "nginx", proxy).start()
    yield hub, proxy, tls / "ca.crt"
    nginx.stop()
    hub.stop()


def https_opener(ca: Path, jar: http.cookiejar.CookieJar) -> urllib.request.OpenerDirector:
    context = ssl.create_default_context(cafile=str(ca))
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                       urllib.request.HTTPCookieProcessor(jar), NoRedirect)  # fmt: skip


def fetch(opener, url: str, data: dict | None = None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        return opener.open(urllib.request.Request(url, data=body), timeout=20)
    except urllib.error.HTTPError as answer:  # a redirect, not followed
        return answer


def test_https_serves_the_page_with_the_site_certificate_and_hsts(site):
    _, proxy, ca = site
    with fetch(https_opener(ca, http.cookiejar.CookieJar()),
               f"https://127.0.0.1:{proxy.https_port}/login") as page:  # fmt: skip
        assert page.status == 200
        assert 'name="csrf_token"' in page.read().decode()
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_certificate_from_another_ca_is_refused(site, tmp_path):
    _, proxy, _ = site
    other = tmp_path / "other-ca"
    subprocess.run([str(ROOT / "scripts/make-ca"), str(other), "hub.local", "127.0.0.1"],
                   check=True, capture_output=True)  # fmt: skip
    opener = https_opener(other / "ca.crt", http.cookiejar.CookieJar())
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(opener, f"https://127.0.0.1:{proxy.https_port}/login")


def test_plain_http_is_redirected_to_https(site):
    _, proxy, _ = site
    connection = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=20)
    connection.request("GET", "/stock?sku=MUG-1", headers={"Host": "hub.local"})
    answer = connection.getresponse()
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://hub.local:{proxy.https_port}/stock?sku=MUG-1"
    connection.close()


def test_a_login_over_https_gets_a_secure_cookie(site):
    _, proxy, ca = site
    jar = http.cookiejar.CookieJar()
    opener = https_opener(ca, jar)
    base = f"https://127.0.0.1:{proxy.https_port}"
    with fetch(opener, f"{base}/login") as page:
        token = csrf_of(page.read().decode())
    # Closed: an answer left open holds its connection, and nginx's graceful stop waits.
    with fetch(opener, f"{base}/login",
               {"username": "ann", "password": PASSWORD, "csrf_token": token}) as answer:  # fmt: skip
        assert answer.status == 302
        assert "Secure" in answer.headers["Set-Cookie"]
    with fetch(opener, f"{base}/stock") as stock:
        assert stock.status == 200 and "ann (viewer)" in stock.read().decode()


def test_forwarded_proto_from_anyone_but_the_proxy_is_ignored(site):
    # The hub trusts 127.0.0.1 (nginx); this client talks to the hub straight from another
    # loopback address and claims HTTPS: no HSTS, and its login cookie is not Secure.
    hub, _, _ = site
    connection = http.client.HTTPConnection("127.0.0.1", hub.web_port, timeout=20,
                                            source_address=("127.0.0.2", 0))  # fmt: skip
    claims = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.9.9.9"}
    connection.request("GET", "/login", headers=claims)
    page = connection.getresponse()
    html = page.read().decode()
    assert page.status == 200 and "Strict-Transport-Security" not in page.headers
    cookie = page.headers["Set-Cookie"].split(";")[0]
    body = urllib.parse.urlencode({"username": "ann", "password": PASSWORD,
                                   "csrf_token": csrf_of(html)})  # fmt: skip
    connection.request("POST", "/login", body=body, headers={
        **claims, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 302
    assert "Secure" not in answer.headers["Set-Cookie"]
    connection.close()


@pytest.mark.parametrize("address", ["*", "nginx", "127.0.0.1/8"])
def test_the_trusted_proxy_must_be_one_address(tmp_path, address):
    config = tmp_path / "hub.toml"
    config.write_text(f'[web]\ntrusted_proxy = "{address}"\n')
    with pytest.raises(ConfigError, match=r"\[web\] trusted_proxy: .* is not an IP address"):
        load(config)
