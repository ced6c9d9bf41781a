"""MT-SICS (Mettler Toledo Standard Interface Command Set), level 0 and 1 commands.

Commands and replies are ASCII lines ending in CR LF. `SI` answers at once with the
current weight and its stability (`S S` stable, `S D` dynamic); `S` waits for a stable
weight; `Z` zeroes, `T` tares. Replies name the command, then a status, then for
weights a 10-character right-aligned value and the unit:
`S S     100.00 g`. Errors: `S I` (busy, or no stable weight in time), `S +` overload,
`S -` underload (the same for Z and T), and `ES` / `ET` / `EL` (syntax, transmission,
logical error). Source: Mettler Toledo "MT-SICS Interface Command Set" reference manual.
"""

import re
from decimal import Decimal

from station.drivers.scales.reading import (
    Ack,
    Reading,
    Reply,
    ScaleError,
    ScaleFault,
    parse_number,
    split_frames,
    to_grams,
)

REPLY = re.compile(
    r"^(?P<command>[A-Z][A-Z0-9]*) (?P<status>[A-Z+-])"
    r"(?: +(?P<value>[+-]? *[0-9.]+) +(?P<unit>[A-Za-z]+))?(?: +(?P<text>\".*\"))? *$"
)
GENERAL_ERRORS = {
    "ES": "syntax error: the balance did not recognise the command",
    "ET": "transmission error: the balance received a garbled command",
    "EL": "logical error: the balance cannot execute the command",
}
LIMITS = {
    "I": "busy or not stable in time",
    "+": "overload / upper limit",
    "-": "underload / lower limit",
}


class MtSicsCodec:
    poll = b"SI\r\n"
    zero = b"Z\r\n"
    tare = b"T\r\n"

    def split(self, buffer: bytearray) -> list[bytes]:
        return split_frames(buffer, b"\r\n")

    def decode(self, frame: bytes) -> Reply:
        text = frame.decode("latin-1").strip("\r\n")
        if text in GENERAL_ERRORS:
            raise ScaleFault(GENERAL_ERRORS[text])
        match = REPLY.match(text)
        if match is None:
            raise ScaleError(f"not an MT-SICS reply: {frame!r}")
        command, status = match["command"], match["status"]
        if status in LIMITS:
            raise ScaleFault(f"{command}: {LIMITS[status]}")
        if command in ("S", "SI", "SIR") and status in ("S", "D"):
            return Reading(self._grams(match, frame), status == "S", frame)
        if command in ("Z", "ZI") and status in ("A", "D"):
            return Ack("Z", frame)
        if command in ("T", "TI") and status in ("S", "D"):
            return Ack("T", frame, self._grams(match, frame))
        if command in ("I4", "@") and status == "A":
            return Ack("I4", frame)
        raise ScaleError(f"unexpected MT-SICS reply: {frame!r}")

    @staticmethod
    def _grams(match: re.Match[str], frame: bytes) -> Decimal:
        if match["value"] is None:
            raise ScaleError(f"MT-SICS weight reply without a weight: {frame!r}")
        return to_grams(parse_number(match["value"]), match["unit"])
