"""The durable print spool against the loopback printer twin and a real SQLite file."""

import queue
import sqlite3
import time

import pytest

from station.drivers.printers.endpoint import parse_endpoint
from station.drivers.printers.labels import bin_label, shipping_label
from station.drivers.printers.links import make_link
from station.drivers.printers.render import render
from station.drivers.printers.spool import PrintSpool, SpoolPrinter
from station.drivers.sim.printer import PrinterTwin
from station.inputs import DeviceState

LABEL = shipping_label("SO-1042", "Acme", 2, 900)
WAIT = 15.0


@pytest.fixture
def twin():
    with PrinterTwin() as twin:
        yield twin


def spool_for(twin, db_path, emit=lambda _: None, language="escpos"):
    link = make_link(parse_endpoint(twin.url), language, timeout=5)
    spool = PrintSpool(db_path, [SpoolPrinter("label", language, link)], emit, poll_s=0.05)
    spool.start()
    return spool


def wait_state(inputs: queue.Queue, state: str) -> list[str]:
    """DeviceStates of printer "label" until `state` shows (or the deadline passes)."""
    seen = []
    deadline = time.monotonic() + WAIT
    while state not in seen and time.monotonic() < deadline:
        try:
            item = inputs.get(timeout=0.1)
        except queue.Empty:
            continue
        if isinstance(item, DeviceState) and item.device == "label":
            seen.append(item.state)
    return seen


@pytest.mark.parametrize("language", ["escpos", "zpl"])
def test_printer_spool_prints_jobs_in_order(twin, tmp_path, language):
    spool = spool_for(twin, tmp_path / "station.db", language=language)
    try:
        labels = [bin_label(f"A-01-0{n}") for n in range(1, 4)]
        ids = [spool.submit("label", label) for label in labels]
        assert [spool.wait(i, WAIT).state for i in ids] == ["printed"] * 3
        assert twin.wait_for_jobs(3) == [render(label, language) for label in labels]
    finally:
        spool.stop()


def test_printer_spool_job_survives_a_restart(twin, tmp_path):
    db = tmp_path / "station.db"
    twin.power_off()
    first = spool_for(twin, db)
    job_id = first.submit("label", LABEL)
    assert first.job(job_id).state == "queued"
    first.stop()

    twin.power_on()
    second = spool_for(twin, db)
    try:
        assert second.wait(job_id, WAIT).state == "printed"
        assert twin.wait_for_jobs(1) == [render(LABEL, "escpos")]
    finally:
        second.stop()


def test_printer_spool_waits_while_printer_is_off_then_prints(twin, tmp_path):
    inputs: queue.Queue = queue.Queue()
    twin.power_off()
    spool = spool_for(twin, tmp_path / "station.db", inputs.put)
    try:
        job_id = spool.submit("label", LABEL)
        assert "missing" in wait_state(inputs, "missing")
        assert spool.job(job_id).state == "queued"
        twin.power_on()
        assert spool.wait(job_id, WAIT).state == "printed"
        assert twin.jobs() == [render(LABEL, "escpos")]
    finally:
        spool.stop()


@pytest.mark.parametrize("language", ["escpos", "zpl"])
def test_printer_spool_waits_while_paper_is_out(twin, tmp_path, language):
    inputs: queue.Queue = queue.Queue()
    twin.paper_out = True
    spool = spool_for(twin, tmp_path / "station.db", inputs.put, language)
    try:
        job_id = spool.submit("label", LABEL)
        assert "fault: paper out" in wait_state(inputs, "fault: paper out")
        assert spool.job(job_id).state == "queued"
        assert twin.jobs() == []
        twin.paper_out = False
        assert spool.wait(job_id, WAIT).state == "printed"
        assert "ready" in wait_state(inputs, "ready")
    finally:
        spool.stop()


@pytest.mark.parametrize("language", ["escpos", "zpl"])
def test_printer_spool_dropped_connection_gives_partial_and_no_resend(twin, tmp_path, language):
    twin.drop_next_job(after_bytes=20)
    spool = spool_for(twin, tmp_path / "station.db", language=language)
    try:
        job_id = spool.submit("label", LABEL)
        job = spool.wait(job_id, WAIT)
        assert job.state == "partial"
        assert "connection lost" in job.error
        # The worker goes on (a second job prints) but never sends the partial one again.
        later = spool.submit("label", bin_label("B-02"))
        assert spool.wait(later, WAIT).state == "printed"
        whole = render(LABEL, language)
        assert twin.wait_for_jobs(2) == [whole[:20], render(bin_label("B-02"), language)]
        assert spool.job(job_id).state == "partial"
    finally:
        spool.stop()


def test_printer_spool_reprint_sends_the_same_bytes_as_a_new_job(twin, tmp_path):
    twin.drop_next_job(after_bytes=20)
    spool = spool_for(twin, tmp_path / "station.db")
    try:
        job_id = spool.submit("label", LABEL)
        assert spool.wait(job_id, WAIT).state == "partial"
        again = spool.reprint(job_id)
        assert spool.wait(again, WAIT).state == "printed"
        assert spool.job(again).reprint_of == job_id
        last = spool.reprint_last()
        assert spool.wait(last, WAIT).state == "printed"
        assert spool.job(last).reprint_of == again
        whole = render(LABEL, "escpos")
        assert twin.wait_for_jobs(3) == [whole[:20], whole, whole]
    finally:
        spool.stop()


def test_printer_spool_job_caught_sending_by_a_crash_is_partial_after_restart(tmp_path):
    db = tmp_path / "station.db"
    PrintSpool(db).stop()  # creates the table
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO print_jobs (printer, kind, title, language, data, state) "
            "VALUES ('label', 'bin', 'bin: X', 'zpl', ?, 'sending')",
            (b"^XA^XZ",),
        )
    spool = PrintSpool(db)
    try:
        [job] = spool.jobs()
        assert (job.state, job.error) == ("partial", "the station stopped while sending")
    finally:
        spool.stop()


def test_printer_spool_rejects_unknown_printer_and_job(twin, tmp_path):
    spool = spool_for(twin, tmp_path / "station.db")
    try:
        with pytest.raises(ValueError, match="unknown printer 'dock'"):
            spool.submit("dock", LABEL)
        with pytest.raises(KeyError):
            spool.reprint(99)
        assert spool.jobs() == []
    finally:
        spool.stop()


def test_printer_unplug_and_replug_shows_missing_then_ready(twin, tmp_path):
    inputs: queue.Queue = queue.Queue()
    spool = spool_for(twin, tmp_path / "station.db", inputs.put)
    try:
        assert wait_state(inputs, "ready")[-1] == "ready"
        twin.power_off()
        assert wait_state(inputs, "missing")[-1] == "missing"
        twin.power_on()
        assert wait_state(inputs, "ready")[-1] == "ready"
    finally:
        spool.stop()
