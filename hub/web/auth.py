"""Who may do what: systems by Bearer token (config), supervisors by login session.

A token acts as a supervisor. A session is a random id in a signed, HttpOnly,
SameSite=Strict cookie (Secure over HTTPS); the database keeps only its SHA-256, so logout
and removing a user end it at once. Every state-changing request from a browser carries
the session's CSRF token (form field `csrf_token` or header `X-CSRF-Token`).
"""

import hashlib
import hmac
import os
import secrets
from datetime import timedelta
from functools import wraps
from pathlib import Path

from flask import Flask, abort, current_app, g, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from hub import store
from hub.users import Account, role_at_least
from hub.web import db
from protocol.envelope import utc_now

SESSION_HOURS = 12  # one shift
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOKEN_ACCOUNT = Account("api-token", "supervisor")


class _SessionInterface(SecureCookieSessionInterface):
    """Secure cookies whenever the request came over HTTPS (directly or via a proxy that
    says so), so the same hub works on a plain LAN address and behind TLS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def secret_key(data_dir: Path, configured: str | None) -> str:
    """The configured key, or one generated once and kept (mode 0600) in the data dir."""
    if configured:
        return configured
    path = data_dir / "web-secret-key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    # Several web processes may start at once: the key is written whole under another
    # name, then linked into place; whoever comes second reads the first one's key.
    key = secrets.token_urlsafe(48)
    draft = data_dir / f".web-secret-key.{secrets.token_hex(8)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(draft, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        draft.unlink()
    return key


def init_app(app: Flask, key: str) -> None:
    app.secret_key = key
    app.session_interface = _SessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="hub_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        # The cookie is only re-sent when the session changed. Re-sending it on every
        # response let a request made with the previous cookie (a live page's poll, sent
        # while a form's POST was under way) overwrite the cookie that POST set, and with
        # it the message it flashed. The session's real expiry is in the database.
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    app.before_request(_identify)
    app.before_request(_check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"account": g.get("account")})


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _bearer() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _identify() -> None:
    """Sets g.account (None when anonymous) and g.via_token."""
    g.account, g.via_token = None, False
    if request.endpoint == "static":
        return  # public files: no database round trip for each
    token = _bearer()
    if token is not None:
        valid = current_app.config["API_TOKENS"]
        if any(hmac.compare_digest(token.encode(), t.encode()) for t in valid):
            g.account, g.via_token = TOKEN_ACCOUNT, True
        return
    sid = session.get("sid")
    if sid:
        row = store.session_user(db(), _hash(sid), utc_now().isoformat())
        if row:
            g.account = Account(*row)
        else:
            session.pop("sid", None)


def _check_csrf():
    if request.method not in UNSAFE or g.via_token:
        return None
    if g.account is None and request.path.startswith("/api/"):
        return None  # the view answers 401: say what is missing first
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf")
    if expected and hmac.compare_digest(sent.encode(), expected.encode()):
        return None
    if request.path.startswith("/api/"):
        return _json_error(403, "missing or wrong CSRF token (send the X-CSRF-Token header)")
    abort(403, "The form has expired or did not come from this site: reload and try again.")


def start_session(account: Account) -> None:
    """A fresh session id and CSRF token at login (no fixation of an earlier cookie)."""
    session.clear()
    sid = secrets.token_urlsafe(32)
    now = utc_now()
    with store.transaction(db()):
        store.sessions_expire(db(), now.isoformat())
        store.session_add(db(), _hash(sid), account.name, now.isoformat(),
                          (now + timedelta(hours=SESSION_HOURS)).isoformat())  # fmt: skip
    session.permanent = True
    session["sid"] = sid
    session["csrf"] = secrets.token_urlsafe(32)
    g.account = account


def end_session() -> None:
    sid = session.get("sid")
    if sid:
        with store.transaction(db()):
            store.session_delete(db(), _hash(sid))
    session.clear()
    g.account = None


def _json_error(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="warehouse-hub"'
    return response


def api_role(needed: str):
    """API views: 401 without a token or session, 403 below the `needed` role."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            account = g.get("account")
            if account is None:
                return _json_error(
                    401, "a valid 'Authorization: Bearer TOKEN' header or a login is required"
                )
            if not role_at_least(account.role, needed):
                return _json_error(403, f"this needs the {needed} role (you are {account.role})")
            return view(*args, **kwargs)

        wrapper.required_role = needed
        return wrapper

    return decorate


def require_token(view):
    """API views: reading needs any login or token; changing anything needs a supervisor."""
    reader, writer = api_role("viewer")(view), api_role("supervisor")(view)

    @wraps(view)
    def wrapper(*args, **kwargs):
        return (writer if request.method in UNSAFE else reader)(*args, **kwargs)

    wrapper.required_role = "viewer (supervisor to change)"
    return wrapper


def importer(view):
    """API views that import files: an admin login, or an API token (the systems that feed
    the hub its master data act as supervisors otherwise)."""
    admin = api_role("admin")(view)

    @wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs) if g.get("via_token") else admin(*args, **kwargs)

    wrapper.required_role = "admin (or an API token)"
    return wrapper


def page_role(needed: str):
    """Page views: anonymous users go to the login page, then come back."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            account = g.get("account")
            if account is None:
                return redirect(url_for("login.login", next=request.full_path.rstrip("?")))
            if not role_at_least(account.role, needed):
                abort(403, f"This needs the {needed} role; you are signed in as {account.role}.")
            return view(*args, **kwargs)

        return wrapper

    return decorate
