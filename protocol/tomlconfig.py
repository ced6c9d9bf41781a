"""Loading a TOML config into msgspec Structs, with one-line errors (station and hub)."""

import tomllib
from typing import TypeVar

import msgspec

T = TypeVar("T")


class ConfigError(Exception):
    """One line: which file, which key, what is allowed."""


def parse_config(text: str, cls: type[T], source: str) -> T:
    """Parse TOML into `cls`; any error becomes one `ConfigError` line naming `source`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return msgspec.convert(raw, type=cls)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {_readable(str(exc))}") from None


def _readable(message: str) -> str:
    # msgspec says "... - at `$.mqtt.port`": name the key the way the TOML file does.
    if " - at `$." in message:
        what, where = message.rsplit(" - at `$.", 1)
        return f"[{where.rstrip('`')}] {what}"
    return message
