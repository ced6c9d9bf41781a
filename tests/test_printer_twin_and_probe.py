"""The loopback printer twin's status answers, the links' status handling, the probe CLI."""

import json
import subprocess
import sys

import pytest

from station.drivers.printers.endpoint import parse_endpoint
from station.drivers.printers.labels import LabelError, bin_label
from station.drivers.printers.links import PrinterMissing, make_link
from station.drivers.sim.printer import PrinterTwin, tokenize_escpos


@pytest.fixture
def twin():
    with PrinterTwin() as twin:
        yield twin


def status(twin, language, timeout=5.0):
    link = make_link(parse_endpoint(twin.url), language, timeout=timeout)
    link.open()
    try:
        return link.status()
    finally:
        link.close()


@pytest.mark.parametrize("language", ["escpos", "zpl"])
@pytest.mark.parametrize(
    ("flag", "state"), [("paper_out", "fault: paper out"), ("head_open", "fault: head open")]
)
def test_printer_twin_answers_status_queries_from_its_state(twin, language, flag, state):
    assert status(twin, language).device_state == "ready"
    setattr(twin, flag, True)
    assert status(twin, language).device_state == state
    assert twin.jobs() == []  # status queries are not printed


def test_printer_zpl_silent_printer_is_a_fault_not_ready(twin):
    twin.answer_status = False  # Zebra firmware says nothing while media is out
    assert status(twin, "zpl", timeout=0.3).device_state == "fault: no reply to ~HS"


def test_printer_escpos_silent_printer_is_unknown_not_paper_ok(twin):
    twin.answer_status = False
    result = status(twin, "escpos", timeout=0.3)
    assert result.known is False and result.paper_out is None


def test_printer_twin_switched_off_refuses_connections(twin):
    twin.power_off()
    link = make_link(parse_endpoint(twin.url), "escpos", timeout=2)
    with pytest.raises(PrinterMissing, match="cannot connect|refused"):
        link.open()


def test_printer_escpos_tokenizer_refuses_unknown_commands():
    with pytest.raises(ValueError, match="unknown ESC command"):
        tokenize_escpos(b"\x1b\x99\x00")


def test_printer_labels_refuse_barcodes_code128_cannot_carry():
    with pytest.raises(LabelError, match="printable ASCII"):
        bin_label("Ä-01")


def probe(*args):
    return subprocess.run(
        [sys.executable, "-m", "station", "probe", "printer", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("language", ["escpos", "zpl"])
def test_printer_probe_prints_a_test_label_and_status_as_json_lines(twin, language):
    result = probe("--url", twin.url, "--language", language)
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0, result.stderr
    assert [e["event"] for e in events] == ["status", "sent", "status"]
    assert events[-1]["state"] == "ready"
    [job] = twin.wait_for_jobs(1)
    assert b"TEST LABEL" in job


def test_printer_probe_reports_missing_printer(twin):
    twin.power_off()
    result = probe("--url", twin.url)
    assert result.returncode == 1
    assert json.loads(result.stdout)["event"] == "missing"


def test_printer_probe_reports_paper_out_without_printing(twin):
    twin.paper_out = True
    result = probe("--url", twin.url, "--language", "zpl")
    assert result.returncode == 1
    assert json.loads(result.stdout)["state"] == "fault: paper out"
    assert twin.jobs() == []
