"""`python -m hub run --config FILE [--role all|ingest|web]`, `check [--site S]`, `user ...`,
`backup`, `restore`, `migrate-db`."""

import argparse
import logging
import sys

from hub import user_cli


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("backup", "restore"):
        from hub.backup import main as backup_main

        return backup_main(argv)
    parser = argparse.ArgumentParser(prog="hub", description="Warehouse hub")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run ingest, publisher and web")
    run.add_argument("--config", required=True)
    run.add_argument(
        "--role", choices=("all", "ingest", "web"), default="all",
        help="all: the whole hub in one process (default); ingest: one of several workers "
        "applying the stations it owns; web: pages and API only (docs/scaling.md)",
    )  # fmt: skip
    check = sub.add_parser("check", help="check the ledger's invariants")
    check.add_argument("--config", required=True)
    check.add_argument("--site", help="on a central hub: compare its replay of this site "
                                      "with the site's own figures")
    user_cli.add_parser(sub)
    move = sub.add_parser("migrate-db", help="move the ledger from SQLite to PostgreSQL "
                          "(hub stopped; docs/scaling.md)")  # fmt: skip
    move.add_argument("--from", dest="source", required=True, help="the SQLite ledger file")
    move.add_argument("--to", dest="url", required=True,
                      help="postgresql://user:password@host/dbname, an empty database")  # fmt: skip
    sub.add_parser("backup", help="copy the ledger while the hub runs (see backup --help)")
    sub.add_parser("restore", help="replace the ledger with a backup (see restore --help)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if args.command == "run":
        from hub.app import run_from_config

        return run_from_config(args.config, args.role)
    if args.command == "user":
        return user_cli.main(args)
    if args.command == "migrate-db":
        from hub.migrate_db import main as migrate_main

        return migrate_main(args.source, args.url)
    if args.site:
        from hub.site_check import main as site_check_main

        return site_check_main(args.config, args.site)
    from hub.check import main as check_main

    return check_main(args.config)


if __name__ == "__main__":
    sys.exit(main())
