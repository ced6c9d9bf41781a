"""Toledo 8213 and 8217 demand mode (also spoken by many retail scales and indicators).

The host sends one letter: `W` weight, `Z` zero, and on 8217 also `T` tare and `C` clear
tare. A valid weight comes back as `STX <weight> CR`, e.g. `\\x02 1.234\\r` (8217 may add
`N` for net); while the scale moves or is out of range it answers `STX ? <status> CR`
instead. The frame carries no unit: it is the scale's setting (8213 scales usually
weigh in lb, 8217 in kg; configure `unit`). Status byte (7 data bits, even parity): bit 0
motion, bit 1 over capacity, bit 2 under zero, bit 3 outside zero-capture range, bit 4
center of zero, bits 5 and 6 always 1. Sources: Transcell PC-150 manual, Appendix B
(8213); Odoo `SerialScaleDriver.py` (8217, 9600 7E1, echo probe `E`).
"""

import re

from station.drivers.scales.reading import (
    Ack,
    Reading,
    Reply,
    ScaleError,
    ScaleFault,
    Status,
    parse_number,
    split_frames,
    to_grams,
)

WEIGHT = re.compile(r"^\x02 *(?P<value>[0-9]*\.?[0-9]+) *N?$")
STATUS_FAULTS = {0x02: "over capacity", 0x04: "under zero"}
STATUS_FLAGS = {0x08: "outside zero-capture range", 0x10: "center of zero"}
ALWAYS_SET = 0x60


class ToledoCodec:
    serial_settings = {"bytesize": 7, "parity": "E"}
    poll = b"W"
    zero = b"Z"

    def __init__(self, unit: str, has_tare: bool) -> None:
        self.unit = unit
        self.tare = b"T" if has_tare else None

    def split(self, buffer: bytearray) -> list[bytes]:
        return split_frames(buffer, b"\r", max_length=64)

    def decode(self, frame: bytes) -> Reply:
        if frame == b"\x02E":  # the 8217 echo probe's answer
            return Ack("E", frame)
        if len(frame) == 3 and frame.startswith(b"\x02?"):
            return self._status(frame)
        match = WEIGHT.match(frame.decode("latin-1"))
        if match is None:
            raise ScaleError(f"not a Toledo reply: {frame!r}")
        # Only a weight the scale considers valid (not moving) is sent as digits.
        return Reading(to_grams(parse_number(match["value"]), self.unit), True, frame)

    @staticmethod
    def _status(frame: bytes) -> Status:
        status = frame[2] & 0x7F  # the eighth bit is parity on 7E1 lines read as 8 bits
        if status & ALWAYS_SET != ALWAYS_SET:
            raise ScaleError(f"Toledo status byte without bits 5 and 6 set: {frame!r}")
        faults = [why for bit, why in STATUS_FAULTS.items() if status & bit]
        if faults:
            raise ScaleFault(", ".join(faults))
        flags = tuple(why for bit, why in STATUS_FLAGS.items() if status & bit)
        return Status(bool(status & 0x01), frame, flags)


def toledo_8213(unit: str = "lb") -> ToledoCodec:
    return ToledoCodec(unit, has_tare=False)


def toledo_8217(unit: str = "kg") -> ToledoCodec:
    return ToledoCodec(unit, has_tare=True)
