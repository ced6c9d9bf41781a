"""Web users, their sessions and failed logins (for the login limits)."""

from dataclasses import dataclass

from hub.store.connection import Connection


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str
    created: str
    updated: str


def user_add(conn: Connection, name: str, role: str, password_hash: str, now: str) -> bool:
    """False when the name is taken."""
    cur = conn.execute(
        "INSERT INTO users VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (name, role, password_hash, now, now),
    )
    return cur.rowcount == 1


def user_get(conn: Connection, name: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return User(*row) if row else None


def user_list(conn: Connection) -> list[User]:
    return [User(*row) for row in conn.execute("SELECT * FROM users ORDER BY name")]


def user_remove(conn: Connection, name: str) -> bool:
    conn.execute('DELETE FROM sessions WHERE "user" = ?', (name,))
    return conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 1


def user_set_password(conn: Connection, name: str, password_hash: str, now: str) -> bool:
    """Also ends the user's sessions: a changed password logs every browser out."""
    conn.execute('DELETE FROM sessions WHERE "user" = ?', (name,))
    return (
        conn.execute(
            "UPDATE users SET password = ?, updated = ? WHERE name = ?",
            (password_hash, now, name),
        ).rowcount
        == 1
    )


def session_add(conn: Connection, id_hash: str, user: str, created: str, expires: str) -> None:
    conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (id_hash, user, created, expires))


def session_user(conn: Connection, id_hash: str, now: str) -> tuple[str, str] | None:
    """(name, role) of a live session's user."""
    return conn.execute(
        'SELECT u.name, u.role FROM sessions s JOIN users u ON u.name = s."user" '
        "WHERE s.id_hash = ? AND s.expires > ?",
        (id_hash, now),
    ).fetchone()


def session_delete(conn: Connection, id_hash: str) -> None:
    conn.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))


def sessions_expire(conn: Connection, now: str) -> None:
    conn.execute("DELETE FROM sessions WHERE expires <= ?", (now,))


def login_failure_add(conn: Connection, kind: str, key: str, ts: float) -> int:
    return conn.execute(
        "INSERT INTO login_failures (kind, key, ts) VALUES (?, ?, ?) RETURNING id", (kind, key, ts)
    ).fetchone()[0]


def login_failure_remove(conn: Connection, row_id: int) -> None:
    conn.execute("DELETE FROM login_failures WHERE id = ?", (row_id,))


def login_failures_since(conn: Connection, kind: str, key: str, since: float) -> int:
    return conn.execute(
        "SELECT count(*) FROM login_failures WHERE kind = ? AND key = ? AND ts > ?",
        (kind, key, since),
    ).fetchone()[0]


def login_failures_clear(conn: Connection, kind: str, key: str) -> None:
    conn.execute("DELETE FROM login_failures WHERE kind = ? AND key = ?", (kind, key))


def login_failures_prune(conn: Connection, before: float) -> None:
    conn.execute("DELETE FROM login_failures WHERE ts <= ?", (before,))
