"""NCI / "Standard Scale Protocol" (Brecknell, Avery Weigh-Tronix, Ohaus, Fairbanks...).

Commands are one letter and CR: `W` weight, `S` status, `Z` zero. A weight reply is
`LF <weight><unit> CR LF S <h1> <h2> CR ETX`, e.g. `\\n  1.234LB\\r\\nS00\\r\\x03`; when there
is no valid weight the scale sends the status part alone, `\\nS10\\r\\x03`. Status bytes
always have bits 4 and 5 set, so they are printable: h1 bit 0 motion, bit 1 at zero,
bit 2 RAM error, bit 3 EEPROM error; h2 bit 0 under capacity, bit 1 over capacity, bit 2
ROM error, bit 3 faulty calibration, bit 6 another status byte follows. Overload, under
load and zero error show in the weight field as `^^^^^^`, `______`, `------`.
Sources: Ohaus Aviator 7000 service manual p. 49; Brecknell 6702U/6710U manual (NCI).
"""

import re
from decimal import Decimal

from station.drivers.scales.reading import (
    Reading,
    Reply,
    ScaleError,
    ScaleFault,
    Status,
    parse_number,
    split_frames,
    to_grams,
)

FRAME = re.compile(r"^\n?(?:(?P<weight>[^\r\n]*)\r\n)?S(?P<status>[\x30-\x7f]{2,4})\r$")
WEIGHT = re.compile(r"^ *(?P<value>[+-]? *[0-9.]+) *(?P<unit>[A-Za-z]+) *$")
FIELD_ERRORS = {"^": "over capacity", "_": "under capacity", "-": "zero error"}
H1_FAULTS = {0x04: "RAM error", 0x08: "EEPROM error"}
H2_FAULTS = {0x01: "under capacity", 0x02: "over capacity", 0x04: "ROM error",
             0x08: "faulty calibration"}  # fmt: skip


class NciCodec:
    poll = b"W\r"
    zero = b"Z\r"
    tare = None  # the standard protocol has no tare command

    def split(self, buffer: bytearray) -> list[bytes]:
        return split_frames(buffer, b"\x03")

    def decode(self, frame: bytes) -> Reply:
        match = FRAME.match(frame.decode("latin-1"))
        if match is None:
            raise ScaleError(f"not an NCI reply: {frame!r}")
        h1, h2 = (ord(c) for c in match["status"][:2])
        if h1 & 0x30 != 0x30 or h2 & 0x30 != 0x30:
            raise ScaleError(f"NCI status bytes without bits 4 and 5 set: {frame!r}")
        faults = [why for bit, why in H1_FAULTS.items() if h1 & bit]
        faults += [why for bit, why in H2_FAULTS.items() if h2 & bit]
        if faults:
            raise ScaleFault(", ".join(faults))
        motion = bool(h1 & 0x01)
        weight = match["weight"]
        if weight is None:
            flags = ("at zero",) if h1 & 0x02 else ()
            return Status(motion, frame, flags)
        return Reading(self._grams(weight, frame), not motion, frame)

    @staticmethod
    def _grams(weight: str, frame: bytes) -> Decimal:
        marks = set(weight.strip())
        if len(marks) == 1 and (mark := marks.pop()) in FIELD_ERRORS:
            raise ScaleFault(FIELD_ERRORS[mark])
        match = WEIGHT.match(weight)
        if match is None:
            raise ScaleError(f"NCI weight field not understood: {frame!r}")
        return to_grams(parse_number(match["value"]), match["unit"])
