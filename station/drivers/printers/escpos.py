"""Renders a label to ESC/POS bytes with python-escpos' `Dummy` printer and a profile."""

import contextlib
import io

from escpos.printer import Dummy

from station.drivers.printers.labels import Barcode, Label, Text


def render_escpos(label: Label, profile: str | None = None) -> bytes:
    """The label's bytes for a receipt-width ESC/POS printer (`profile` as in escpos-printer-db)."""
    printer = Dummy(profile=profile) if profile else Dummy()
    # python-escpos prints "Using hardware barcode renderer" to stdout; keep stdout for
    # the probe's JSON lines.
    with contextlib.redirect_stdout(io.StringIO()):
        printer.hw("INIT")
        for element in label.elements:
            if isinstance(element, Text):
                _text(printer, element)
            else:
                _barcode(printer, element)
        printer.cut()
    return printer.output


def _text(printer: Dummy, text: Text) -> None:
    printer.set(align="left", bold=text.bold, double_width=text.large, double_height=text.large)
    printer.textln(text.text)
    if text.large or text.bold:
        printer.set(normal_textsize=True, bold=False)


def _barcode(printer: Dummy, barcode: Barcode) -> None:
    # Function B with code set B; a literal "{" is written "{{" in ESC/POS Code 128 data.
    data = "{B" + barcode.data.replace("{", "{{")
    printer.barcode(data, "CODE128", height=80, width=2, pos="BELOW", function_type="B")
    printer.ln()
    printer.set(align="left")
