"""Simulated scales, one per protocol, speaking the real bytes on a pseudo-terminal.

`place(Decimal("1234.5"))` puts a load on: the next `settle_readings` readings are in
motion (and a little light), then the weight is stable. `remove()` takes it off.
`power_off()` / `power_on()` silence the scale while its port stays (the station then
reports the scale offline); `unplug()` / `replug()` take the port away.
"""

import threading
from decimal import Decimal

from station.drivers.scales.mt_continuous import checksum
from station.drivers.sim.pty import PtyDevice

KG = Decimal(1000)


class ScaleModel:
    """The load on the platter, as the scale measures it over successive readings."""

    def __init__(self, settle_readings: int = 2) -> None:
        self.settle_readings = settle_readings
        self._load = Decimal(0)
        self._zero = Decimal(0)
        self._settling = 0
        self._lock = threading.Lock()

    def place(self, grams: Decimal) -> None:
        with self._lock:
            self._load = Decimal(grams)
            self._settling = self.settle_readings

    def remove(self) -> None:
        self.place(Decimal(0))

    def zero(self) -> None:
        with self._lock:
            self._zero = self._load

    def reading(self) -> tuple[Decimal, bool]:
        """(grams shown, stable) for the next reading."""
        with self._lock:
            net = self._load - self._zero
            if self._settling > 0:
                self._settling -= 1
                return (net * Decimal("0.9")).quantize(Decimal(1)), False
            return net, True


class SimScale(PtyDevice):
    def __init__(self, path: str | None = None, settle_readings: int = 2) -> None:
        self.model = ScaleModel(settle_readings)
        self.powered = True
        self._received = bytearray()
        super().__init__(path)

    def place(self, grams: Decimal) -> None:
        self.model.place(grams)

    def remove(self) -> None:
        self.model.remove()

    def power_off(self) -> None:
        self.powered = False

    def power_on(self) -> None:
        self.powered = True

    def on_receive(self, data: bytes) -> None:
        if not self.powered:
            return
        self._received += data
        for command in self.commands(self._received):
            self.write(self.answer(command))

    def on_tick(self) -> None:
        if self.powered:
            self.write(self.stream())

    # --- per protocol ---------------------------------------------------------------
    def commands(self, received: bytearray) -> list[bytes]:
        """Cut whole commands off `received`."""
        return []

    def answer(self, command: bytes) -> bytes:
        return b""

    def stream(self) -> bytes:
        return b""


def _cut(received: bytearray, terminator: bytes) -> list[bytes]:
    commands = []
    while (end := received.find(terminator)) >= 0:
        commands.append(bytes(received[:end]))
        del received[: end + len(terminator)]
    return commands


class SimMtSicsScale(SimScale):
    def commands(self, received: bytearray) -> list[bytes]:
        return _cut(received, b"\r\n")

    def answer(self, command: bytes) -> bytes:
        if command in (b"SI", b"S", b"SIR"):
            grams, stable = self.model.reading()
            if command == b"S" and not stable:
                return b"S I\r\n"
            return f"S {'S' if stable else 'D'} {grams:>10.2f} g\r\n".encode()
        if command in (b"Z", b"ZI"):
            self.model.zero()
            return command + b" A\r\n"
        if command == b"T":
            grams, _ = self.model.reading()
            return f"T S {grams:>10.2f} g\r\n".encode()
        if command == b"@":
            return b'I4 A "SIM0001"\r\n'
        return b"ES\r\n"


class SimNciScale(SimScale):
    def commands(self, received: bytearray) -> list[bytes]:
        return _cut(received, b"\r")

    def answer(self, command: bytes) -> bytes:
        grams, stable = self.model.reading()
        h1 = 0x30 | (0 if stable else 0x01) | (0x02 if grams == 0 else 0)
        status = b"S" + bytes([h1, 0x30]) + b"\r\x03"
        if command == b"W":
            return f"\n{grams / KG:>8.3f}KG\r\n".encode() + status
        if command == b"Z":
            self.model.zero()
        if command in (b"Z", b"S"):
            return b"\n" + status
        return b"?\r\x03"


class SimToledoScale(SimScale):
    """8213 / 8217: weights in kg here (configure the station's `unit` to match)."""

    def commands(self, received: bytearray) -> list[bytes]:
        commands = [bytes([b]) for b in received]
        received.clear()
        return commands

    def answer(self, command: bytes) -> bytes:
        if command == b"W":
            grams, stable = self.model.reading()
            if not stable:
                return b"\x02?\x61\r"  # motion
            return f"\x02{grams / KG:7.3f}\r".encode()
        if command == b"Z":
            self.model.zero()
            return b"\x02?\x70\r"  # center of zero
        return b""


class SimMtContinuousScale(SimScale):
    tick_interval = 0.05

    def stream(self) -> bytes:
        grams, stable = self.model.reading()
        swb = 0x30 | (0 if stable else 0x08) | (0x02 if grams < 0 else 0)
        body = bytes([0x02, 0x25, swb, 0x20]) + f"{abs(int(grams)):06d}000000\r".encode()
        return body + bytes([checksum(body)])


class SimAsciiScale(SimScale):
    tick_interval = 0.05

    def stream(self) -> bytes:
        grams, stable = self.model.reading()
        return f"{'ST' if stable else 'US'},GS,{grams / KG:+09.3f}kg\r\n".encode()


class SimHidScale(SimScale):
    """Sends 6-byte HID reports (grams, exponent 0) as a Dymo does on /dev/hidrawN."""

    tick_interval = 0.05

    def stream(self) -> bytes:
        grams, stable = self.model.reading()
        if grams < 0:
            return bytes([3, 5, 2, 0, 0, 0])
        status = 3 if not stable else 2 if grams == 0 else 4
        whole = int(grams)
        return bytes([3, status, 2, 0, whole & 0xFF, whole >> 8 & 0xFF])


SIMULATORS: dict[str, type[SimScale]] = {
    "mt-sics": SimMtSicsScale,
    "nci": SimNciScale,
    "toledo-8213": SimToledoScale,
    "toledo-8217": SimToledoScale,
    "mt-continuous": SimMtContinuousScale,
    "ascii": SimAsciiScale,
    "hid-pos": SimHidScale,
}


def make_sim_scale(protocol: str, path: str | None = None, settle_readings: int = 2) -> SimScale:
    return SIMULATORS[protocol](path, settle_readings)
