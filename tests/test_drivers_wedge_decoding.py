"""Keyboard-wedge decoding: kernel key events -> the codes a scanner typed."""

import evdev
import pytest
from evdev import ecodes as e
from hypothesis import given
from hypothesis import strategies as st

from station.drivers import keymaps
from station.drivers.sim.wedge import keystrokes
from station.drivers.wedge_decoder import WedgeDecoder

SHIFT, CTRL, ALT, ALTGR = e.KEY_LEFTSHIFT, e.KEY_LEFTCTRL, e.KEY_LEFTALT, e.KEY_RIGHTALT


def tap(key, *held):
    """Key events as the kernel sends them (InputEvent, each followed by SYN_REPORT)."""
    presses = [(k, 1) for k in held] + [(key, 1), (key, 0)] + [(k, 0) for k in reversed(held)]
    events = []
    for code, value in presses:
        events.append(evdev.InputEvent(0, 0, e.EV_KEY, code, value))
        events.append(evdev.InputEvent(0, 0, e.EV_SYN, e.SYN_REPORT, 0))
    return events


def decode(events, decoder=None, now=0.0):
    decoder = decoder or WedgeDecoder()
    return [code for event in events for code in decoder.feed(event, now)]


def test_us_layout_with_shift_and_enter():
    events = tap(e.KEY_A, SHIFT) + tap(e.KEY_B) + tap(e.KEY_1, SHIFT) + tap(e.KEY_ENTER)
    assert decode(events) == ["Ab!"]


def test_kernel_keycodes_agree_with_the_layout_tables():
    assert keymaps.KEY_RIGHTBRACE == e.KEY_RIGHTBRACE
    assert keymaps.KEY_KPENTER == e.KEY_KPENTER
    assert keymaps.KEYPAD_DIGITS[e.KEY_KP7] == "7"
    assert keymaps.US.char(e.KEY_SLASH, False, False) == "/"


@pytest.mark.parametrize(
    ("layout", "events", "code"),
    [
        ("de", tap(e.KEY_Z) + tap(e.KEY_Y), "yz"),
        ("de", tap(e.KEY_Q, ALTGR) + tap(e.KEY_7, SHIFT) + tap(e.KEY_SLASH), "@/-"),
        ("de", tap(e.KEY_SEMICOLON, SHIFT) + tap(e.KEY_MINUS), "Öß"),
        ("de", tap(e.KEY_GRAVE) + tap(e.KEY_SPACE) + tap(e.KEY_1), "^1"),  # dead key + space
        ("fr", tap(e.KEY_Q) + tap(e.KEY_W) + tap(e.KEY_SEMICOLON), "azm"),
        ("fr", tap(e.KEY_1, SHIFT) + tap(e.KEY_2) + tap(e.KEY_0, ALTGR), "1é@"),
        ("fr", tap(e.KEY_M) + tap(e.KEY_DOT, SHIFT), ",/"),
    ],
)
def test_german_and_french_layouts(layout, events, code):
    decoder = WedgeDecoder(keymaps.LAYOUTS[layout])
    assert decode(events + tap(e.KEY_ENTER), decoder) == [code]


def test_caps_lock_inverts_shift_on_letters_only():
    events = tap(e.KEY_CAPSLOCK) + tap(e.KEY_A) + tap(e.KEY_B, SHIFT) + tap(e.KEY_1)
    assert decode(events + tap(e.KEY_ENTER)) == ["Ab1"]


def test_caps_lock_leaves_french_digit_row_alone():
    decoder = WedgeDecoder(keymaps.FR)
    events = tap(e.KEY_CAPSLOCK) + tap(e.KEY_2) + tap(e.KEY_A) + tap(e.KEY_TAB)
    assert decode(events, decoder) == ["éQ"]  # KEY_A is the AZERTY Q


def test_ctrl_right_brace_is_the_gs1_group_separator():
    events = tap(e.KEY_1) + tap(e.KEY_0) + tap(e.KEY_X) + tap(e.KEY_RIGHTBRACE, CTRL) + tap(e.KEY_2)
    assert decode(events + tap(e.KEY_KPENTER)) == ["10x\x1d2"]


