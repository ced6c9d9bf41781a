"""Each feedback pattern's whole pin history on gpiozero's MockFactory (PWM pins)."""

import time

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from station.config import FeedbackConfig
from station.drivers.feedback import PATTERNS, Feedback

BUZZER, GREEN, RED, BUTTON = 17, 22, 23, 4
RGB = (5, 6, 13)


@pytest.fixture
def factory():
    factory = MockFactory(pin_class=MockPWMPin)
    yield factory
    factory.reset()


def states(factory, pin, count, timeout=10.0):
    """The pin's history once it holds `count` states (or the deadline passed)."""
    history = factory.pin(pin).states
    deadline = time.monotonic() + timeout
    while len(history) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # let a wrongly running thread add a state the assert would catch
    return [s.state for s in history]


def beeps(count):
    return [False] + [1.0, 0.0] * count


# name: (beep count, green history after the initial False, red history)
EXPECTED = {
    "ok": (1, [1.0, 0.0], []),
    "error": (3, [], [1.0, 0.0] * 3),
    "complete": (2, [1.0, 0.0] * 3, []),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_feedback_pattern_pin_histories_on_active_buzzer_and_leds(factory, name):
    cfg = FeedbackConfig(pin_factory="mock", buzzer=BUZZER, led_green=GREEN, led_red=RED)
    feedback = Feedback(cfg, emit=lambda _: None, pin_factory=factory)
    try:
        feedback.show(name)
        count, green, red = EXPECTED[name]
        assert states(factory, BUZZER, 1 + 2 * count) == beeps(count)
        assert states(factory, GREEN, 1 + len(green)) == [False] + green
        assert states(factory, RED, 1 + len(red)) == [False] + red
        assert feedback.last_pattern == name
    finally:
        feedback.close()


def test_feedback_patterns_differ_by_more_than_colour():
    sounds = {(p.beeps.count, p.beeps.on_s) for p in PATTERNS.values() if p.beeps}
    assert len(sounds) == len(PATTERNS)
    assert set(PATTERNS) == {"ok", "error", "complete", "attention", "offline"}


def test_feedback_attention_and_offline_keep_blinking_until_replaced(factory):
    cfg = FeedbackConfig(pin_factory="mock", buzzer=BUZZER, led_green=GREEN, led_red=RED)
    feedback = Feedback(cfg, emit=lambda _: None, pin_factory=factory)
    try:
        feedback.show("attention")
        assert states(factory, BUZZER, 5) == beeps(2)
        # amber on single LEDs: both blink, and go on blinking
        assert states(factory, GREEN, 6)[:6] == [False] + [1.0, 0.0] * 2 + [1.0]
        feedback.show("ok")  # replaces the running pattern
        history = states(factory, RED, 6)
        time.sleep(0.1)
        assert factory.pin(RED).state == 0.0
        assert len(factory.pin(RED).states) == len(history)  # the red blink stopped
        assert feedback.last_pattern == "ok"
    finally:
        feedback.close()


def test_feedback_new_pattern_replaces_running_beeps(factory):
    cfg = FeedbackConfig(pin_factory="mock", buzzer=BUZZER)
    feedback = Feedback(cfg, emit=lambda _: None, pin_factory=factory)
    try:
        feedback.show("offline")  # one 1 s beep
        states(factory, BUZZER, 2)
        feedback.show("ok")  # cuts it short: off, then one short beep
        assert states(factory, BUZZER, 5) == [False, 1.0, 0.0, 1.0, 0.0]
    finally:
        feedback.close()


def test_feedback_tonal_buzzer_and_rgb_led_histories(factory):
    cfg = FeedbackConfig(pin_factory="mock", buzzer=BUZZER, buzzer_kind="tonal", rgb_led=list(RGB))
    feedback = Feedback(cfg, emit=lambda _: None, pin_factory=factory)
    red, green, blue = RGB
    try:
        feedback.show("error")
        # a tonal buzzer sounds at 50 % duty and falls silent (0) between beeps
        assert states(factory, BUZZER, 7) == [False] + [0.5, 0.0] * 3
        assert states(factory, red, 7) == [False] + [1.0, 0.0] * 3
        assert states(factory, green, 1) == [False]
        assert states(factory, blue, 1) == [False]
    finally:
        feedback.close()


def test_feedback_without_gpio_records_the_last_pattern():
    feedback = Feedback(FeedbackConfig(pin_factory="none", buzzer=BUZZER), emit=lambda _: None)
    feedback.show("error")
    feedback.show("complete")
    assert feedback.last_pattern == "complete"
    feedback.close()


def test_feedback_unknown_pattern_is_a_clear_error():
    feedback = Feedback(FeedbackConfig(), emit=lambda _: None)
    with pytest.raises(ValueError, match="unknown feedback pattern 'beep'"):
        feedback.show("beep")
