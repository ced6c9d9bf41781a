"""Every label in both languages, sent to the loopback printer, matches its golden bytes.

Set UPDATE_GOLDEN=1 to rewrite the files after an intended layout change (and review
the diff).
"""

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from station.drivers.printers.endpoint import parse_endpoint
from station.drivers.printers.labels import bin_label, putaway_label, shipping_label
from station.drivers.printers.links import make_link
from station.drivers.printers.render import render
from station.drivers.sim.printer import BarcodeMark, Cut, PrinterTwin, TextLine, tokenize_escpos

GOLDEN = Path(__file__).parent / "golden" / "labels"

LABELS = {
    "shipping": shipping_label("SO-1042", "Müller & Söhne GmbH", 3, Decimal("1250")),
    "putaway": putaway_label(
        "SKU-7731", "Widget, blue, 10 pack", 12, "A-01-02", "LOT42", date(2026, 5, 31)
    ),
    "bin": bin_label("A-01-02"),
}
SUFFIX = {"escpos": "bin", "zpl": "zpl"}


@pytest.fixture
def printer_twin():
    with PrinterTwin() as twin:
        yield twin


@pytest.mark.parametrize("language", sorted(SUFFIX))
@pytest.mark.parametrize("kind", sorted(LABELS))
def test_printer_label_bytes_on_the_wire_match_golden(printer_twin, kind, language):
    link = make_link(parse_endpoint(printer_twin.url), language, timeout=5)
    link.open()
    try:
        link.send(render(LABELS[kind], language))
    finally:
        link.close()
    [received] = printer_twin.wait_for_jobs(1)
    golden = GOLDEN / f"{kind}.{SUFFIX[language]}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(received)
    assert received == golden.read_bytes()


def test_printer_escpos_shipping_label_reads_back_as_text_and_barcode():
    assert tokenize_escpos(render(LABELS["shipping"], "escpos")) == [
        TextLine("ORDER SO-1042", bold=True, large=True),
        TextLine("Müller & Söhne GmbH"),
        TextLine("Lines: 3   Weight: 1.250 kg"),
        BarcodeMark("CODE128", "SO-1042"),
        Cut(),
    ]


def test_printer_escpos_putaway_label_names_lot_expiry_and_location():
    tokens = tokenize_escpos(render(LABELS["putaway"], "escpos"))
    assert TextLine("Lot: LOT42   Exp: 2026-05-31") in tokens
    assert TextLine("Qty: 12") in tokens
    assert tokens[-2:] == [BarcodeMark("CODE128", "A-01-02"), Cut()]


def test_printer_zpl_escapes_control_characters_and_non_ascii():
    zpl = render(shipping_label("SO^1~_", "Zoë", 1, 1), "zpl").decode("ascii")
    assert "^FH_^FDZo_C3_AB^FS" in zpl
    assert "^FH_^FDSO_5E1_7E_5F^FS" in zpl
    assert zpl.startswith("^XA\n^CI28\n") and zpl.endswith("^XZ\n")
