"""`python -m hub user add|list|remove|passwd`: manage supervisors' logins in the hub database."""

import argparse
import getpass
import sys
from pathlib import Path

from hub import store, users
from hub.config import ConfigError, load


def add_parser(sub: argparse._SubParsersAction) -> None:
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", required=True)
    user = sub.add_parser("user", help="manage web logins")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create a login", parents=[config])
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=users.ROLES)
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    actions.add_parser("list", help="list logins and their roles", parents=[config])
    remove = actions.add_parser(
        "remove", help="delete a login and end its sessions", parents=[config]
    )
    remove.add_argument("name")
    passwd = actions.add_parser(
        "passwd", help="set a new password (ends the user's sessions)", parents=[config]
    )
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise users.UserError("the two passwords differ")
    return first


def main(args: argparse.Namespace) -> int:
    try:
        config = load(args.config)
        data = Path(config.hub.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        conn = store.connect(config.database.target(data))
        store.create_schema(conn)
        return _run(conn, args, config.hub.demo)
    except (ConfigError, users.UserError) as exc:
        print(f"hub user: {exc}", file=sys.stderr)
        return 2


def _run(conn, args: argparse.Namespace, demo: bool) -> int:
    if args.action == "add":
        users.check_name(args.name)
        account = users.add(conn, args.name, args.role, _password(args.password_stdin), demo)
        print(f"added {account.name} ({account.role})")
    elif args.action == "list":
        for account in users.accounts(conn):
            print(f"{account.name}\t{account.role}")
    elif args.action == "remove":
        users.remove(conn, args.name)
        print(f"removed {args.name}")
    else:
        users.set_password(conn, args.name, _password(args.password_stdin), demo)
        print(f"password of {args.name} changed")
    return 0