def test_configured_substitute_becomes_the_group_separator():
    decoder = WedgeDecoder(gs_substitute="|")
    events = tap(e.KEY_1) + tap(e.KEY_BACKSLASH, SHIFT) + tap(e.KEY_2) + tap(e.KEY_ENTER)
    assert decode(events, decoder) == ["1\x1d2"]


def test_alt_numpad_mode_types_the_numbered_character():
    alt_code = [evdev.InputEvent(0, 0, e.EV_KEY, ALT, 1)]
    for key in (e.KEY_KP0, e.KEY_KP2, e.KEY_KP9):
        alt_code += [evdev.InputEvent(0, 0, e.EV_KEY, key, 1), evdev.InputEvent(0, 0, 1, key, 0)]
    alt_code.append(evdev.InputEvent(0, 0, e.EV_KEY, ALT, 0))
    assert decode(tap(e.KEY_A) + alt_code + tap(e.KEY_B) + tap(e.KEY_ENTER)) == ["a\x1db"]


def test_alt_numpad_code_page_follows_the_leading_zero():
    from station.drivers.wedge_decoder import alt_numpad_char

    assert alt_numpad_char("0128") == "€"  # cp1252
    assert alt_numpad_char("130") == "é"  # cp437
    assert alt_numpad_char("65") == "A"


def test_autorepeat_is_not_typed():
    events = [
        evdev.InputEvent(0, 0, e.EV_KEY, e.KEY_A, 1),
        evdev.InputEvent(0, 0, e.EV_KEY, e.KEY_A, 2),
        evdev.InputEvent(0, 0, e.EV_KEY, e.KEY_A, 2),
        evdev.InputEvent(0, 0, e.EV_KEY, e.KEY_A, 0),
    ]
    assert decode(events + tap(e.KEY_ENTER)) == ["a"]


def test_syn_dropped_discards_the_partial_code():
    dropped = [evdev.InputEvent(0, 0, e.EV_SYN, e.SYN_DROPPED, 0)]
    events = tap(e.KEY_A) + tap(e.KEY_B, SHIFT)[:2] + dropped + tap(e.KEY_C) + tap(e.KEY_ENTER)
    assert decode(events) == ["c"]  # Shift's key-up was lost: it is no longer held either


def test_idle_gap_ends_a_code_without_suffix():
    decoder = WedgeDecoder(idle_gap=0.1)
    assert decode(tap(e.KEY_1) + tap(e.KEY_2), decoder, now=10.0) == []
    assert decoder.flush_idle(10.05) == []
    assert decoder.flush_idle(10.2) == ["12"]


def test_keys_read_late_are_not_split_by_the_reader_s_own_pause():
    # The reader thread was not scheduled for 0.5 s between two reads: the keys were typed
    # together, so only a quiet device seen by the reader (flush_idle) ends the code.
    decoder = WedgeDecoder(idle_gap=0.1)
    assert decode(tap(e.KEY_3), decoder, now=20.0) == []
    assert decode(tap(e.KEY_4), decoder, now=20.5) == []
    assert decoder.flush_idle(20.7) == ["34"]


def test_key_the_layout_cannot_type_fails_visibly():
    assert decode(tap(e.KEY_F5) + tap(e.KEY_A) + tap(e.KEY_ENTER)) == ["\ufffda"]


@pytest.mark.parametrize("layout", ["us", "de", "fr"])
@pytest.mark.parametrize("gs", ["ctrl", "altnumpad", "|"])
def test_simulated_scanner_round_trips_a_gs1_code(layout, gs):
    keymap = keymaps.LAYOUTS[layout]
    code = "]C10107032069804988\x1d10LOT-42/ab\x1d21Zy@{}~^é"
    decoder = WedgeDecoder(keymap, gs_substitute="|" if gs == "|" else None)
    events = [evdev.InputEvent(0, 0, *stroke) for stroke in keystrokes(code, keymap, gs)]
    assert decode(events, decoder) == [code]


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 300), st.integers(-1, 3))))
def test_any_event_stream_decodes_without_raising(events):
    decoder = WedgeDecoder(keymaps.DE, gs_substitute="|")
    for i, (type_, code, value) in enumerate(events):
        for text in decoder.feed(evdev.InputEvent(0, 0, type_, code, value), i * 0.01):
            assert isinstance(text, str)
