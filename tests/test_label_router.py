"""Label routing: each workflow label goes to the first printer whose roles name its kind,
in the printer's language, through the real spool to loopback printer twins."""

import pytest

from station.config import PrinterConfig
from station.drivers.printers.build import build_printer
from station.drivers.printers.spool import PrintSpool
from station.drivers.sim.printer import BarcodeMark, PrinterTwin, TextLine, tokenize_escpos
from station.label_router import LabelRouter, printed_label, printer_for
from station.workflows.base import Label

SHIPPING = Label(
    "shipping",
    {"order": "SO-7", "customer": "Acme", "lines": "2", "items": "3", "weight_g": "1250"},
)
PUTAWAY = Label(
    "putaway",
    {"sku": "MUG-1", "name": "Mug", "qty": "12", "lot": "L7", "expiry": "2031-05-31",
     "location": "A-01-1", "po": "PO-1"},
)  # fmt: skip


def printers(*entries: tuple[str, list[str]]) -> list[PrinterConfig]:
    return [PrinterConfig(name=n, url="tcp://127.0.0.1:9", roles=r) for n, r in entries]


def test_the_first_printer_whose_roles_name_the_kind_gets_the_label():
    config = printers(("slips", ["putaway", "bin"]), ("parcel", ["shipping"]),
                      ("spare", ["shipping", "putaway"]))  # fmt: skip
    assert printer_for("shipping", config) == "parcel"
    assert printer_for("putaway", config) == "slips"
    assert printer_for("bin", config) == "slips"
    assert printer_for("receipt", config) is None


def test_workflow_fields_become_the_printed_layout():
    shipping = printed_label(SHIPPING)
    assert [e.text for e in shipping.elements[:3]] == [
        "ORDER SO-7", "Acme", "Lines: 2   Weight: 1.250 kg"]  # fmt: skip
    assert shipping.elements[3].data == "SO-7"
    putaway = printed_label(PUTAWAY)
    texts = [getattr(e, "text", None) for e in putaway.elements]
    assert "Lot: L7   Exp: 2031-05-31" in texts and "PUT AWAY TO A-01-1" in texts


def test_an_unweighed_parcel_says_so_on_its_label():
    label = Label("shipping", {"order": "SO-8", "customer": "", "lines": "1", "weight_g": ""})
    assert printed_label(label).elements[2].text == "Lines: 1   Weight: not weighed"


@pytest.fixture
def twins():
    parcel, slips = PrinterTwin().start(), PrinterTwin().start()
    yield parcel, slips
    parcel.stop()
    slips.stop()


@pytest.fixture
def router(tmp_path, twins):
    parcel, slips = twins
    config = [
        PrinterConfig(name="parcel", url=parcel.url, language="zpl", roles=["shipping"]),
        PrinterConfig(name="slips", url=slips.url, language="escpos", roles=["putaway"]),
    ]
    spool = PrintSpool(tmp_path / "spool.db", [build_printer(p) for p in config], poll_s=0.1)
    spool.start()
    yield LabelRouter(config, spool)
    spool.stop()


def test_labels_reach_their_printers_in_their_languages(router, twins):
    parcel, slips = twins
    assert router.submit(SHIPPING) is None
    assert router.submit(PUTAWAY) is None
    (zpl,) = parcel.wait_for_jobs(1)
    assert zpl.startswith(b"^XA") and b"SO-7" in zpl
    (escpos,) = slips.wait_for_jobs(1)
    tokens = tokenize_escpos(escpos)
    assert TextLine("PUT AWAY TO A-01-1", bold=True, large=True) in tokens
    assert BarcodeMark("CODE128", "A-01-1") in tokens


def test_reprint_sends_the_newest_label_again_and_unknown_printers_are_named(router, twins):
    parcel, _ = twins
    assert router.reprint_last() == "Reprint: nothing has been printed yet"
    router.submit(SHIPPING)
    parcel.wait_for_jobs(1)
    assert router.reprint_last("parcel") is None
    first, second = parcel.wait_for_jobs(2)
    assert first == second
    assert router.reprint_last("nope") == "Reprint: no printer nope"


def test_a_label_no_printer_takes_is_reported_not_lost_silently(router):
    assert router.submit(Label("bin", {"location": "B-2"})) == (
        "No printer takes bin labels: not printed"
    )


def test_a_label_that_cannot_be_printed_says_why(router):
    bad = Label("putaway", {**PUTAWAY.fields, "location": "Å-1"})
    assert router.submit(bad).startswith("Putaway label not printed: barcode data 'Å-1'")
