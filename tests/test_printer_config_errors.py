"""Printer URLs and the build factories: a wrong key is one ConfigError line naming it."""

import pytest

from station.config import ConfigError, StationConfig, parse_config
from station.drivers.printers.build import build_feedback, build_print_spool
from station.drivers.printers.endpoint import Endpoint, parse_endpoint


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("tcp://10.0.0.5:9100", Endpoint("tcp", host="10.0.0.5", port=9100)),
        ("tcp://printer-3", Endpoint("tcp", host="printer-3", port=9100)),
        ("usb://04b8:0202", Endpoint("usb", vendor_id=0x04B8, product_id=0x0202)),
        ("serial:///dev/ttyUSB0", Endpoint("serial", path="/dev/ttyUSB0")),
        (
            "serial:///dev/ttyUSB0?baudrate=19200",
            Endpoint("serial", path="/dev/ttyUSB0", baudrate=19200),
        ),
        ("file:///dev/usb/lp0", Endpoint("file", path="/dev/usb/lp0")),
    ],
)
def test_printer_url_forms(url, endpoint):
    assert parse_endpoint(url) == endpoint


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("lpt://1", "unknown scheme"),
        ("tcp://:9100", "no host"),
        ("tcp://host:99999", "port"),
        ("usb://epson", "vid:pid"),
        ("file://dev/usb/lp0", "three slashes"),
        ("serial:///dev/ttyS0?baudrate=fast", "baudrate"),
    ],
)
def test_printer_url_errors_say_what_is_allowed(url, message):
    with pytest.raises(ValueError, match=message):
        parse_endpoint(url)


def station(printers: str = "", feedback: str = "") -> StationConfig:
    text = f'[station]\nid = "st-1"\n{feedback}\n{printers}'
    return parse_config(text, StationConfig, "station.toml")


@pytest.mark.parametrize(
    ("printers", "message"),
    [
        (
            '[[printers]]\nname = "p1"\nurl = "lpt://1"',
            r"^\[\[printers\]\] p1: url: unknown scheme",
        ),
        (
            '[[printers]]\nname = "p1"\nurl = "usb://04b8:0202"\nlanguage = "zpl"',
            r"^\[\[printers\]\] p1: url: ZPL over usb://",
        ),
        (
            '[[printers]]\nname = "p1"\nurl = "tcp://h"\nprofile = "NO-SUCH"',
            r"^\[\[printers\]\] p1: profile: unknown 'NO-SUCH'",
        ),
        (
            '[[printers]]\nname = "p1"\nurl = "tcp://a"\n[[printers]]\nname = "p1"\nurl = "tcp://b"',
            "used twice",
        ),
    ],
)
def test_printer_build_rejects_bad_printer_keys(tmp_path, printers, message):
    with pytest.raises(ConfigError, match=message) as error:
        build_print_spool(station(printers), tmp_path / "station.db", lambda _: None)
    assert "\n" not in str(error.value)


def test_printer_build_gives_a_spool_with_every_printer(tmp_path):
    config = station(
        '[[printers]]\nname = "label"\nurl = "tcp://127.0.0.1:9"\nlanguage = "zpl"\n'
        '[[printers]]\nname = "receipt"\nurl = "file:///dev/null"\nprofile = "TM-T88V"'
    )
    spool = build_print_spool(config, tmp_path / "station.db", lambda _: None)
    try:
        assert sorted(spool.printers) == ["label", "receipt"]
    finally:
        spool.stop()


def test_feedback_build_rejects_a_pin_used_twice():
    config = station(feedback='[feedback]\npin_factory = "mock"\nbuzzer = 17\nled_red = 17')
    with pytest.raises(ConfigError, match=r"^\[feedback\]"):
        build_feedback(config, lambda _: None)


def test_feedback_build_without_gpio_is_a_silent_recorder():
    feedback = build_feedback(station(), lambda _: None)
    feedback.show("ok")
    assert feedback.last_pattern == "ok"
