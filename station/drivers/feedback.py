"""The packer's buzzer, LEDs and confirm button, over gpiozero.

`Feedback.show(name)` starts a named pattern and returns at once: gpiozero runs the
blinking and beeping on its own background threads, and a new pattern replaces the
running one. Patterns differ in beep count and length, not only in colour, so a packer
who cannot see the LED (or tell red from green) still hears the verdict.

With `pin_factory = "none"` (a desk PC whose kiosk screen is the only feedback) no GPIO
is touched; `show` only records the pattern, which the kiosk can read back.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from station.config import ConfigError, FeedbackConfig
from station.inputs import Emit, Touch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Beeps:
    on_s: float
    off_s: float
    count: int
    pitch: float  # TonalBuzzer value, -1 (low) .. 1 (high); an active buzzer has one tone


@dataclass(frozen=True)
class Light:
    colour: str  # "green", "red" or "amber" (both single LEDs, or red+green on an RGB LED)
    on_s: float
    off_s: float
    count: int | None  # None: keep blinking until the next pattern


@dataclass(frozen=True)
class Pattern:
    beeps: Beeps | None
    light: Light


PATTERNS: dict[str, Pattern] = {
    # One short chirp: the scan is accepted and safe in the journal.
    "ok": Pattern(Beeps(0.08, 0.08, 1, 0.5), Light("green", 1.0, 0.0, 1)),
    # Three long low beeps: wrong item, unknown code; the packer must look.
    "error": Pattern(Beeps(0.25, 0.12, 3, -1.0), Light("red", 0.25, 0.12, 3)),
    # Two quick chirps: the order or receipt is complete.
    "complete": Pattern(Beeps(0.08, 0.08, 2, 1.0), Light("green", 0.4, 0.2, 3)),
    # Two long beeps and amber: something waits for the packer (weigh, confirm).
    "attention": Pattern(Beeps(0.5, 0.25, 2, 0.0), Light("amber", 0.5, 0.5, None)),
    # One long beep, then a slow red blink until connectivity returns.
    "offline": Pattern(Beeps(1.0, 0.0, 1, -0.5), Light("red", 0.2, 1.8, None)),
}

COLOURS: dict[str, tuple[float, float, float]] = {
    "green": (0.0, 1.0, 0.0),
    "red": (1.0, 0.0, 0.0),
    "amber": (1.0, 0.5, 0.0),
}

TONE_STEP_S = 0.04  # a TonalBuzzer pattern is played as a sequence of steps this long


def make_pin_factory(name: str) -> Any:
    """The gpiozero pin factory named in `[feedback] pin_factory` (None for "none")."""
    if name == "none":
        return None
    try:
        if name == "mock":
            from gpiozero.pins.mock import MockFactory, MockPWMPin

            return MockFactory(pin_class=MockPWMPin)
        if name == "lgpio":
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
        if name == "rpigpio":
            from gpiozero.pins.rpigpio import RPiGPIOFactory

            return RPiGPIOFactory()
        if name == "pigpio":
            from gpiozero.pins.pigpio import PiGPIOFactory

            return PiGPIOFactory()
        if name == "native":
            from gpiozero.pins.native import NativeFactory

            return NativeFactory()
    except Exception as exc:  # noqa: BLE001 - ImportError, no /dev/gpiochip, no daemon...
        raise ConfigError(f"[feedback] pin_factory = {name!r} cannot start: {exc}") from None
    raise ConfigError(
        f"[feedback] pin_factory = {name!r}: allowed none, lgpio, rpigpio, pigpio, native, mock"
    )


def tone_steps(beeps: Beeps, step_s: float = TONE_STEP_S) -> Iterator[float | None]:
    """A beep pattern as TonalBuzzer values, one per step (None is silence)."""
    on = max(1, round(beeps.on_s / step_s))
    off = round(beeps.off_s / step_s)
    for _ in range(beeps.count):
        yield from [beeps.pitch] * on
        yield from [None] * off
    yield None


class Feedback:
    """Named buzzer/LED patterns and the confirm button of one station."""

    def __init__(self, config: FeedbackConfig, emit: Emit, pin_factory: Any = None) -> None:
        self.last_pattern: str | None = None
        self._devices: list[Any] = []
        self._buzzer: Any = None
        self._tonal = config.buzzer_kind == "tonal"
        self._leds: dict[str, Any] = {}
        self._rgb: Any = None
        self.button: Any = None
        if pin_factory is None:
            pin_factory = make_pin_factory(config.pin_factory)
        if pin_factory is None:
            return
        try:
            self._open(config, emit, pin_factory)
        except Exception:
            self.close()
            raise

    def _open(self, config: FeedbackConfig, emit: Emit, factory: Any) -> None:
        from gpiozero import LED, RGBLED, Button, Buzzer, TonalBuzzer

        if config.buzzer is not None:
            if self._tonal:
                self._buzzer = TonalBuzzer(
                    config.buzzer, mid_tone="A6", octaves=1, pin_factory=factory
                )
            else:
                self._buzzer = Buzzer(config.buzzer, pin_factory=factory)
            self._devices.append(self._buzzer)
        if config.rgb_led is not None:
            if len(config.rgb_led) != 3:
                raise ConfigError("[feedback] rgb_led: give three pins, [red, green, blue]")
            self._rgb = RGBLED(*config.rgb_led, pin_factory=factory)
            self._devices.append(self._rgb)
        for colour, pin in (("green", config.led_green), ("red", config.led_red)):
            if pin is not None:
                self._leds[colour] = LED(pin, pin_factory=factory)
                self._devices.append(self._leds[colour])
        if config.button is not None:
            self.button = Button(config.button, bounce_time=0.05, pin_factory=factory)
            # Runs on gpiozero's thread: only hand the press to the core's queue.
            self.button.when_pressed = lambda: emit(Touch("confirm"))
            self._devices.append(self.button)

    def show(self, name: str) -> None:
        """Start pattern `name` in the background, replacing the one running."""
        pattern = PATTERNS.get(name)
        if pattern is None:
            raise ValueError(f"unknown feedback pattern {name!r}; known: {', '.join(PATTERNS)}")
        self.last_pattern = name
        self._beep(pattern.beeps)
        self._light(pattern.light)

    def _beep(self, beeps: Beeps | None) -> None:
        if self._buzzer is None:
            return
        # Stop first: a new beep started while the old one sounds would merge with it.
        self._stop_buzzer()
        if beeps is None:
            return
        if self._tonal:
            self._buzzer.source_delay = TONE_STEP_S
            self._buzzer.source = tone_steps(beeps)  # replaces the running source thread
        else:
            self._buzzer.beep(beeps.on_s, beeps.off_s, n=beeps.count, background=True)

    def _stop_buzzer(self) -> None:
        if self._tonal:
            self._buzzer.source = None
            self._buzzer.stop()
        else:
            self._buzzer.off()

    def _light(self, light: Light) -> None:
        if self._rgb is not None:
            self._rgb.off()
            self._rgb.blink(light.on_s, light.off_s, on_color=COLOURS[light.colour], n=light.count)
        lit = {"green": {"green"}, "red": {"red"}, "amber": {"green", "red"}}[light.colour]
        for colour, led in self._leds.items():
            led.off()
            if colour in lit:
                led.blink(light.on_s, light.off_s, n=light.count)

    def clear(self) -> None:
        """Silence the buzzer and turn every light off."""
        self.last_pattern = None
        if self._buzzer is not None:
            self._stop_buzzer()
        if self._rgb is not None:
            self._rgb.off()
        for led in self._leds.values():
            led.off()

    def close(self) -> None:
        for device in reversed(self._devices):
            try:
                device.close()
            except Exception:  # noqa: BLE001 - closing must release every other pin too
                log.debug("closing %r failed", device, exc_info=True)
        self._devices.clear()
