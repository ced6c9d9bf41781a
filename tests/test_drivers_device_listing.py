"""`python -m station devices` lists what is attached and what it looks like."""

import subprocess
import sys

from station.drivers.listing import hidraw_lines, printer_lines


def test_devices_command_lists_every_kind_of_device():
    result = subprocess.run(
        [sys.executable, "-m", "station", "devices"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for title in ("Input devices", "Serial ports", "hidraw devices", "Printers"):
        assert title in result.stdout


def test_hidraw_scale_is_recognised_by_its_usage_page(tmp_path):
    device = tmp_path / "hidraw0" / "device"
    device.mkdir(parents=True)
    (device / "uevent").write_text("HID_ID=0003:00000922:00008003\nHID_NAME=DYMO M10\n")
    (device / "report_descriptor").write_bytes(bytes([0x05, 0x8D, 0x09, 0x01, 0xA1, 0x01]))
    assert list(hidraw_lines(tmp_path)) == [
        "  /dev/hidraw0  0922:8003  'DYMO M10'  [HID POS scale (usage page 0x8D)]"
    ]


def test_usb_printer_class_interface_is_listed(tmp_path):
    usb = tmp_path / "usb"
    (usb / "1-1.2").mkdir(parents=True)
    (usb / "1-1.2" / "idVendor").write_text("04b8\n")
    (usb / "1-1.2" / "idProduct").write_text("0202\n")
    (usb / "1-1.2" / "product").write_text("TM-T88V\n")
    (usb / "1-1.2:1.0").mkdir()
    (usb / "1-1.2:1.0" / "bInterfaceClass").write_text("07\n")
    assert list(printer_lines(tmp_path / "dev", usb)) == [
        "  USB printer 04b8:0202  'TM-T88V'  (url usb://04b8:0202)"
    ]
