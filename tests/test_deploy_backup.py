"""hub/backup.py on real SQLite files in WAL mode, with a writer holding the ledger open."""

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub import backup

pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parents[1]


def make_ledger(path: Path, rows: int) -> sqlite3.Connection:
    """A WAL ledger with `rows` movements, left open (its pages still in the WAL)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE movement (seq INTEGER PRIMARY KEY, qty INTEGER)")
    db.executemany("INSERT INTO movement VALUES (?, ?)", [(i, i) for i in range(1, rows + 1)])
    return db


def count(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT count(*) FROM movement").fetchone()[0]
    finally:
        db.close()


def test_deploy_backup_copies_committed_rows_not_an_open_transaction(tmp_path):
    writer = make_ledger(tmp_path / "ledger.db", 100)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO movement VALUES (101, 1)")
    copy = backup.backup(tmp_path / "ledger.db", tmp_path / "copy.db")
    writer.execute("COMMIT")
    assert count(copy) == 100
    backup.check(copy)
    writer.close()


def test_deploy_backup_into_a_folder_names_and_prunes_copies(tmp_path):
    make_ledger(tmp_path / "ledger.db", 3).close()
    folder = tmp_path / "backups"
    folder.mkdir()
    for day in range(1, 5):
        backup.backup(tmp_path / "ledger.db", folder, now=datetime(2026, 1, day, tzinfo=UTC))
    gone = backup.prune(folder, keep=2)
    assert sorted(p.name for p in gone) == ["ledger-20260101T000000000000Z.db",
                                            "ledger-20260102T000000000000Z.db"]  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == ["ledger-20260103T000000000000Z.db",
                                                        "ledger-20260104T000000000000Z.db"]  # fmt: skip


def test_deploy_restore_puts_the_backup_back_and_keeps_the_replaced_ledger(tmp_path):
    ledger = tmp_path / "data" / "ledger.db"
    ledger.parent.mkdir()
    make_ledger(ledger, 10).close()
    copy = backup.backup(ledger, tmp_path / "copy.db")
    with sqlite3.connect(ledger) as db:
        db.execute("DELETE FROM movement")
    kept = backup.restore(copy, ledger, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert count(ledger) == 10
    assert kept.name == "ledger.db.before-restore-20260101T000000Z"
    assert count(kept) == 0


def test_deploy_restore_refuses_a_damaged_backup_and_leaves_the_ledger(tmp_path):
    ledger = tmp_path / "ledger.db"
    make_ledger(ledger, 5).close()
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 600)
    with pytest.raises(backup.BackupError):
        backup.restore(damaged, ledger)
    assert count(ledger) == 5
    assert not list(tmp_path.glob("*before-restore*"))


def test_deploy_backup_command_reads_the_data_dir_from_the_hub_config(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    make_ledger(data / "ledger.db", 7).close()
    config = tmp_path / "hub.toml"
    config.write_text(f'[hub]\nsite = "main"\ndata_dir = "{data}"\n')
    out = tmp_path / "out"
    out.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "hub", "backup", "--config", str(config), "--to", str(out),
         "--keep", "3"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (copy,) = out.iterdir()
    assert count(copy) == 7


def test_deploy_backup_command_names_a_missing_ledger(tmp_path):
    config = tmp_path / "hub.toml"
    config.write_text(f'[hub]\ndata_dir = "{tmp_path / "nothing"}"\n')
    assert backup.main(["backup", "--config", str(config), "--to", str(tmp_path)]) == 1


def test_deploy_backup_of_a_postgresql_ledger_points_to_its_own_tools(tmp_path, capsys):
    config = tmp_path / "hub.toml"
    config.write_text(f'[hub]\ndata_dir = "{tmp_path}"\n'
                      '[database]\nurl = "postgresql://hub@/warehouse"\n')  # fmt: skip
    (tmp_path / "ledger.db").write_bytes(b"")  # an old file beside it is not the ledger
    assert backup.main(["backup", "--config", str(config), "--to", str(tmp_path / "c")]) == 1
    assert "pg_dump" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
