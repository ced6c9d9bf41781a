"""The input-device factory: config -> supervised devices, with one-line config errors."""

import pytest

from station.config import ConfigError, StationConfig, parse_config
from station.drivers.build import build_input_devices
from station.drivers.scales.device import ScaleDevice
from station.drivers.serial_scanner import SerialScanner
from station.drivers.wedge_scanner import WedgeScanner


def config(text: str) -> StationConfig:
    return parse_config('[station]\nid = "pack-1"\n' + text, StationConfig, "station.toml")


def test_builds_every_configured_scanner_and_scale():
    devices = build_input_devices(
        config(
            """
            [[scanners]]
            name = "front"
            kind = "serial"
            port = "/dev/serial/by-id/usb-Honeywell-if00"
            [[scanners]]
            name = "wedge"
            kind = "evdev"
            match = "0c2e:0b61"
            layout = "de"
            gs_substitute = "|"
            [[scales]]
            name = "bench"
            protocol = "toledo-8217"
            port = "/dev/serial/by-id/usb-FTDI-if00"
            unit = "lb"
            """
        ),
        print,
    )
    assert [type(d) for d in devices] == [SerialScanner, WedgeScanner, ScaleDevice]
    assert [d.name for d in devices] == ["front", "wedge", "bench"]
    assert devices[1].keymap.name == "de"
    assert devices[2].codec.unit == "lb"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('[[scanners]]\nname = "s"\nkind = "serial"', r"\[scanners.0.port\] is required"),
        ('[[scanners]]\nname = "s"\nkind = "evdev"', r"\[scanners.0\] an evdev scanner needs"),
        (
            '[[scanners]]\nname = "s"\nkind = "evdev"\ninput = "/dev/x"\nmatch = "y"',
            r"\[scanners.0\] give `input` or `match`, not both",
        ),
        (
            '[[scanners]]\nname = "s"\nkind = "evdev"\nmatch = "y"\ngs_substitute = "ab"',
            r"\[scanners.0.gs_substitute\] must be one printable character",
        ),
        (
            '[[scanners]]\nname = "s"\nkind = "serial"\nport = "/x"\n'
            '[[scales]]\nname = "s"\nprotocol = "nci"\nport = "/y"',
            r"\[scales.0.name\] 's' is used twice",
        ),
    ],
)
def test_config_the_structs_cannot_check_is_one_clear_error(section, message):
    with pytest.raises(ConfigError, match=message):
        build_input_devices(config(section), print)
