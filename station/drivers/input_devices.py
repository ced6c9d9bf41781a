"""Finding and opening keyboard-wedge scanners among the kernel's input devices.

One scanner often makes two or three event nodes (keyboard, consumer control, system
control); only the one with letter keys (KEY_A) types barcodes. `eventN` numbers change
between boots, so a station names its scanner by `/dev/input/by-id/...`, by
`/dev/input/by-path/...` (tied to the USB port), or by "vendor:product" / name.
evdev is imported only here and only when needed, so everything else works without it.
"""

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from station.drivers.event_source import EvdevSource, EventSource, RawEventSource
from station.drivers.supervisor import DeviceMissing

KEY_A = 30
EV_KEY = 1
VENDOR_PRODUCT = re.compile(r"^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$")
LINK_DIRS = ("/dev/input/by-id", "/dev/input/by-path")


@dataclass(frozen=True)
class InputInfo:
    path: str
    name: str
    vendor_product: str
    phys: str
    is_keyboard: bool  # has letter keys: a keyboard or a keyboard-wedge scanner
    links: list[str] = field(default_factory=list)


def _evdev() -> ModuleType:
    try:
        import evdev
    except ImportError as exc:  # it compiles against kernel headers; say what is missing
        raise RuntimeError(f"evdev is not installed ({exc}): pip install evdev") from None
    return evdev


def stable_links(dirs: tuple[str, ...] = LINK_DIRS) -> dict[str, list[str]]:
    """Real node path -> the by-id / by-path links that point at it."""
    links: dict[str, list[str]] = {}
    for folder in dirs:
        root = Path(folder)
        if not root.is_dir():
            continue
        for link in sorted(root.iterdir()):
            links.setdefault(os.path.realpath(link), []).append(str(link))
    return links


def describe(device: object, links: dict[str, list[str]]) -> InputInfo:
    info = device.info  # type: ignore[attr-defined]
    keys = device.capabilities().get(EV_KEY, [])  # type: ignore[attr-defined]
    path = device.path  # type: ignore[attr-defined]
    return InputInfo(
        path=path,
        name=device.name,  # type: ignore[attr-defined]
        vendor_product=f"{info.vendor:04x}:{info.product:04x}",
        phys=device.phys or "",  # type: ignore[attr-defined]
        is_keyboard=KEY_A in keys,
        links=links.get(os.path.realpath(path), []),
    )


def list_inputs() -> list[InputInfo]:
    """Every input device this user may read (the service user needs the `input` group)."""
    evdev = _evdev()
    links = stable_links()
    found = []
    for path in sorted(evdev.list_devices()):
        try:
            device = evdev.InputDevice(path)
        except OSError:  # unplugged between listing and opening
            continue
        try:
            found.append(describe(device, links))
        finally:
            device.close()
    return found


def matches(info: InputInfo, match: str) -> bool:
    """`match` is "vendor:product" in hex, or (part of) the device name."""
    if VENDOR_PRODUCT.match(match):
        return info.vendor_product == match.lower()
    return match.casefold() in info.name.casefold()


def open_input(path: str | None = None, match: str | None = None) -> EventSource:
    """Open and grab the scanner at `path` or the first keyboard node matching `match`."""
    if path is not None:
        return _open_path(path)
    if match is not None:
        return _open_match(match)
    raise ValueError("an evdev scanner needs `input` (a path) or `match`")


def _open_path(path: str) -> EventSource:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DeviceMissing(path) from None
    if stat.S_ISFIFO(mode):  # a replayed capture or a simulated scanner writing events
        return RawEventSource(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    evdev = _evdev()
    try:
        device = evdev.InputDevice(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENODEV):
            raise DeviceMissing(path) from None
        raise
    return _grab_keyboard(device, stable_links())


def _open_match(match: str) -> EventSource:
    evdev = _evdev()
    links = stable_links()
    for path in sorted(evdev.list_devices()):
        try:
            device = evdev.InputDevice(path)
        except OSError:
            continue
        info = describe(device, links)
        if info.is_keyboard and matches(info, match):
            return _grab_keyboard(device, links)
        device.close()
    raise DeviceMissing(f"no keyboard input device matching {match!r}")


def _grab_keyboard(device: object, links: dict[str, list[str]]) -> EventSource:
    info = describe(device, links)
    if not info.is_keyboard:
        device.close()  # type: ignore[attr-defined]
        raise ValueError(
            f"{info.path} ({info.name}) has no letter keys: use the scanner's -event-kbd node"
        )
    try:
        device.grab()  # type: ignore[attr-defined]
    except OSError as exc:
        device.close()  # type: ignore[attr-defined]
        if exc.errno == errno.EBUSY:
            raise OSError(exc.errno, f"{info.path} is grabbed by another program") from None
        raise
    return EvdevSource(device)
