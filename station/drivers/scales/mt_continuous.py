"""Mettler Toledo continuous output ("Toledo format"), sent by the indicator unasked.

Each frame is 18 bytes: `STX SWA SWB SWC wwwwww tttttt CR CHK` (17 without the
checksum). The six weight digits have no decimal point: SWA bits 0-2 say where it goes.
SWB: bit 0 net, bit 1 negative, bit 2 out of range, bit 3 motion, bit 4 kg (else lb),
bit 6 not zeroed since power-up. SWC bits 0-2: 0 = lb/kg as SWB says, 1 = g, 2 = t,
3 = oz. Status bytes always have bit 5 set. CHK is the two's complement of the 7-bit sum
of all other bytes, STX and CR included, so the 7-bit sum of a whole frame is 0.
Source: Mettler Toledo IND560 / IND780 technical manuals, "Standard Continuous Output".
"""

from decimal import Decimal

from station.drivers.scales.reading import Reading, ScaleError, ScaleFault, to_grams

STX, CR = 0x02, 0x0D
# SWA bits 0-2 -> power of ten applied to the six digits.
DECIMAL_POINT = {0: 2, 1: 1, 2: 0, 3: -1, 4: -2, 5: -3, 6: -4, 7: -5}
SWC_UNITS = {1: "g", 2: "t", 3: "oz"}


def checksum(body: bytes) -> int:
    """The byte that makes the 7-bit sum of the whole frame zero."""
    return -sum(b & 0x7F for b in body) & 0x7F


class MtContinuousCodec:
    poll = None  # the indicator streams on its own
    zero = None
    tare = None

    def __init__(self, with_checksum: bool = True) -> None:
        self.with_checksum = with_checksum
        self.size = 18 if with_checksum else 17

    def split(self, buffer: bytearray) -> list[bytes]:
        frames: list[bytes] = []
        while buffer:
            start = buffer.find(STX)
            if start != 0:  # bytes before a frame start: report them, then resync
                cut = len(buffer) if start < 0 else start
                frames.append(bytes(buffer[:cut]))
                del buffer[:cut]
                continue
            if len(buffer) < self.size:
                break
            if buffer[16] != CR:  # this STX was a checksum or noise, not a frame start
                frames.append(bytes(buffer[:1]))
                del buffer[:1]
                continue
            frames.append(bytes(buffer[: self.size]))
            del buffer[: self.size]
        return frames

    def decode(self, frame: bytes) -> Reading:
        if len(frame) != self.size or frame[0] != STX or frame[16] != CR:
            raise ScaleError(f"not a continuous-output frame: {frame!r}")
        if self.with_checksum and checksum(frame[:17]) != frame[17] & 0x7F:
            raise ScaleError(f"continuous-output checksum mismatch: {frame!r}")
        swa, swb, swc = (b & 0x7F for b in frame[1:4])
        if not swa & swb & swc & 0x20:
            raise ScaleError(f"continuous-output status bytes without bit 5: {frame!r}")
        if swb & 0x04:
            raise ScaleFault("out of range")
        digits = frame[4:10].decode("latin-1").replace(" ", "0")
        if not digits.isdigit() or not digits.isascii():
            raise ScaleError(f"continuous-output weight is not digits: {frame!r}")
        value = Decimal(int(digits)).scaleb(DECIMAL_POINT[swa & 0x07])
        if swb & 0x02:
            value = -value
        unit = SWC_UNITS.get(swc & 0x07) if swc & 0x07 else ("kg" if swb & 0x10 else "lb")
        if unit is None:
            raise ScaleError(f"continuous-output unit code {swc & 0x07} is not supported")
        return Reading(to_grams(value, unit), not swb & 0x08, frame)
