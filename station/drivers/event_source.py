"""Sources of input events for the keyboard-wedge reader: anything with `fileno()` and `read()`.

`RawEventSource` reads packed `struct input_event` records from any file descriptor: a
pipe or FIFO (tests, the simulated scanner, replaying a capture) or an event node.
`EvdevSource` wraps an evdev `InputDevice` (the real scanner, grabbed). Both raise
`OSError(ENODEV)` when the device is gone, which is what the kernel does on unplug.
"""

import errno
import os
import struct
from typing import NamedTuple, Protocol

# struct input_event: struct timeval (two longs), __u16 type, __u16 code, __s32 value.
# Native sizes: 24 bytes on 64-bit, 16 on 32-bit Raspberry Pi OS.
EVENT = struct.Struct("llHHi")


class RawEvent(NamedTuple):
    sec: int
    usec: int
    type: int
    code: int
    value: int


class EventSource(Protocol):
    def fileno(self) -> int: ...

    def read(self) -> list[RawEvent]: ...

    def close(self) -> None: ...


def pack_event(type_: int, code: int, value: int, sec: int = 0, usec: int = 0) -> bytes:
    return EVENT.pack(sec, usec, type_, code, value)


class RawEventSource:
    """Packed input_event records from a file descriptor (owned: closed by `close()`)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._partial = b""

    def fileno(self) -> int:
        return self._fd

    def read(self) -> list[RawEvent]:
        try:
            data = os.read(self._fd, EVENT.size * 64)
        except BlockingIOError:
            return []
        if not data:  # the writer went away: the same as an unplugged device
            raise OSError(errno.ENODEV, "input event source closed")
        data = self._partial + data
        whole = len(data) - len(data) % EVENT.size
        self._partial = data[whole:]
        return [RawEvent(*fields) for fields in EVENT.iter_unpack(data[:whole])]

    def close(self) -> None:
        os.close(self._fd)


class EvdevSource:
    """An evdev `InputDevice`, grabbed so that its keystrokes reach no console or desktop."""

    def __init__(self, device: object) -> None:
        self.device = device

    def fileno(self) -> int:
        return self.device.fd  # type: ignore[attr-defined]

    def read(self) -> list[RawEvent]:
        try:
            events = list(self.device.read())  # type: ignore[attr-defined]
        except BlockingIOError:
            return []
        return [RawEvent(e.sec, e.usec, e.type, e.code, e.value) for e in events]

    def close(self) -> None:
        self.device.close()  # type: ignore[attr-defined]
