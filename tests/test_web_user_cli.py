"""`python -m hub user ...` run as the real command on a real hub config."""

import subprocess
import sys

import pytest

from hub import store, users
from tests.harness import ROOT

pytestmark = pytest.mark.hub


def hub_user(config, *args, stdin: str = ""):
    return subprocess.run([sys.executable, "-m", "hub", "user", *args, "--config", str(config)],
                          input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60)


def config_in(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text(f'[hub]\ndata_dir = "{tmp_path / "data"}"\n')
    return path


def test_add_list_passwd_and_remove_a_user(tmp_path):
    config = config_in(tmp_path)
    added = hub_user(config, "add", "sam", "--role", "supervisor", "--password-stdin",
                     stdin="first-pass\n")
    assert added.returncode == 0, added.stderr
    assert hub_user(config, "list").stdout == "sam\tsupervisor\n"
    assert hub_user(config, "passwd", "sam", "--password-stdin", stdin="second-pass\n").returncode == 0
    conn = store.connect(tmp_path / "data" / "ledger.db")
    assert users.verify(conn, "sam", "second-pass") == users.Account("sam", "supervisor")
    assert users.verify(conn, "sam", "first-pass") is None
    assert hub_user(config, "remove", "sam").returncode == 0
    assert hub_user(config, "list").stdout == ""


def test_the_password_is_stored_hashed(tmp_path):
    config = config_in(tmp_path)
    hub_user(config, "add", "sam", "--role", "viewer", "--password-stdin", stdin="plain-secret\n")
    stored = store.connect(tmp_path / "data" / "ledger.db").execute(
        "SELECT password FROM users").fetchone()[0]  # fmt: skip
    assert stored.startswith("scrypt:") and "plain-secret" not in stored


def test_a_wrong_name_costs_a_hash_check_with_a_users_parameters(tmp_path):
    """users.DUMMY_HASH is written out; a werkzeug that hashed new passwords harder would
    make a wrong name quicker to refuse than a wrong password (a name could be told)."""
    config = config_in(tmp_path)
    hub_user(config, "add", "sam", "--role", "viewer", "--password-stdin", stdin="plain-secret\n")
    conn = store.connect(tmp_path / "data" / "ledger.db")
    stored = conn.execute("SELECT password FROM users").fetchone()[0]
    assert users.DUMMY_HASH.split("$")[0] == stored.split("$")[0]
    assert users.verify(conn, "nobody", "plain-secret") is None
    conn.close()


def test_bad_names_and_duplicates_are_refused_with_a_reason(tmp_path):
    config = config_in(tmp_path)
    bad = hub_user(config, "add", "Bad Name", "--role", "viewer", "--password-stdin", stdin="x1234\n")
    assert bad.returncode == 2 and "user name" in bad.stderr
    hub_user(config, "add", "sam", "--role", "viewer", "--password-stdin", stdin="pass-one-1\n")
    again = hub_user(config, "add", "sam", "--role", "admin", "--password-stdin", stdin="pass-two-2\n")
    assert again.returncode == 2 and "exists already" in again.stderr
    short = hub_user(config, "add", "kim", "--role", "viewer", "--password-stdin", stdin="x\n")
    assert short.returncode == 2 and "at least" in short.stderr
    missing = hub_user(config, "remove", "nobody")
    assert missing.returncode == 2 and "no user" in missing.stderr


def test_the_demo_password_is_refused_outside_a_demonstration_hub(tmp_path):
    config = config_in(tmp_path)
    refused = hub_user(config, "add", "kim", "--role", "viewer", "--password-stdin", stdin="demo\n")
    assert refused.returncode == 2 and "at least 8 characters" in refused.stderr
    config.write_text(config.read_text() + "demo = true\n")
    demo = hub_user(config, "add", "kim", "--role", "viewer", "--password-stdin", stdin="demo\n")
    assert demo.returncode == 0, demo.stderr
    # Even in the demo only the README's password is let through short.
    other = hub_user(config, "add", "lee", "--role", "viewer", "--password-stdin", stdin="abcd\n")
    assert other.returncode == 2 and "at least" in other.stderr
