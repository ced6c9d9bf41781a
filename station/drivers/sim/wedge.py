"""A simulated keyboard-wedge scanner: types codes as input events into a pipe."""

import os
import threading

from station.drivers import keymaps
from station.drivers.event_source import RawEventSource, pack_event
from station.drivers.keymaps import US, Keymap
from station.drivers.supervisor import DeviceMissing
from station.drivers.wedge_decoder import EV_KEY, EV_SYN, GS

Stroke = tuple[int, int, int]  # (type, code, value)

_KEYPAD_BY_DIGIT = {digit: code for code, digit in keymaps.KEYPAD_DIGITS.items()}


def _reverse(keymap: Keymap) -> dict[str, tuple[int, bool, bool]]:
    """Character -> (key code, shift, altgr), preferring the main keys over the keypad."""
    reverse: dict[str, tuple[int, bool, bool]] = {}
    for code in sorted(keymap.keys, key=lambda c: (c in keymaps.KEYPAD_DIGITS, c)):
        for level, char in enumerate(keymap.keys[code]):
            if char and char not in reverse:
                reverse[char] = (code, level == 1, level == 2)
    return reverse


def _tap(code: int, *held: int) -> list[Stroke]:
    strokes = [(EV_KEY, key, 1) for key in held] + [(EV_KEY, code, 1), (EV_KEY, code, 0)]
    strokes += [(EV_KEY, key, 0) for key in reversed(held)]
    # Every key event is followed by a SYN_REPORT, as the kernel sends it.
    return [s for stroke in strokes for s in (stroke, (EV_SYN, 0, 0))]


def alt_numpad(number: int, ansi: bool = True) -> list[Stroke]:
    digits = f"0{number}" if ansi else str(number)
    strokes = [(EV_KEY, keymaps.KEY_LEFTALT, 1)]
    for digit in digits:
        code = _KEYPAD_BY_DIGIT[digit]
        strokes += [(EV_KEY, code, 1), (EV_KEY, code, 0)]
    return strokes + [(EV_KEY, keymaps.KEY_LEFTALT, 0)]


def keystrokes(
    text: str, keymap: Keymap = US, gs: str = "ctrl", suffix: int | None = keymaps.KEY_ENTER
) -> list[Stroke]:
    """The events a scanner sends to type `text`; `gs` is "ctrl", "altnumpad" or a stand-in."""
    reverse = _reverse(keymap)
    strokes: list[Stroke] = []
    for char in text:
        if char == GS and gs == "ctrl":
            strokes += _tap(keymaps.KEY_RIGHTBRACE, keymaps.KEY_LEFTCTRL)
            continue
        if char == GS and gs == "altnumpad":
            strokes += alt_numpad(29)
            continue
        if char == GS:
            char = gs
        if char not in reverse:
            strokes += alt_numpad(ord(char))  # what "Alt+keypad" mode scanners do
            continue
        code, shift, altgr = reverse[char]
        held = [keymaps.KEY_LEFTSHIFT] if shift else [keymaps.KEY_RIGHTALT] if altgr else []
        strokes += _tap(code, *held)
        if char in keymap.dead:
            strokes += _tap(keymaps.KEY_SPACE)
    if suffix is not None:
        strokes += _tap(suffix)
    return strokes


def pack(strokes: list[Stroke]) -> bytes:
    return b"".join(pack_event(*stroke) for stroke in strokes)


class SimWedgeScanner:
    """Hand `open_source` to a `WedgeScanner`; then `scan()`, `unplug()`, `replug()`."""

    def __init__(self, keymap: Keymap = US, gs: str = "ctrl") -> None:
        self.keymap = keymap
        self.gs = gs
        self._plugged = True
        self._writer: int | None = None
        self._lock = threading.Lock()

    def open_source(self) -> RawEventSource:
        with self._lock:
            if not self._plugged:
                raise DeviceMissing("simulated wedge scanner is unplugged")
            self._close_writer()
            reader, self._writer = os.pipe()
        return RawEventSource(reader)

    def scan(self, code: str, symbology: str | None = None) -> None:
        self.send(keystrokes((symbology or "") + code, self.keymap, self.gs))

    def send(self, strokes: list[Stroke]) -> None:
        with self._lock:
            if self._writer is None:
                raise RuntimeError("no reader has opened the simulated scanner")
            os.write(self._writer, pack(strokes))

    def unplug(self) -> None:
        with self._lock:
            self._plugged = False
            self._close_writer()

    def replug(self) -> None:
        with self._lock:
            self._plugged = True

    def _close_writer(self) -> None:
        if self._writer is not None:
            os.close(self._writer)
            self._writer = None
