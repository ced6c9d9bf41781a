"""Consistent copies of the hub's ledger while it runs, and putting one back.

  python -m hub.backup backup --config hub.toml --to FILE|DIR [--keep N]
  python -m hub.backup restore --config hub.toml --from FILE

Backup uses SQLite's online backup API (`Connection.backup`), which copies one consistent
snapshot even while the hub writes (WAL). With a folder as --to, the copy is named
ledger-<UTC time>.db and --keep prunes the oldest beyond N. Restore checks the file first
(integrity_check), keeps the current ledger beside it as ledger.db.before-restore-<time>,
then copies the backup in; stop the hub first (systemctl stop warehouse-hub).
"""

import argparse
import sqlite3
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

LEDGER = "ledger.db"
DEFAULT_DATA_DIR = "/var/lib/warehouse-hub"


class BackupError(Exception):
    """One line for the operator."""


def ledger_path(config: Path) -> Path:
    """`<data_dir>/ledger.db` from the hub's config ([hub] data_dir)."""
    try:
        raw = tomllib.loads(config.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BackupError(f"{config}: cannot read: {exc}") from None
    if raw.get("database", {}).get("url"):
        # PostgreSQL has its own tools, which know its files: docs/scaling.md.
        raise BackupError(f"{config}: the ledger is in PostgreSQL ([database] url): back it up "
                          "with pg_dump or a streaming-replication standby (docs/scaling.md)")
    return Path(raw.get("hub", {}).get("data_dir", DEFAULT_DATA_DIR)) / LEDGER


def backup(ledger: Path, target: Path, *, now: datetime | None = None) -> Path:
    """Copy `ledger` to `target` (a file, or a folder to name the copy in); return the copy."""
    if not ledger.exists():
        raise BackupError(f"{ledger}: no ledger to back up")
    if target.is_dir():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
        target = target / f"ledger-{stamp}.db"
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    # Only a complete copy gets the final name: a half-written file is never a "backup".
    partial.replace(target)
    return target


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest ledger-*.db in `folder`; return what went."""
    copies = sorted(folder.glob("ledger-*.db"), reverse=True)  # names sort by time
    for old in copies[keep:]:
        old.unlink()
    return copies[keep:]


def check(path: Path) -> None:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a usable SQLite database: {exc}") from None
    if result != "ok":
        raise BackupError(f"{path}: integrity check failed: {result}")


def restore(backup_file: Path, ledger: Path, *, now: datetime | None = None) -> Path | None:
    """Put `backup_file` in place of `ledger`; return where the replaced ledger was kept."""
    if not backup_file.is_file():
        raise BackupError(f"{backup_file}: no such backup")
    check(backup_file)
    kept = None
    if ledger.exists():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        kept = backup(ledger, ledger.with_name(f"{ledger.name}.before-restore-{stamp}"))
    ledger.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    target = sqlite3.connect(ledger)
    try:
        # Through SQLite, not a file copy: the -wal and -shm files stay consistent.
        source.backup(target)
    finally:
        target.close()
        source.close()
    return kept


def main(argv: list[str] | None = None) -> int:
    """`backup` or `restore` followed by its options; returns the exit status."""
    parser = argparse.ArgumentParser(prog="hub", description="Back up or restore the ledger")
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("backup", help="copy the ledger while the hub runs")
    make.add_argument("--config", type=Path, required=True)
    make.add_argument("--to", type=Path, required=True, help="a file, or a folder")
    make.add_argument("--keep", type=int, help="with a folder: keep the newest N copies")
    put = sub.add_parser("restore", help="replace the ledger with a backup (hub stopped)")
    put.add_argument("--config", type=Path, required=True)
    put.add_argument("--from", dest="source", type=Path, required=True)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if getattr(args, "keep", None) is not None and args.keep < 1:
        parser.error("--keep must be at least 1")
    try:
        ledger = ledger_path(args.config)
        if args.command == "backup":
            copy = backup(ledger, args.to)
            print(f"backed up {ledger} to {copy}")
            if args.keep is not None and args.to.is_dir():
                for old in prune(args.to, args.keep):
                    print(f"removed old backup {old}")
        else:
            kept = restore(args.source, ledger)
            if kept:
                print(f"kept the replaced ledger as {kept}")
            print(f"restored {ledger} from {args.source}")
    except (BackupError, sqlite3.Error, OSError) as exc:
        print(f"hub {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
