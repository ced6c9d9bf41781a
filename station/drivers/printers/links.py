"""Connections to one printer: open, ask its status, send a job's bytes, close.

ESC/POS goes through python-escpos' own transports (`Usb`, `Serial`, `Network`, `File`);
ZPL is plain bytes to TCP 9100 or a device file. `Network` connects lazily on its first
write, so `open()` here connects explicitly: an unreachable printer shows as
`PrinterMissing` before a job starts, not half-way through it.
"""

import logging
import socket
import time
from typing import Any, Protocol

from station.drivers.printers.endpoint import Endpoint
from station.drivers.printers.status import (
    DLE_EOT_OFFLINE_CAUSE,
    DLE_EOT_PAPER,
    DLE_EOT_PRINTER,
    ZPL_HOST_STATUS,
    PrinterStatus,
    ZplStatusError,
    parse_escpos,
    parse_zpl_host_status,
    zpl_strings,
)

log = logging.getLogger(__name__)

NO_STATUS_CHANNEL = "this connection cannot read the printer's status"


class PrinterMissing(Exception):
    """The printer cannot be reached (or stopped answering); nothing more can be sent."""


class SendFailed(Exception):
    """Sending stopped part-way: the printer may have printed part of the job."""


class PrinterLink(Protocol):
    def open(self) -> None: ...

    def status(self) -> PrinterStatus: ...

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class EscposLink:
    """An ESC/POS printer behind one of python-escpos' printer classes."""

    def __init__(self, printer: Any, can_read: bool = True) -> None:
        self.printer = printer
        self.can_read = can_read

    def open(self) -> None:
        try:
            self.printer.open()
        except Exception as exc:  # noqa: BLE001 - DeviceNotFoundError, USBError, OSError...
            raise PrinterMissing(_one_line(exc)) from None

    def status(self) -> PrinterStatus:
        if not self.can_read:
            return PrinterStatus(note=NO_STATUS_CHANNEL)
        try:
            printer = self._query(DLE_EOT_PRINTER)
            cause = self._query(DLE_EOT_OFFLINE_CAUSE)
            paper = self._query(DLE_EOT_PAPER)
        except Exception as exc:  # noqa: BLE001 - any I/O error means the link is gone
            raise PrinterMissing(_one_line(exc)) from None
        return parse_escpos(printer, paper, offline_cause=cause)

    def _query(self, command: bytes) -> bytes:
        # escpos' own `_raw`/`_read` are the only raw paths it offers; `query_status`
        # would do the same but hides a closed connection behind an empty reply.
        self.printer._raw(command)
        device = self.printer.device
        if isinstance(device, socket.socket):
            try:
                reply = device.recv(16)
            except TimeoutError:
                return b""
            if not reply:
                raise ConnectionError("the printer closed the connection")
            return reply
        try:
            return bytes(self.printer._read())
        except NotImplementedError:
            return b""

    def send(self, data: bytes) -> None:
        try:
            self.printer._raw(data)
        except Exception as exc:  # noqa: BLE001 - the transports raise many kinds
            raise SendFailed(_one_line(exc)) from None

    def close(self) -> None:
        try:
            self.printer.close()
        except Exception:  # noqa: BLE001 - closing a vanished device may fail too
            log.debug("closing printer failed", exc_info=True)
        # Forget the device so the next open() starts afresh (escpos keeps the handle).
        self.printer._device = False


class ZplTcpLink:
    """A ZPL printer on a raw TCP port (9100)."""

    def __init__(self, host: str, port: int, timeout: float = 3.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._sock: socket.socket | None = None

    def open(self) -> None:
        try:
            self._sock = socket.create_connection((self.host, self.port), self.timeout)
        except OSError as exc:
            raise PrinterMissing(f"cannot connect to {self.host}:{self.port}: {exc}") from None

    def status(self) -> PrinterStatus:
        assert self._sock is not None, "open() first"
        try:
            self._sock.sendall(ZPL_HOST_STATUS)
            reply = self._read_host_status()
        except OSError as exc:
            raise PrinterMissing(_one_line(exc)) from None
        if reply is None:
            # Newer firmware answers nothing while media is out or the head is open.
            return PrinterStatus(error="no reply to ~HS")
        try:
            return parse_zpl_host_status(reply)
        except ZplStatusError as exc:
            return PrinterStatus(error=str(exc))

    def _read_host_status(self) -> bytes | None:
        assert self._sock is not None
        reply = b""
        deadline = time.monotonic() + self.timeout
        while zpl_strings(reply) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(256)
            except TimeoutError:
                return None
            if not chunk:
                raise ConnectionError("the printer closed the connection")
            reply += chunk
        return reply

    def send(self, data: bytes) -> None:
        assert self._sock is not None, "open() first"
        try:
            self._sock.settimeout(self.timeout)
            self._sock.sendall(data)
        except OSError as exc:
            raise SendFailed(_one_line(exc)) from None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class DeviceFileLink:
    """Raw bytes to a device file such as /dev/usb/lp0 (ZPL; write-only, no status)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: Any = None

    def open(self) -> None:
        try:
            self._file = open(self.path, "wb", buffering=0)  # noqa: SIM115 - kept open per job
        except OSError as exc:
            raise PrinterMissing(f"{self.path}: {exc.strerror}") from None

    def status(self) -> PrinterStatus:
        return PrinterStatus(note=NO_STATUS_CHANNEL)

    def send(self, data: bytes) -> None:
        try:
            self._file.write(data)
        except OSError as exc:
            raise SendFailed(f"{self.path}: {exc.strerror}") from None

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                log.debug("closing %s failed", self.path, exc_info=True)
            self._file = None


def make_link(endpoint: Endpoint, language: str, timeout: float = 3.0) -> PrinterLink:
    """The link for a printer at `endpoint` speaking `language` ("escpos" or "zpl")."""
    if language == "zpl":
        if endpoint.scheme == "tcp":
            return ZplTcpLink(endpoint.host, endpoint.port, timeout)
        if endpoint.scheme == "file":
            return DeviceFileLink(endpoint.path)
        raise ValueError(f"ZPL over {endpoint.scheme}:// is not supported: use tcp:// or file://")
    if language != "escpos":
        raise ValueError(f"unknown printer language {language!r}: use escpos or zpl")
    return EscposLink(*_escpos_printer(endpoint, timeout))


def _escpos_printer(endpoint: Endpoint, timeout: float) -> tuple[Any, bool]:
    from escpos import printer

    if endpoint.scheme == "tcp":
        return printer.Network(endpoint.host, endpoint.port, timeout=timeout), True
    if endpoint.scheme == "usb":
        usb = printer.Usb(endpoint.vendor_id, endpoint.product_id, timeout=int(timeout * 1000))
        return usb, True
    if endpoint.scheme == "serial":
        serial = printer.Serial(endpoint.path, endpoint.baudrate, timeout=min(timeout, 0.5))
        return serial, True
    return printer.File(endpoint.path), False


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text
