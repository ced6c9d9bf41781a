"""Keyboard-wedge decoding: a stream of input events -> the codes the scanner typed.

Pure: feed events (anything with `type`, `code`, `value`, like evdev's `InputEvent`) and
the monotonic time they were read, and call `flush_idle` when the device was seen quiet;
get finished codes back. Tracks Shift, Ctrl, AltGr
and Caps Lock itself (evdev gives key positions, not characters), understands the
scanner's Alt+numpad mode, turns Ctrl+] (or a configured printable stand-in) into the
GS1 group separator, ignores autorepeat, and drops a half-read code on SYN_DROPPED.
"""

import logging
from dataclasses import dataclass, field
from typing import Protocol

from station.drivers import keymaps
from station.drivers.keymaps import Keymap

log = logging.getLogger(__name__)

EV_SYN = 0
EV_KEY = 1
SYN_DROPPED = 3
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2

GS = "\x1d"
UNDECODABLE = "\ufffd"  # stands for a key the layout cannot type, so the code fails visibly
TERMINATORS = frozenset({keymaps.KEY_ENTER, keymaps.KEY_KPENTER, keymaps.KEY_TAB})
SHIFTS = frozenset({keymaps.KEY_LEFTSHIFT, keymaps.KEY_RIGHTSHIFT})
CTRLS = frozenset({keymaps.KEY_LEFTCTRL, keymaps.KEY_RIGHTCTRL})


class KeyEvent(Protocol):
    type: int
    code: int
    value: int


@dataclass
class WedgeDecoder:
    keymap: Keymap = keymaps.US
    gs_substitute: str | None = None  # a printable character the scanner types for GS
    idle_gap: float = 0.1  # seconds of silence that end a code sent without a suffix
    _chars: list[str] = field(default_factory=list)
    _held: set[int] = field(default_factory=set)
    _caps_lock: bool = False
    _alt_digits: str = ""
    _after_dead: bool = False
    _last: float = 0.0

    def feed(self, event: KeyEvent, now: float) -> list[str]:
        """One event read at `now` -> the codes it finishes (usually none).

        Never ends a code on time: events read late may have been typed long ago (a reader
        not scheduled on a busy machine), so only the reader, having just seen the device
        quiet, calls `flush_idle` (as the serial scanner's framing does)."""
        codes: list[str] = []
        if event.type == EV_SYN and event.code == SYN_DROPPED:
            self._drop("the kernel dropped events (SYN_DROPPED)")
        elif event.type == EV_KEY:
            self._last = now
            codes += self._key(event.code, event.value)
        return codes

    def flush_idle(self, now: float) -> list[str]:
        """The pending code, if the scanner has been quiet for `idle_gap`."""
        if self._chars and now - self._last >= self.idle_gap:
            return self._finish()
        return []

    # --- keys -----------------------------------------------------------------------
    def _key(self, code: int, value: int) -> list[str]:
        if value == KEY_REPEAT:  # a stalled scanner held a key: the repeat is not typed
            return []
        if value == KEY_UP:
            self._held.discard(code)
            if code == keymaps.KEY_LEFTALT:
                self._end_alt_code()
            return []
        self._held.add(code)
        if code in TERMINATORS:
            return self._finish()
        if code == keymaps.KEY_CAPSLOCK:
            self._caps_lock = not self._caps_lock
        elif code in _MODIFIERS:
            pass
        elif keymaps.KEY_LEFTALT in self._held:
            self._alt_key(code)
        elif self._held & CTRLS:
            self._ctrl_key(code)
        else:
            self._type(code)
        return []

    def _alt_key(self, code: int) -> None:
        digit = keymaps.KEYPAD_DIGITS.get(code)
        if digit is not None:
            self._alt_digits += digit

    def _end_alt_code(self) -> None:
        digits, self._alt_digits = self._alt_digits, ""
        if digits:
            self._chars.append(alt_numpad_char(digits))

    def _ctrl_key(self, code: int) -> None:
        char = keymaps.CONTROL_CHARS.get(code)
        if char is None:
            log.warning("scanner typed Ctrl with key %d, which is no control character", code)
            char = UNDECODABLE
        self._chars.append(char)

    def _type(self, code: int) -> None:
        shift = bool(self._held & SHIFTS)
        if self._caps_lock and self.keymap.is_letter(code):
            shift = not shift
        char = self.keymap.char(code, shift, keymaps.KEY_RIGHTALT in self._held)
        if char is None:
            log.warning("key %d types nothing in the %s layout", code, self.keymap.name)
            char = UNDECODABLE
        if char == " " and self._after_dead:
            # A dead accent is typed on its own as accent + space: the space is not data.
            self._after_dead = False
            return
        self._after_dead = char in self.keymap.dead
        if char == self.gs_substitute:
            char = GS
        self._chars.append(char)

    # --- codes ----------------------------------------------------------------------
    def _finish(self) -> list[str]:
        code = "".join(self._chars)
        self._chars.clear()
        self._after_dead = False
        return [code] if code else []

    def _drop(self, why: str) -> None:
        if self._chars:
            log.warning("dropped a partial code %r: %s", "".join(self._chars), why)
        self._chars.clear()
        self._alt_digits = ""
        self._after_dead = False
        # Key-up events may have been lost too: forget what we thought was held.
        self._held.clear()


_MODIFIERS = frozenset(
    {*SHIFTS, *CTRLS, keymaps.KEY_LEFTALT, keymaps.KEY_RIGHTALT, keymaps.KEY_CAPSLOCK, 125, 126}
)


def alt_numpad_char(digits: str) -> str:
    """Windows Alt codes: a leading 0 means the ANSI code page (cp1252), else OEM (cp437)."""
    number = int(digits)
    if number > 0x10FFFF:
        return UNDECODABLE
    if number < 128 or number > 255:
        return chr(number)
    codec = "cp1252" if digits.startswith("0") else "cp437"
    try:
        return bytes([number]).decode(codec)
    except UnicodeDecodeError:  # the five holes in cp1252
        return chr(number)
