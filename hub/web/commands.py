"""Commands to a station (identify, reprint, resync, mode), published through the outbox."""


import msgspec

from hub import store
from hub.store.connection import Connection
from protocol.envelope import encode
from protocol.labels import MODES
from protocol.messages import Command, Resync
from protocol.topics import Topics

NAMES = ("identify", "reprint", "resync", "mode")


class CommandError(ValueError):
    """An unknown station, command or mode; says which."""


def payload(name: str, args: dict[str, str], applied: int, epoch: str | None = None) -> bytes:
    """The command's message (pure): resync asks from the first event of the station's
    current journal (`epoch`) not yet applied."""
    if name not in NAMES:
        raise CommandError(f"unknown command {name!r}: one of {', '.join(NAMES)}")
    if name == "resync":
        return encode(Resync(from_=applied + 1, epoch=epoch))
    if name == "mode" and args.get("mode") not in MODES:
        raise CommandError(f"mode must be one of {', '.join(MODES)}")
    try:
        return encode(Command(args=args))
    except msgspec.ValidationError as exc:
        raise CommandError(f"bad arguments: {exc}") from None


def send(
    conn: Connection, topics: Topics, station: str, name: str, args: dict[str, str]
) -> None:
    rows = {row["station"]: row for row in store.station_list(conn)}
    if station not in rows:
        raise CommandError(f"no station {station!r} has ever connected")
    data = payload(name, args, rows[station]["applied"], rows[station]["epoch"])
    with store.transaction(conn):
        store.outbox_put(conn, topics.command(station, name), data, retain=False)
