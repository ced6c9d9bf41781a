"""Byte transports to a scale: a serial port (pyserial) or a hidraw node (USB HID scales)."""

import errno
import os
import select
from typing import Protocol

import serial

from station.drivers.serial_scanner import open_serial
from station.drivers.supervisor import DeviceMissing

READ_TIMEOUT = 0.05  # seconds one read waits, so the loop can poll, time out and stop


class Link(Protocol):
    def read(self) -> bytes: ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class SerialLink:
    def __init__(self, port: serial.Serial) -> None:
        self.port = port

    def read(self) -> bytes:
        return self.port.read(self.port.in_waiting or 1)

    def write(self, data: bytes) -> None:
        self.port.write(data)

    def close(self) -> None:
        self.port.close()


class HidrawLink:
    """/dev/hidrawN: each read returns one whole input report."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], READ_TIMEOUT)
        if not ready:
            return b""
        data = os.read(self.fd, 64)
        if not data:
            raise OSError(errno.ENODEV, "HID scale gone")
        return data

    def write(self, data: bytes) -> None:
        raise OSError(errno.EOPNOTSUPP, "HID scales take no commands")

    def close(self) -> None:
        os.close(self.fd)


def open_link(protocol: str, port: str, baudrate: int, settings: dict[str, object]) -> Link:
    if protocol == "hid-pos":
        try:
            return HidrawLink(os.open(port, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY))
        except FileNotFoundError:
            raise DeviceMissing(port) from None
    return SerialLink(open_serial(port, baudrate=baudrate, timeout=READ_TIMEOUT, **settings))
