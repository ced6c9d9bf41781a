"""An HTTP/1.1 keep-alive client of the hub's web app that logs in like a browser (form,
CSRF token, session cookie), for the page measurements (scripts/measure-pages, bench 5)."""

import http.client
import re
import sqlite3
import urllib.parse

from hub import store, users


def ensure_user(conn: sqlite3.Connection, name: str, password: str, role: str = "admin") -> None:
    """The login the measurement uses, made once in the hub's database."""
    if store.user_get(conn, name) is None:
        users.add(conn, name, role, password)


class Client:
    def __init__(self, port: int, timeout: float = 60) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookie = ""

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict | None = None) -> tuple[int, bytes]:  # fmt: skip
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, data

    def login(self, name: str, password: str) -> None:
        _, page = self.request("GET", "/login")
        csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        form = urllib.parse.urlencode({"username": name, "password": password, "csrf_token": csrf})
        status, _ = self.request("POST", "/login", form,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"login as {name} failed: HTTP {status}")

    def close(self) -> None:
        self.conn.close()
