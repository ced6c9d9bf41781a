"""Keyboard layouts for keyboard-wedge scanners: Linux key code -> the characters it types.

evdev delivers key positions, not characters, so the layout the scanner is programmed
for must be known here. Each table maps a key code to its (plain, Shift, AltGr) levels;
an empty string means the level types nothing. Key codes are the kernel's
(`linux/input-event-codes.h`), written out so the pure decoder needs no evdev import.
"""

from dataclasses import dataclass, field

# The kernel's key codes for the keys a scanner uses.
KEY_ESC = 1
KEY_TAB = 15
KEY_ENTER = 28
KEY_LEFTCTRL = 29
KEY_LEFTSHIFT = 42
KEY_RIGHTSHIFT = 54
KEY_LEFTALT = 56
KEY_SPACE = 57
KEY_CAPSLOCK = 58
KEY_KPENTER = 96
KEY_RIGHTCTRL = 97
KEY_RIGHTALT = 100
KEY_RIGHTBRACE = 27

KEYPAD_DIGITS = {82: "0", 79: "1", 80: "2", 81: "3", 75: "4", 76: "5", 77: "6", 71: "7", 72: "8",
                 73: "9"}  # fmt: skip

# Key rows by position, left to right, as the kernel numbers them.
_DIGIT_ROW = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]  # 1..0, minus, equal
_TOP_ROW = [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27]  # q..p, [, ]
_HOME_ROW = [30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40]  # a..l, ;, '
_BOTTOM_ROW = [44, 45, 46, 47, 48, 49, 50, 51, 52, 53]  # z..m, comma, dot, slash
KEY_GRAVE = 41
KEY_BACKSLASH = 43
KEY_102ND = 86  # the ISO key left of Z (absent on US keyboards)
_KEYPAD_CHARS = {55: "*", 74: "-", 78: "+", 83: ".", 98: "/"}

Levels = tuple[str, str, str]


@dataclass(frozen=True)
class Keymap:
    name: str
    keys: dict[int, Levels]
    dead: frozenset[str] = field(default_factory=frozenset)  # accents typed as dead keys

    def char(self, code: int, shift: bool, altgr: bool) -> str | None:
        levels = self.keys.get(code)
        if levels is None:
            return None
        plain, shifted, third = levels
        if altgr:
            return third or None
        return (shifted if shift else plain) or None

    def is_letter(self, code: int) -> bool:
        """Caps Lock acts on keys whose Shift level is the capital of the plain one."""
        levels = self.keys.get(code)
        if levels is None:
            return False
        plain, shifted, _ = levels
        return plain.isalpha() and shifted == plain.upper() and plain != shifted


def _rows(*rows: tuple[list[int], str, str, str]) -> dict[int, Levels]:
    """Rows of (codes, plain chars, shifted chars, AltGr chars; space = none)."""
    table: dict[int, Levels] = {}
    for codes, plain, shifted, third in rows:
        third = third.ljust(len(codes))
        for code, a, b, c in zip(codes, plain, shifted, third, strict=True):
            table[code] = (a.strip(), b.strip(), c.strip())
    return table


def _common(table: dict[int, Levels]) -> dict[int, Levels]:
    # Space, and keypad operators (with Num Lock on, as scanners assume) are the same
    # in every layout; keypad digits are handled by the decoder (Alt+numpad mode).
    table[KEY_SPACE] = (" ", " ", "")
    for code, char in _KEYPAD_CHARS.items():
        table[code] = (char, char, "")
    for code, digit in KEYPAD_DIGITS.items():
        table[code] = (digit, digit, "")
    return table


US = Keymap(
    "us",
    _common(
        _rows(
            (_DIGIT_ROW, "1234567890-=", "!@#$%^&*()_+", ""),
            (_TOP_ROW, "qwertyuiop[]", "QWERTYUIOP{}", ""),
            (_HOME_ROW, "asdfghjkl;'", 'ASDFGHJKL:"', ""),
            (_BOTTOM_ROW, "zxcvbnm,./", "ZXCVBNM<>?", ""),
            ([KEY_GRAVE, KEY_BACKSLASH, KEY_102ND], "`\\\\", "~||", ""),
        )
    ),
)

# German QWERTZ (xkb "de"): Y and Z swapped, umlauts, AltGr for @ { [ ] } \ | ~ and €.
DE = Keymap(
    "de",
    _common(
        _rows(
            (_DIGIT_ROW, "1234567890ß´", '!"§$%&/()=?`', " ²³   {[]}\\ "),
            (_TOP_ROW, "qwertzuiopü+", "QWERTZUIOPÜ*", "@ €        ~"),
            (_HOME_ROW, "asdfghjklöä", "ASDFGHJKLÖÄ", ""),
            (_BOTTOM_ROW, "yxcvbnm,.-", "YXCVBNM;:_", "      µ   "),
            ([KEY_GRAVE, KEY_BACKSLASH, KEY_102ND], "^#<", "°'>", "  |"),
        )
    ),
    dead=frozenset("^´`"),
)

# French AZERTY (xkb "fr"): digits need Shift, A/Q and Z/W swapped, M on the home row.
FR = Keymap(
    "fr",
    _common(
        _rows(
            (_DIGIT_ROW, "&é\"'(-è_çà)=", "1234567890°+", " ~#{[|`\\^@]}"),
            (_TOP_ROW, "azertyuiop^$", "AZERTYUIOP¨£", "  €        ¤"),
            (_HOME_ROW, "qsdfghjklmù", "QSDFGHJKLM%", ""),
            (_BOTTOM_ROW, "wxcvbn,;:!", "WXCVBN?./§", ""),
            ([KEY_GRAVE, KEY_BACKSLASH, KEY_102ND], "²*<", " µ>", ""),
        )
    ),
    dead=frozenset("^¨~`"),
)

LAYOUTS = {keymap.name: keymap for keymap in (US, DE, FR)}

# Control characters are typed by key position, as a US keyboard would (Ctrl+] is the
# key right of P whatever the layout prints on it): scanners send fixed HID usages.
CONTROL_CHARS: dict[int, str] = {
    code: chr(ord(char.upper()) - 64)
    for code, (char, _, _) in US.keys.items()
    if "a" <= char <= "z"
}
CONTROL_CHARS.update({26: "\x1b", KEY_BACKSLASH: "\x1c", KEY_RIGHTBRACE: "\x1d", 7: "\x1e",
                      12: "\x1f"})  # fmt: skip
