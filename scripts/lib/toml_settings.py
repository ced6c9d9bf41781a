"""Set keys in a commented TOML config file, keeping its comments and layout.

  toml_settings.py FILE [--from TEMPLATE] [--set section.key=TOML_VALUE]... [--settings FILE|-]

--from copies TEMPLATE to FILE first (only when FILE does not exist). --settings applies
every key of every table in a TOML file (e.g. the [station]/[mqtt] block printed by
provision-station). The result must parse as TOML, or FILE is left as it was. New files
are mode 0640. Standard library only: installers run it with the system python3.
"""

import argparse
import json
import os
import re
import sys
import tomllib
from pathlib import Path

HEADER = re.compile(r"^\s*\[([A-Za-z0-9_.-]+)\]\s*(#.*)?$")
ANY_HEADER = re.compile(r"^\s*\[")


def toml_value(value: object) -> str:
    """A TOML literal for a str, bool, int, float or list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise ValueError(f"cannot write {type(value).__name__} values")


def set_key(text: str, section: str, key: str, literal: str) -> str:
    """`text` with `key = literal` in [section]: replacing the key, or its commented example."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _header(line) == section), None)
    if start is None:
        return text.rstrip("\n") + f"\n\n[{section}]\n{key} = {literal}\n"
    end = next((i for i in range(start + 1, len(lines)) if ANY_HEADER.match(lines[i])), len(lines))
    setting = re.compile(rf"^\s*{re.escape(key)}\s*=")
    example = re.compile(rf"^\s*#\s*{re.escape(key)}\s*=")
    for pattern in (setting, example):
        for i in range(start + 1, end):
            if pattern.match(lines[i]):
                lines[i] = f"{key} = {literal}"
                return "\n".join(lines) + "\n"
    lines.insert(start + 1, f"{key} = {literal}")
    return "\n".join(lines) + "\n"


def apply_settings(text: str, settings: dict) -> str:
    for section, table in settings.items():
        if not isinstance(table, dict):
            raise ValueError(f"settings: {section!r} is not a [table]")
        for key, value in table.items():
            text = set_key(text, section, key, toml_value(value))
    return text


def _header(line: str) -> str | None:
    match = HEADER.match(line)
    return match.group(1) if match else None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="toml_settings", description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--from", dest="template", type=Path)
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--settings")
    args = parser.parse_args(argv)
    try:
        if args.file.exists() or args.template is None:
            text = args.file.read_text()
        else:
            text = args.template.read_text()
        for item in args.sets:
            name, _, literal = item.partition("=")
            section, _, key = name.rpartition(".")
            text = set_key(text, section, key, literal)
        if args.settings:
            source = sys.stdin.read() if args.settings == "-" else Path(args.settings).read_text()
            text = apply_settings(text, tomllib.loads(source))
        tomllib.loads(text)
    except (OSError, ValueError) as exc:  # TOMLDecodeError is a ValueError
        print(f"toml_settings: {args.file}: {exc}", file=sys.stderr)
        return 2
    write_like(args.file, text)
    return 0


def write_like(path: Path, text: str) -> None:
    """Replace `path` in one rename, keeping its mode, owner and group (a config holding a
    password is 0640 root:warehouse: a rewrite must not make it unreadable to the service,
    nor readable to others even for a moment)."""
    old = path.stat() if path.exists() else None
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if old is not None and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
            os.fchown(fd, old.st_uid, old.st_gid)
        os.fchmod(fd, old.st_mode & 0o7777 if old is not None else 0o640)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
