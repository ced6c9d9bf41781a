"""The technician's probes run as subprocesses against simulated devices on a pty."""

import json
import os
import subprocess
import sys
from decimal import Decimal

from station.drivers.keymaps import DE
from station.drivers.sim.scales import make_sim_scale
from station.drivers.sim.serial_scanner import SimSerialScanner
from station.drivers.sim.wedge import keystrokes, pack


def station(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "station", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def wait_ready(process: subprocess.Popen) -> None:
    for line in process.stderr:
        if "scanner: ready" in line:
            return
    raise AssertionError("the probe never opened the scanner")


def json_lines(process: subprocess.Popen) -> list[dict]:
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_probe_scale_prints_readings_as_json(tmp_path):
    with make_sim_scale("mt-sics", str(tmp_path / "scale"), settle_readings=1) as sim:
        sim.place(Decimal("1234.5"))
        probe = station(
            "probe", "scale", "--port", str(sim.path), "--protocol", "mt-sics",
            "--poll-ms", "50", "--count", "3",
        )  # fmt: skip
        lines = json_lines(probe)
    assert len(lines) == 3
    assert lines[0] == {"raw": "S D    1111.00 g", "grams": "1111.00", "stable": False}
    assert lines[1] == {"raw": "S S    1234.50 g", "grams": "1234.50", "stable": True}


def test_probe_scale_reports_an_unknown_port():
    probe = station("probe", "scale", "--port", "/nonexistent/tty", "--protocol", "nci")
    _, err = probe.communicate(timeout=30)
    assert probe.returncode == 2
    assert "cannot open /nonexistent/tty" in err


def test_probe_serial_scanner_prints_codes_as_json(tmp_path):
    with SimSerialScanner(str(tmp_path / "scanner")) as sim:
        probe = station("probe", "scanner", "--port", str(sim.path), "--count", "2")
        wait_ready(probe)
        sim.scan("0107032069804988\x1d10LOT", symbology="]C1")
        sim.scan("4006381333931", symbology="]E0")
        lines = json_lines(probe)
    assert lines == [
        {"code": "0107032069804988\x1d10LOT", "symbology": "]C1"},
        {"code": "4006381333931", "symbology": "]E0"},
    ]


def test_probe_wedge_scanner_decodes_events_from_a_fifo(tmp_path):
    fifo = tmp_path / "events"
    os.mkfifo(fifo)
    probe = station("probe", "scanner", "--input", str(fifo), "--layout", "de", "--count", "2")
    with open(fifo, "wb") as writer:  # blocks until the probe opens it for reading
        writer.write(pack(keystrokes("]C1Zy-42", DE) + keystrokes("ÄÖÜ", DE)))
    lines = json_lines(probe)
    assert lines == [{"code": "Zy-42", "symbology": "]C1"}, {"code": "ÄÖÜ", "symbology": None}]
