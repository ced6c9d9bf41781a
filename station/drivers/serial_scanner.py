"""Serial barcode scanners (USB CDC-ACM or RS-232) through pyserial.

Frames on the scanner's suffix or an idle gap, splits off the AIM symbology identifier
(`]C1`, `]E0`, ...) when the scanner is programmed to send one, and reports each code as
a `Scanned` input. A vanished port (unplug, or a pty closing) is reopened with backoff.
"""

import os
import re
import time

import serial

from station.drivers.framing import LineFramer
from station.drivers.supervisor import DeviceMissing, Supervised
from station.inputs import Emit, Scanned

AIM_ID = re.compile(r"^\][A-Za-z][0-9A-Za-z]")


def decode_frame(frame: bytes) -> Scanned | None:
    """Bytes of one frame -> a code with its AIM identifier split off, or None if empty."""
    text = frame.decode("latin-1").strip("\r\n")
    if not text:
        return None
    match = AIM_ID.match(text)
    if match:
        return Scanned(code=text[3:], symbology=text[:3])
    return Scanned(code=text, symbology=None)


class SerialScanner(Supervised):
    def __init__(
        self, name: str, emit: Emit, port: str, baudrate: int = 9600, idle_gap: float = 0.1
    ) -> None:
        super().__init__(name, emit)
        self.port = port
        self.baudrate = baudrate
        self.idle_gap = idle_gap

    def open(self) -> serial.Serial:
        if not self.port.startswith(("socket://", "loop://", "rfc2217://")) and not os.path.exists(
            self.port
        ):
            raise DeviceMissing(self.port)
        return serial.serial_for_url(
            self.port, baudrate=self.baudrate, timeout=self.idle_gap / 2, exclusive=True
        )

    def run(self, port: serial.Serial) -> None:
        framer = LineFramer(idle_gap=self.idle_gap)
        while not self.stopping:
            data = port.read(port.in_waiting or 1)
            now = time.monotonic()
            frames = framer.feed(data, now) if data else framer.flush_idle(now)
            for frame in frames:
                scanned = decode_frame(frame)
                if scanned is not None:
                    self.emit(
                        Scanned(code=scanned.code, symbology=scanned.symbology, device=self.name)
                    )

    def close(self, port: serial.Serial) -> None:
        port.close()
