"""Supervisors' accounts: names, roles and password hashes (werkzeug's scrypt).

Knows neither Flask nor the CLI: both `python -m hub user ...` and the web call it.
"""

import re
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

from hub import store
from hub.store.connection import Connection
from protocol.envelope import utc_now

ROLES = ("viewer", "supervisor", "admin")  # each may do what the ones before it may
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 8
# Known to everyone who has read the README; a demonstration hub alone may use them.
DEMO_PASSWORDS = frozenset({"demo"})
# Checked when the user does not exist, so a wrong name costs as long as a wrong password:
# a scrypt hash with the parameters werkzeug gives new ones (tests/test_web_user_cli.py
# checks that they still agree). Written out, not made at import: that was 0.15 s of CPU in
# every hub process (ingest workers, `hub check`), most of which never verify anyone.
DUMMY_HASH = (
    "scrypt:32768:8:1$fUvf9HHnOt0n0weo$436fdb2045904191ebac463dae86b1d86493188b40a727f6fbd1e854"
    "6b6e95248ade9690c7909c17a2318ca6f77464005a7c0319a933dc62309d81ce87c1fc58"
)


class UserError(ValueError):
    """A bad name, role or password, or a user that does not exist; says which."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str


def role_at_least(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise UserError(
            f"user name {name!r} must be 1-64 of a-z 0-9 . _ - and start with a letter or digit"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role {role!r} must be one of {', '.join(ROLES)}")
    return role


def _hash(password: str, demo: bool) -> str:
    """`demo`: the hub is a demonstration (`[hub] demo = true`), where the README's
    well-known password is allowed and nothing else changes."""
    if not (demo and password in DEMO_PASSWORDS) and len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    return generate_password_hash(password, method="scrypt")


def add(
    conn: Connection, name: str, role: str, password: str, demo: bool = False
) -> Account:
    check_name(name)
    check_role(role)
    with store.transaction(conn):
        if not store.user_add(conn, name, role, _hash(password, demo), utc_now().isoformat()):
            raise UserError(f"user {name!r} exists already (use `passwd` to change it)")
    return Account(name, role)


def remove(conn: Connection, name: str) -> None:
    with store.transaction(conn):
        if not store.user_remove(conn, name):
            raise UserError(f"no user {name!r}")


def set_password(conn: Connection, name: str, password: str, demo: bool = False) -> None:
    with store.transaction(conn):
        if not store.user_set_password(conn, name, _hash(password, demo), utc_now().isoformat()):
            raise UserError(f"no user {name!r}")


def accounts(conn: Connection) -> list[Account]:
    return [Account(u.name, u.role) for u in store.user_list(conn)]


def verify(conn: Connection, name: str, password: str) -> Account | None:
    """The account if the password is right; None for a wrong name or password alike."""
    user = store.user_get(conn, name)
    if user is None:
        check_password_hash(DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return Account(user.name, user.role)
