"""The login and logout pages, and the login rate limit (per user name and per address,
kept in the database so a restart does not reset it)."""

import re
import time
from dataclasses import dataclass

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from hub import store, users
from hub.web import auth, db

blueprint = Blueprint("login", __name__)


@dataclass(frozen=True)
class LoginLimit:
    window_s: float = 15 * 60
    per_user: int = 5
    per_address: int = 20


def _count_attempt(name: str, address: str, limit: LoginLimit, now: float) -> int | None:
    """Counts this attempt as failed before the password is checked, in one transaction
    with the check of the limit: parallel attempts cannot all pass the check before any is
    counted. None when the limit is reached; else the address row, taken back on success."""
    conn = db()
    since = now - limit.window_s
    with store.transaction(conn):
        if (
            store.login_failures_since(conn, "user", name, since) >= limit.per_user
            or store.login_failures_since(conn, "addr", address, since) >= limit.per_address
        ):
            return None
        store.login_failures_prune(conn, since)
        store.login_failure_add(conn, "user", name, now)
        return store.login_failure_add(conn, "addr", address, now)


# A same-site path: one slash, then printable ASCII only. Browsers drop tabs and newlines
# from a URL (`/%09/evil.example/` becomes `//evil.example/`, another host), and a newline
# cannot go into a Location header at all.
_SAME_SITE_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]*")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never bounce a fresh login to another host."""
    if target and _SAME_SITE_PATH.fullmatch(target) and "\\" not in target:
        return target
    return url_for("pages.overview")


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next=next_url, error=None)
    limit: LoginLimit = current_app.config["LOGIN_LIMIT"]
    name = request.form.get("username", "").strip().lower()
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    now = time.time()
    attempt = _count_attempt(name, address, limit, now)
    if attempt is None:
        error = "Too many failed logins: wait a quarter of an hour and try again."
        return render_template("login.html", next=next_url, error=error), 429
    account = users.verify(db(), name, password)
    if account is None:
        return render_template("login.html", next=next_url, error="Wrong name or password."), 401
    with store.transaction(db()):
        store.login_failures_clear(db(), "user", name)
        store.login_failure_remove(db(), attempt)
    auth.start_session(account)
    return redirect(next_url)


@blueprint.post("/logout")
def logout():
    if g.get("account") is not None:
        auth.end_session()
    return redirect(url_for("login.login"))
