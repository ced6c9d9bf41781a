"""Serial barcode scanners (USB CDC-ACM or RS-232) through pyserial.

Frames on the scanner's suffix or an idle gap (some scanners send no suffix unless
programmed to), keeps the AIM symbology identifier (`]C1`, `]E0`, ...) the scanner sends,
and reports each code as a `Scanned` input. A vanished port surfaces as
`SerialException`, `OSError(EIO)` or `termios.error` depending on where pyserial notices;
all of them end `run`, and the supervisor reopens the port with backoff.
"""

import os
import time

import serial

from station.drivers.aim import split_aim
from station.drivers.framing import LineFramer
from station.drivers.supervisor import DeviceMissing, Supervised
from station.inputs import Emit, Scanned

URL_SCHEMES = ("socket://", "loop://", "rfc2217://")


def decode_frame(frame: bytes) -> Scanned | None:
    """Bytes of one frame -> a code with its AIM identifier split off, or None if empty."""
    # latin-1 maps every byte to a character: no byte from the wire can fail to decode.
    text = frame.decode("latin-1").strip("\r\n")
    if not text:
        return None
    code, symbology = split_aim(text)
    return Scanned(code=code, symbology=symbology)


def open_serial(port: str, **settings: object) -> serial.Serial:
    """Open a port path or pyserial URL; a path that is not there is a missing device."""
    if not port.startswith(URL_SCHEMES) and not os.path.exists(port):
        raise DeviceMissing(port)
    try:
        return serial.serial_for_url(port, exclusive=True, **settings)
    except serial.SerialException as exc:
        if isinstance(exc.__context__, FileNotFoundError) or "No such file" in str(exc):
            raise DeviceMissing(port) from None  # unplugged between the check and the open
        raise


class SerialScanner(Supervised):
    def __init__(
        self, name: str, emit: Emit, port: str, baudrate: int = 9600, idle_gap: float = 0.1
    ) -> None:
        super().__init__(name, emit)
        self.port = port
        self.baudrate = baudrate
        self.idle_gap = idle_gap

    def open(self) -> serial.Serial:
        return open_serial(self.port, baudrate=self.baudrate, timeout=self.idle_gap / 2)

    def run(self, port: serial.Serial) -> None:
        framer = LineFramer(idle_gap=self.idle_gap)
        while not self.stopping:
            data = port.read(port.in_waiting or 1)
            now = time.monotonic()
            if data:
                frames = framer.feed(data, now)
            elif port.in_waiting:
                continue  # bytes came while this thread was not running: not silence
            else:
                frames = framer.flush_idle(now)
            for frame in frames:
                scanned = decode_frame(frame)
                if scanned is not None:
                    self.emit(
                        Scanned(code=scanned.code, symbology=scanned.symbology, device=self.name)
                    )

    def close(self, port: serial.Serial) -> None:
        port.close()
