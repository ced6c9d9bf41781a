"""Parses printer status replies (ESC/POS `DLE EOT n`, ZPL `~HS`). Pure: bytes in, status out.

python-escpos 3.1 reports "paper OK" when the printer answers nothing, and never checks
that a reply is a status byte at all; a station that believed it would print into the
void. Here an empty or malformed reply is "unknown", never good news.
"""

from dataclasses import dataclass

DLE_EOT_PRINTER = b"\x10\x04\x01"  # printer status: bit 3 offline
DLE_EOT_OFFLINE_CAUSE = b"\x10\x04\x02"  # bit 2 cover open, bit 5 stopped by paper end
DLE_EOT_PAPER = b"\x10\x04\x04"  # roll paper sensor: bits 2-3 near end, bits 5-6 paper end
ZPL_HOST_STATUS = b"~HS"

# Every DLE EOT reply has the form 0xx1xx10: bits 0, 1, 4 and 7 are fixed.
_FIXED_MASK = 0b1001_0011
_FIXED_BITS = 0b0001_0010


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said about itself. None: it did not say (unknown)."""

    online: bool | None = None
    paper_out: bool | None = None
    paper_low: bool | None = None
    head_open: bool | None = None
    paused: bool | None = None
    ribbon_out: bool | None = None
    error: str | None = None  # the status query itself failed in a way that means trouble
    note: str = ""

    @property
    def known(self) -> bool:
        return self.online is not None or self.paper_out is not None

    @property
    def problem(self) -> str | None:
        """The reason the printer cannot print now, if it said so."""
        if self.error:
            return self.error
        for flag, why in (
            (self.paper_out, "paper out"),
            (self.head_open, "head open"),
            (self.ribbon_out, "ribbon out"),
            (self.paused, "paused"),
        ):
            if flag:
                return why
        if self.online is False:
            return "offline"
        return None

    @property
    def device_state(self) -> str:
        """The state the station shows: "ready" or "fault: <why>"."""
        problem = self.problem
        return f"fault: {problem}" if problem else "ready"


def status_byte(reply: bytes) -> int | None:
    """The one status byte of a DLE EOT reply, or None if the reply is empty or malformed."""
    if len(reply) != 1:
        return None
    byte = reply[0]
    if byte & _FIXED_MASK != _FIXED_BITS:
        return None
    return byte


def parse_escpos(printer: bytes, paper: bytes, offline_cause: bytes | None = None) -> PrinterStatus:
    """Combine the replies to DLE EOT 1, DLE EOT 4 and (optionally) DLE EOT 2."""
    notes = []
    online = paper_out = paper_low = head_open = None
    byte = status_byte(printer)
    if byte is None:
        notes.append(f"printer status {_show(printer)}")
    else:
        online = not byte & 0x08
    byte = status_byte(paper)
    if byte is None:
        notes.append(f"paper status {_show(paper)}")
    else:
        paper_out = byte & 0x60 == 0x60
        paper_low = byte & 0x0C == 0x0C
    if offline_cause is not None:
        byte = status_byte(offline_cause)
        if byte is None:
            notes.append(f"offline cause {_show(offline_cause)}")
        else:
            head_open = bool(byte & 0x04)
            if byte & 0x20:  # stopped by paper end; a clear bit says nothing new
                paper_out = True
    return PrinterStatus(
        online=online,
        paper_out=paper_out,
        paper_low=paper_low,
        head_open=head_open,
        note="; ".join(notes),
    )


def _show(reply: bytes) -> str:
    return "no reply" if not reply else f"invalid reply {reply.hex(' ')}"


class ZplStatusError(ValueError):
    """A `~HS` reply that is not three STX..ETX strings of the documented shape."""


def zpl_strings(reply: bytes) -> list[str] | None:
    """The STX..ETX strings of a `~HS` reply once all three have arrived, else None."""
    strings = []
    rest = reply
    while len(strings) < 3:
        start = rest.find(b"\x02")
        end = rest.find(b"\x03", start + 1)
        if start < 0 or end < 0:
            return None
        strings.append(rest[start + 1 : end].decode("ascii", "replace"))
        rest = rest[end + 1 :]
    return strings


def parse_zpl_host_status(reply: bytes) -> PrinterStatus:
    """Parse `~HS`: string 1 `aaa,b,c,...` (b paper out, c paused), string 2
    `mmm,n,o,p,...` (o head up, p ribbon out), string 3 `xxxx,y`."""
    strings = zpl_strings(reply)
    if strings is None:
        raise ZplStatusError(f"incomplete ~HS reply: {reply!r}")
    first, second = strings[0].split(","), strings[1].split(",")
    if len(first) < 3 or len(second) < 4:
        raise ZplStatusError(f"malformed ~HS reply: {reply!r}")
    return PrinterStatus(
        online=True,
        paper_out=_flag(first[1], reply),
        paused=_flag(first[2], reply),
        head_open=_flag(second[2], reply),
        ribbon_out=_flag(second[3], reply),
    )


def _flag(field: str, reply: bytes) -> bool:
    if field.strip() not in ("0", "1"):
        raise ZplStatusError(f"malformed ~HS flag {field!r} in {reply!r}")
    return field.strip() == "1"
