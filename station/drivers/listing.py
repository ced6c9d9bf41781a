"""`python -m station devices`: what is attached, and what each thing looks like.

Lists input devices (by-id / by-path links, vendor:product, name, whether it has letter
keys and so may be a keyboard-wedge scanner), serial ports (with /dev/serial/by-id
links), hidraw devices (and whether one is a HID point-of-sale scale) and printers
(/dev/usb/lp*, USB interfaces of the printer class), so a technician can copy the right
path into the station's config.
"""

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

from serial.tools import list_ports

from station.drivers.input_devices import list_inputs, stable_links

SCALE_USAGE_PAGE = bytes([0x05, 0x8D])  # HID report descriptor: Usage Page (Scale)
PRINTER_CLASS = "07"


def input_lines() -> Iterator[str]:
    try:
        inputs = list_inputs()
    except RuntimeError as exc:  # evdev missing
        yield f"  (cannot list: {exc})"
        return
    if not inputs:
        yield "  (none readable: is this user in the `input` group?)"
    for info in inputs:
        kind = "keyboard / wedge scanner" if info.is_keyboard else "no letter keys"
        yield f"  {info.path}  {info.vendor_product}  {info.name!r}  [{kind}]"
        for link in info.links:
            yield f"      {link}"


def serial_lines() -> Iterator[str]:
    links = stable_links(("/dev/serial/by-id", "/dev/serial/by-path"))
    ports = sorted(list_ports.comports(), key=lambda p: p.device)
    if not ports:
        yield "  (none)"
    for port in ports:
        vid_pid = f"{port.vid:04x}:{port.pid:04x}" if port.vid is not None else "----:----"
        yield f"  {port.device}  {vid_pid}  {port.description}  serial={port.serial_number}"
        for link in links.get(os.path.realpath(port.device), []):
            yield f"      {link}"


def hidraw_lines(sys_root: Path = Path("/sys/class/hidraw")) -> Iterator[str]:
    nodes = sorted(sys_root.glob("hidraw*")) if sys_root.is_dir() else []
    if not nodes:
        yield "  (none)"
    for node in nodes:
        uevent = _read(node / "device" / "uevent")
        fields = dict(line.split("=", 1) for line in uevent.splitlines() if "=" in line)
        descriptor = _read_bytes(node / "device" / "report_descriptor")
        kind = "HID POS scale (usage page 0x8D)" if SCALE_USAGE_PAGE in descriptor else "HID"
        ids = fields.get("HID_ID", "::").split(":")
        vid_pid = f"{ids[1][-4:].lower()}:{ids[2][-4:].lower()}" if len(ids) == 3 else "?"
        yield f"  /dev/{node.name}  {vid_pid}  {fields.get('HID_NAME', '?')!r}  [{kind}]"


def printer_lines(
    dev_root: Path = Path("/dev/usb"), usb_root: Path = Path("/sys/bus/usb/devices")
) -> Iterator[str]:
    found = False
    for node in sorted(dev_root.glob("lp*")) if dev_root.is_dir() else []:
        found = True
        yield f"  {node}  (usblp character device: url file://{node})"
    for interface in sorted(usb_root.glob("*:*")) if usb_root.is_dir() else []:
        if _read(interface / "bInterfaceClass").strip() != PRINTER_CLASS:
            continue
        found = True
        device = interface.parent / interface.name.split(":")[0]
        vid, pid = _read(device / "idVendor").strip(), _read(device / "idProduct").strip()
        product = _read(device / "product").strip()
        yield f"  USB printer {vid}:{pid}  {product!r}  (url usb://{vid}:{pid})"
    if not found:
        yield "  (none)"


def _read(path: Path) -> str:
    return _read_bytes(path).decode("latin-1")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(prog="station devices", description=__doc__).parse_args(argv)
    sections = [
        ("Input devices (keyboard-wedge scanners)", input_lines),
        ("Serial ports (serial scanners, scales)", serial_lines),
        ("hidraw devices (USB HID scales)", hidraw_lines),
        ("Printers", printer_lines),
    ]
    for title, lines in sections:
        print(title)
        for line in lines():
            print(line)
    return 0
