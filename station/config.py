"""The station's TOML configuration, validated at start-up.

Every section is a msgspec Struct that forbids unknown keys, so a typo stops the
program with one line naming the file, the key and what is allowed.
"""

from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from protocol.tomlconfig import ConfigError, parse_config
from protocol.types import Code, SiteId, StationId

__all__ = ["ConfigError", "StationConfig", "load", "parse_config"]


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


Mode = Literal["pack", "receive", "count", "move", "adjust"]


class StationSection(_Section):
    id: StationId
    site: SiteId = "main"
    mode: Mode = "pack"
    # Where the journal, caches and print spool live (created if missing).
    data_dir: str = "/var/lib/warehouse-station"
    dock_location: Code = "DOCK"


class MqttSection(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 1883
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    keepalive: Annotated[int, Meta(ge=5, le=3600)] = 30
    # Events in flight without a PUBACK; SQLite, not paho, is the queue.
    max_inflight: Annotated[int, Meta(ge=1, le=1000)] = 50
    # At most this many events beyond the hub's ack are sent: after an outage the backlog
    # waits in the journal, not in the broker's memory, and reaches the hub as it keeps up.
    max_ahead: Annotated[int, Meta(ge=1, le=1_000_000)] = 2000
    # Re-send from applied + 1 when the hub's ack has not moved for this long.
    resend_after_s: Annotated[float, Meta(gt=0, le=3600)] = 10.0
    # Reconnect attempts back off from 0.5 s, doubling up to this: after a long outage the
    # link is used again within about this long of coming back.
    reconnect_max_s: Annotated[float, Meta(ge=0.5, le=300)] = 10.0


class ScannerConfig(_Section):
    name: Code
    kind: Literal["serial", "evdev"]
    port: str | None = None  # serial: /dev/serial/by-id/... (or a pyserial URL)
    baudrate: int = 9600
    idle_gap_ms: Annotated[int, Meta(ge=5, le=5000)] = 100
    input: str | None = None  # evdev: /dev/input/by-id/... or by-path
    match: str | None = None  # evdev: "vendor:product" in hex, or the device name
    layout: Literal["us", "de", "fr"] = "us"
    gs_substitute: str | None = None  # a printable stand-in for the GS1 separator


ScaleProtocol = Literal[
    "mt-sics", "nci", "toledo-8213", "toledo-8217", "mt-continuous", "ascii", "hid-pos"
]


class ScaleConfig(_Section):
    name: Code
    protocol: ScaleProtocol
    port: str  # serial port, pyserial URL, or /dev/hidraw* for hid-pos
    baudrate: int = 9600
    poll_ms: Annotated[int, Meta(ge=50, le=10000)] = 200
    stable_readings: Annotated[int, Meta(ge=1, le=50)] = 3
    min_grams: Annotated[float, Meta(ge=0)] = 5.0
    # For protocols whose frames carry no unit (Toledo 8213/8217, unit-less ASCII lines).
    unit: Literal["g", "kg", "lb", "oz"] | None = None
    offline_after_ms: Annotated[int, Meta(ge=100, le=60000)] = 2000


class FeedbackConfig(_Section):
    pin_factory: Literal["none", "lgpio", "rpigpio", "pigpio", "native", "mock"] = "none"
    buzzer: int | None = None
    buzzer_kind: Literal["active", "tonal"] = "active"
    led_green: int | None = None
    led_red: int | None = None
    rgb_led: Annotated[list[int], Meta(min_length=3, max_length=3)] | None = None  # [r, g, b]
    button: int | None = None  # confirm / supervisor override


class PrinterConfig(_Section):
    name: Code
    url: str  # tcp://host:9100, usb://04b8:0202, serial:///dev/ttyUSB0, file:///dev/usb/lp0
    language: Literal["escpos", "zpl"] = "escpos"
    profile: str | None = None  # python-escpos printer profile, e.g. "TM-T88V"
    roles: list[Literal["shipping", "putaway", "bin", "receipt"]] = msgspec.field(
        default_factory=lambda: ["shipping", "putaway"]
    )


class KioskConfig(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 8081


class PackConfig(_Section):
    location: Code = "PACK"  # where the stock a packer packs is taken from
    weight_tolerance_g: Annotated[float, Meta(ge=0)] = 50.0
    weight_tolerance_pct: Annotated[float, Meta(ge=0, le=100)] = 5.0
    default_packaging_g: Annotated[float, Meta(ge=0)] = 0.0
    verify_weight: bool = True


class JournalConfig(_Section):
    # Events the hub has acknowledged are kept this many days, then deleted (the journal
    # never deletes one the hub has not applied). Restoring the hub from a backup older
    # than this cannot get the trimmed events back from the station.
    retention_days: Annotated[int, Meta(ge=1, le=3650)] = 30


class ReceiveConfig(_Section):
    over_receipt_tolerance_pct: Annotated[float, Meta(ge=0, le=1000)] = 0.0


class StationConfig(_Section):
    station: StationSection
    mqtt: MqttSection = msgspec.field(default_factory=MqttSection)
    scanners: list[ScannerConfig] = []
    scales: list[ScaleConfig] = []
    feedback: FeedbackConfig = msgspec.field(default_factory=FeedbackConfig)
    printers: list[PrinterConfig] = []
    kiosk: KioskConfig = msgspec.field(default_factory=KioskConfig)
    pack: PackConfig = msgspec.field(default_factory=PackConfig)
    receive: ReceiveConfig = msgspec.field(default_factory=ReceiveConfig)
    journal: JournalConfig = msgspec.field(default_factory=JournalConfig)


def load(path: str | Path) -> StationConfig:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_config(text, StationConfig, str(path))
