"""Printer addresses as URLs: tcp://host:port, usb://vid:pid, serial:///dev/..., file:///dev/...

Pure parsing, so a wrong address in the config is caught at start-up with one line.
"""

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

Scheme = Literal["tcp", "usb", "serial", "file"]
SCHEMES = ("tcp", "usb", "serial", "file")


@dataclass(frozen=True)
class Endpoint:
    scheme: Scheme
    host: str = ""
    port: int = 9100
    path: str = ""  # serial: the port; file: the device file
    vendor_id: int = 0
    product_id: int = 0
    baudrate: int = 9600  # serial: serial:///dev/ttyUSB0?baudrate=19200

    def __str__(self) -> str:
        if self.scheme == "tcp":
            return f"tcp://{self.host}:{self.port}"
        if self.scheme == "usb":
            return f"usb://{self.vendor_id:04x}:{self.product_id:04x}"
        return f"{self.scheme}://{self.path}"


def parse_endpoint(url: str) -> Endpoint:
    """Parse a printer URL; ValueError says what is wrong and what is allowed."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(
            f"unknown scheme in {url!r}: use tcp://host:9100, usb://vid:pid, "
            "serial:///dev/ttyUSB0 or file:///dev/usb/lp0"
        )
    if parts.scheme == "tcp":
        return _tcp(url, parts)
    if parts.scheme == "usb":
        return _usb(url, parts.netloc)
    if parts.netloc or not parts.path.startswith("/"):
        raise ValueError(
            f"{url!r}: give an absolute path with three slashes, e.g. file:///dev/usb/lp0"
        )
    if parts.scheme == "serial":
        query = parse_qs(parts.query)
        try:
            baudrate = int(query.get("baudrate", ["9600"])[0])
        except ValueError:
            raise ValueError(f"{url!r}: baudrate must be a number") from None
        return Endpoint("serial", path=parts.path, baudrate=baudrate)
    return Endpoint("file", path=parts.path)


def _tcp(url: str, parts) -> Endpoint:  # noqa: ANN001 - urllib's SplitResult
    try:
        port = parts.port or 9100
    except ValueError:
        raise ValueError(f"{url!r}: the port must be a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError(f"{url!r}: no host; use tcp://host:9100")
    return Endpoint("tcp", host=parts.hostname, port=port)


def _usb(url: str, netloc: str) -> Endpoint:
    vendor, _, product = netloc.partition(":")
    try:
        vendor_id, product_id = int(vendor, 16), int(product, 16)
    except ValueError:
        raise ValueError(f"{url!r}: use usb://vid:pid in hex, e.g. usb://04b8:0202") from None
    if not (0 < vendor_id <= 0xFFFF and 0 < product_id <= 0xFFFF):
        raise ValueError(f"{url!r}: vendor and product ids are 4 hex digits")
    return Endpoint("usb", vendor_id=vendor_id, product_id=product_id)
