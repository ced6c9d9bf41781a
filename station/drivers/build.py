"""Makes the station's input devices (scanners and scales) from its configuration.

Checks what the config structs cannot: a serial scanner needs `port`, an evdev scanner
`input` or `match`, the GS1 stand-in must be one printable character, and device names
must be unique (they name the devices in the station status).
"""

from decimal import Decimal
from functools import partial

from station.config import ConfigError, ScaleConfig, ScannerConfig, StationConfig
from station.drivers.input_devices import open_input
from station.drivers.keymaps import LAYOUTS
from station.drivers.scales.device import ScaleDevice
from station.drivers.serial_scanner import SerialScanner
from station.drivers.supervisor import Supervised
from station.drivers.wedge_scanner import WedgeScanner
from station.inputs import Emit


def build_input_devices(config: StationConfig, emit: Emit) -> list[Supervised]:
    devices: list[Supervised] = []
    seen: set[str] = set()
    for i, scanner in enumerate(config.scanners):
        devices.append(build_scanner(scanner, emit, f"scanners.{i}"))
    devices += [build_scale(scale, emit) for scale in config.scales]
    for i, device in enumerate(devices):
        if device.name in seen:
            raise ConfigError(f"[{_where(config, i)}.name] {device.name!r} is used twice")
        seen.add(device.name)
    return devices


def build_scanner(config: ScannerConfig, emit: Emit, where: str = "scanners") -> Supervised:
    idle_gap = config.idle_gap_ms / 1000
    if config.kind == "serial":
        if not config.port:
            raise ConfigError(f"[{where}.port] is required for a serial scanner")
        return SerialScanner(config.name, emit, config.port, config.baudrate, idle_gap)
    if not config.input and not config.match:
        raise ConfigError(f"[{where}] an evdev scanner needs `input` (a path) or `match`")
    if config.input and config.match:
        raise ConfigError(f"[{where}] give `input` or `match`, not both")
    substitute = config.gs_substitute
    if substitute is not None and (len(substitute) != 1 or not substitute.isprintable()):
        raise ConfigError(f"[{where}.gs_substitute] must be one printable character")
    opener = partial(open_input, config.input, config.match)
    return WedgeScanner(config.name, emit, opener, LAYOUTS[config.layout], substitute, idle_gap)


def build_scale(config: ScaleConfig, emit: Emit) -> ScaleDevice:
    return ScaleDevice(
        config.name,
        emit,
        config.protocol,
        config.port,
        baudrate=config.baudrate,
        unit=config.unit,
        poll_interval=config.poll_ms / 1000,
        stable_readings=config.stable_readings,
        min_grams=Decimal(str(config.min_grams)),
        offline_after=config.offline_after_ms / 1000,
    )


def _where(config: StationConfig, index: int) -> str:
    scanners = len(config.scanners)
    return f"scanners.{index}" if index < scanners else f"scales.{index - scanners}"
