"""Generic ASCII indicators: `ST,GS,+00012.34kg` lines, and the A&D and CAS variants.

Fields are comma-separated: stability (`ST` stable, `US` unstable, `OL` overload;
A&D also `QT` for counting mode), often gross/net (`GS`, `NT`, `TR`), and last the
signed weight with its unit. A&D sends `ST,+00081.72  g`; CAS 22-byte frames put an ID
byte and a lamp byte (bit 7 set: not ASCII) before the weight, so lines are decoded as
latin-1, never UTF-8. Sources: Selleton / Triner indicator manuals; A&D FX-i / GF
manuals ("data format"); CAS CI-series manual (22-byte format).
"""

import re

from station.drivers.scales.reading import (
    Reading,
    ScaleError,
    ScaleFault,
    parse_number,
    split_frames,
    to_grams,
)

WEIGHT = re.compile(r"^ *(?P<value>[+-]? *[0-9]*\.?[0-9]+) *(?P<unit>[A-Za-z]+)? *$")
HEADERS = {"ST": True, "US": False}


class AsciiIndicatorCodec:
    poll = None  # most indicators stream; those in demand mode are set to stream instead
    zero = None
    tare = None

    def __init__(self, unit: str | None = None) -> None:
        self.unit = unit  # for indicators that print the weight without a unit

    def split(self, buffer: bytearray) -> list[bytes]:
        return [frame.rstrip(b"\r") for frame in split_frames(buffer, b"\n")]

    def decode(self, frame: bytes) -> Reading:
        text = frame.decode("latin-1").strip()
        header, comma, _ = text.partition(",")
        if not comma:
            raise ScaleError(f"not an indicator line: {frame!r}")
        if header == "OL":
            raise ScaleFault("overload")
        if header == "QT":
            raise ScaleError("the indicator is in counting mode (QT), not weighing")
        if header not in HEADERS:
            raise ScaleError(f"indicator line with unknown header {header!r}: {frame!r}")
        match = WEIGHT.match(text.rpartition(",")[2])
        if match is None:
            raise ScaleError(f"indicator weight not understood: {frame!r}")
        unit = match["unit"] or self.unit
        if unit is None:
            raise ScaleError(f"indicator sends no unit; set `unit` in the config: {frame!r}")
        grams = to_grams(parse_number(match["value"]), unit)
        return Reading(grams, HEADERS[header], frame)
