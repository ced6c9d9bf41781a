"""What arrives on the station core's one input queue.

Device readers, the MQTT uplink, the kiosk server and the timer are edges: each only
builds one of these values and calls `emit(value)`; the core consumes them one at a
time and is the only code that changes station state.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Scanned:
    """One decoded barcode from any scanner (evdev wedge, serial, simulated)."""

    code: str  # as sent, with GS1 group separators as "\x1d"
    symbology: str | None = None  # AIM identifier such as "]C1", when the scanner sends one
    device: str = "scanner"


@dataclass(frozen=True)
class Weighed:
    """A weight reading worth acting on (the scale driver decides what is stable)."""

    grams: Decimal
    stable: bool
    device: str = "scale"


@dataclass(frozen=True)
class DeviceState:
    """A device's supervisor reports a change: "ready", "missing", or "fault: <why>"."""

    device: str
    state: str


@dataclass(frozen=True)
class HubMessage:
    """A message from the broker (acks, commands, orders, catalog...)."""

    topic: str
    payload: bytes
    retained: bool = False


@dataclass(frozen=True)
class Touch:
    """A button pressed on the kiosk screen or a GPIO button: a command by name."""

    command: str
    arg: str | None = None


@dataclass(frozen=True)
class Tick:
    """The core's clock: timeouts and periodic work happen on ticks."""

    monotonic: float


Input = Scanned | Weighed | DeviceState | HubMessage | Touch | Tick
Emit = Callable[[Input], None]
