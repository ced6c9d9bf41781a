"""USB HID point-of-sale scales (usage page 0x8D): Dymo M10/M25 and alike, via hidraw.

Each read of /dev/hidrawN is one 6-byte data report `[0x03, status, unit, exponent,
LSB, MSB]`; weight = (LSB | MSB << 8) * 10**exponent, exponent a signed byte.
`03 04 02 00 E8 03` is 1000 g, stable. Status: 1 fault, 2 stable at zero, 3 in motion,
4 stable, 5 under zero, 6 over weight, 7 needs calibration, 8 needs re-zeroing. Units:
1 mg, 2 g, 3 kg, 11 oz, 12 lb. The weight is unsigned: a negative weight arrives as
status 5. Source: USB HID Point of Sale Usage Tables 1.02, chapter "Scale Usages".
"""

from decimal import Decimal

from station.drivers.scales.reading import Reading, ScaleError, ScaleFault, to_grams

REPORT_ID = 0x03
STABLE = {2: True, 3: False, 4: True}
FAULTS = {1: "fault", 5: "under zero", 6: "over weight", 7: "needs calibration",
          8: "needs re-zeroing"}  # fmt: skip
UNITS = {1: "mg", 2: "g", 3: "kg", 11: "oz", 12: "lb"}


class HidPosCodec:
    poll = None  # the scale sends a report whenever the weight changes
    zero = None
    tare = None

    def split(self, buffer: bytearray) -> list[bytes]:
        # hidraw hands over one whole report per read; a byte stream is cut every 6 bytes.
        frames = []
        while len(buffer) >= 6:
            frames.append(bytes(buffer[:6]))
            del buffer[:6]
        return frames

    def decode(self, frame: bytes) -> Reading:
        if len(frame) != 6 or frame[0] != REPORT_ID:
            raise ScaleError(f"not a HID scale data report: {frame.hex(' ')}")
        _, status, unit_code, exponent, low, high = frame
        if status in FAULTS:
            raise ScaleFault(FAULTS[status])
        if status not in STABLE:
            raise ScaleError(f"HID scale status {status} is unknown: {frame.hex(' ')}")
        unit = UNITS.get(unit_code)
        if unit is None:
            raise ScaleError(f"HID scale unit {unit_code} is not supported: {frame.hex(' ')}")
        signed_exponent = exponent - 256 if exponent > 127 else exponent
        value = Decimal(low | high << 8).scaleb(signed_exponent)
        return Reading(to_grams(value, unit), STABLE[status], frame)
