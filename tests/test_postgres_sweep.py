"""A test run killed before its clean-up (a timeout, SIGKILL) leaves its PostgreSQL server
running and its folder in /tmp; the next run stops and removes it (tests/postgres.py)."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests import postgres

pytestmark = pytest.mark.sqlite_only  # the sweep is the same whichever backend a pass tests


@pytest.fixture
def parent():
    try:
        postgres.pg_bin("initdb")
    except RuntimeError as exc:
        pytest.skip(str(exc))
    folder = Path(tempfile.mkdtemp())
    folder.chmod(0o711)  # as root the server runs as `postgres`, which must reach it
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def owned_by(folder: Path, pid: int) -> Path:
    folder.mkdir()
    (folder / postgres.OWNER).write_text(str(pid))
    return folder


def ended_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_cluster_whose_run_has_ended_is_stopped_and_removed(parent):
    left = postgres.Cluster(owned_by(parent / f"{postgres.PREFIX}left", ended_pid())).start()
    server = int((left.dir / "data" / "postmaster.pid").read_text().split()[0])
    mine = owned_by(parent / f"{postgres.PREFIX}mine", os.getpid())
    being_made = parent / f"{postgres.PREFIX}new"
    being_made.mkdir()
    assert postgres.sweep_stale(parent) == [left.dir]
    assert not left.dir.exists() and not postgres.alive(server)
    assert mine.exists() and being_made.exists()


def test_a_folder_left_without_a_server_is_removed(parent):
    left = owned_by(parent / f"{postgres.PREFIX}left", ended_pid())
    (left / "data").mkdir()
    assert postgres.sweep_stale(parent) == [left]
    assert not left.exists()
