"""`python -m hub run --config FILE`, `check`, `user ...`, and the other hub commands."""

import argparse
import logging
import sys

from hub import user_cli


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="hub", description="Warehouse hub")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run ingest, publisher and web")
    run.add_argument("--config", required=True)
    check = sub.add_parser("check", help="check the ledger's invariants")
    check.add_argument("--config", required=True)
    user_cli.add_parser(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if args.command == "run":
        from hub.app import run_from_config

        return run_from_config(args.config)
    if args.command == "user":
        return user_cli.main(args)
    from hub.check import main as check_main

    return check_main(args.config)


if __name__ == "__main__":
    sys.exit(main())
