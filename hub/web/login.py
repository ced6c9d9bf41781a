"""The login and logout pages, and the login rate limit (per user name and per address,
kept in the database so a restart does not reset it)."""

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


def _blocked(name: str, address: str, limit: LoginLimit, now: float) -> bool:
    since = now - limit.window_s
    conn = db()
    return (
        store.login_failures_since(conn, "user", name, since) >= limit.per_user
        or store.login_failures_since(conn, "addr", address, since) >= limit.per_address
    )


def _record_failure(name: str, address: str, limit: LoginLimit, now: float) -> None:
    with store.transaction(db()):
        store.login_failures_prune(db(), now - limit.window_s)
        store.login_failure_add(db(), "user", name, now)
        store.login_failure_add(db(), "addr", address, now)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never bounce a fresh login to another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
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
    if _blocked(name, address, limit, now):
        error = "Too many failed logins: wait a quarter of an hour and try again."
        return render_template("login.html", next=next_url, error=error), 429
    account = users.verify(db(), name, password)
    if account is None:
        _record_failure(name, address, limit, now)
        return render_template("login.html", next=next_url, error="Wrong name or password."), 401
    with store.transaction(db()):
        store.login_failures_clear(db(), "user", name)
    auth.start_session(account)
    return redirect(next_url)


@blueprint.post("/logout")
def logout():
    if g.get("account") is not None:
        auth.end_session()
    return redirect(url_for("login.login"))
