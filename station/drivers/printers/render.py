"""One entry point from a label to a printer's bytes, whatever its language."""

from station.drivers.printers.labels import Label
from station.drivers.printers.zpl import render_zpl

LANGUAGES = ("escpos", "zpl")


def render(label: Label, language: str, profile: str | None = None) -> bytes:
    if language == "escpos":
        # python-escpos reads its whole printer-profile database when imported (half a
        # second on a PC): only a station with an ESC/POS printer loads it (build_printer
        # does, at start-up, so the first label does not wait for it).
        from station.drivers.printers.escpos import render_escpos

        return render_escpos(label, profile)
    if language == "zpl":
        return render_zpl(label)
    raise ValueError(f"unknown printer language {language!r}: use escpos or zpl")
