"""Status replies to DLE EOT n and ~HS, including empty and invalid ones."""

import pytest

from station.drivers.printers.status import (
    ZplStatusError,
    parse_escpos,
    parse_zpl_host_status,
    status_byte,
)

OK = b"\x12"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"", None),  # no reply is unknown, never "paper OK"
        (b"\x12", 0x12),
        (b"\x1a", 0x1A),  # offline bit set, still a valid status byte
        (b"\x72", 0x72),
        (b"\x00", None),  # bit 4 and bit 1 must be set
        (b"\x13", None),  # bit 0 must be clear
        (b"\x92", None),  # bit 7 must be clear
        (b"\x12\x12", None),  # one query, one byte
        (b"OK", None),
    ],
)
def test_printer_escpos_status_byte_is_validated(reply, expected):
    assert status_byte(reply) == expected


@pytest.mark.parametrize(
    ("printer", "cause", "paper", "state", "known"),
    [
        (OK, OK, OK, "ready", True),
        (b"\x1a", OK, OK, "fault: offline", True),
        (b"\x1a", b"\x16", OK, "fault: head open", True),  # cover open
        (b"\x1a", b"\x32", b"\x72", "fault: paper out", True),
        (OK, OK, b"\x1e", "ready", True),  # near end is a warning, not a stop
        (OK, None, b"\x72", "fault: paper out", True),  # without DLE EOT 2
        (b"", b"", b"", "ready", False),  # no answer at all: unknown, the job may go
        (b"\xff", OK, b"", "ready", False),
    ],
)
def test_printer_escpos_status_table(printer, cause, paper, state, known):
    status = parse_escpos(printer, paper, offline_cause=cause)
    assert status.device_state == state
    assert status.known is known


def test_printer_escpos_empty_paper_reply_is_unknown_not_paper_ok():
    status = parse_escpos(OK, b"")
    assert status.paper_out is None and status.paper_low is None
    assert "paper status no reply" in status.note


def test_printer_escpos_paper_near_end_is_reported():
    assert parse_escpos(OK, b"\x1e").paper_low is True


def zpl(paper="0", paused="0", head="0", ribbon="0"):
    return (
        f"\x02030,{paper},{paused},1218,000,0,0,0,000,0,0,0\x03\r\n"
        f"\x02001,0,{head},{ribbon},0,2,6,0,00000000,1,000\x03\r\n"
        "\x021234,0\x03\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("reply", "state"),
    [
        (zpl(), "ready"),
        (zpl(paper="1"), "fault: paper out"),
        (zpl(paused="1"), "fault: paused"),
        (zpl(head="1"), "fault: head open"),
        (zpl(ribbon="1"), "fault: ribbon out"),
        (zpl(paper="1", head="1"), "fault: paper out"),
    ],
)
def test_printer_zpl_host_status_table(reply, state):
    assert parse_zpl_host_status(reply).device_state == state


@pytest.mark.parametrize(
    "reply",
    [
        b"",
        zpl()[:40],  # only part of the first string
        b"\x02030,0\x03\r\n\x02001\x03\r\n\x021234,0\x03\r\n",  # too few fields
        zpl(paper="x"),
    ],
)
def test_printer_zpl_host_status_rejects_incomplete_or_malformed(reply):
    with pytest.raises(ZplStatusError):
        parse_zpl_host_status(reply)
