"""Barcode tables: every symbology and AI we read, our own labels, and what is refused."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.messages import GtinUnits
from station.barcodes import (
    Command,
    Item,
    Location,
    LotExpiry,
    Meaning,
    Operator,
    OrderRef,
    PurchaseOrderRef,
    Quantity,
    Sscc,
    Unknown,
    Unreadable,
    interpret,
)
from tests.workflow_catalog import GS, WIDGET, WIDGET_CASE, Catalog, gtin14

CATALOG = Catalog()
# The same product in every GTIN length: GTIN-13, UPC-A (and its UPC-E form), EAN-8.
UPC_A = "042100005264"
UPC_E = "04252614"
EAN_8 = "96385074"
CATALOG.products["BOLT"].gtins.extend([GtinUnits(gtin=UPC_A), GtinUnits(gtin=EAN_8)])

ITEM = Item("WIDGET", gtin=WIDGET)

TABLE = [
    # GTINs by symbology
    ("ean13", WIDGET[1:], "]E0", ITEM),
    ("ean13_no_aim", WIDGET[1:], None, ITEM),
    ("gtin14_no_aim", WIDGET, None, ITEM),
    ("upc_a", UPC_A, "]E0", Item("BOLT", gtin="00" + UPC_A)),
    ("upc_e", UPC_E, None, Item("BOLT", gtin="00" + UPC_A)),
    ("ean8", EAN_8, "]E4", Item("BOLT", gtin="000000" + EAN_8)),
    ("ean13_addon", WIDGET[1:] + "12", "]E3", ITEM),
    ("itf14_case", WIDGET_CASE, "]I1", Item("WIDGET", units=6, gtin=WIDGET_CASE, per_gtin=6)),
    ("bad_check_digit", WIDGET[1:-1] + "0", "]E0", Unknown),
    ("unknown_gtin", gtin14("0999999999999"), None, Unknown),
    # GS1 element strings by symbology
    ("gs1_128_ai01", "01" + WIDGET, "]C1", ITEM),
    ("gs1_datamatrix", "01" + WIDGET, "]d2", ITEM),
    ("gs1_qr", "01" + WIDGET, "]Q3", ITEM),
    ("aim_in_the_code", "]C101" + WIDGET, None, ITEM),
    (
        "lot_expiry_serial",
        "01" + WIDGET + "17270131" + "10LOT42" + GS + "21SER1",
        "]C1",
        Item("WIDGET", gtin=WIDGET, lot="LOT42", expiry=date(2027, 1, 31), serial="SER1"),
    ),
    (
        "count_ai30",
        "01" + WIDGET_CASE + "302",
        "]C1",
        Item("WIDGET", units=12, gtin=WIDGET_CASE, per_gtin=6, count=2),
    ),
    (
        "contents_ai02_count_ai37",
        "00376104250021234569" + "02" + WIDGET + "3712",
        "]C1",
        Item("WIDGET", units=12, gtin=WIDGET, count=12, sscc="376104250021234569"),
    ),
    (
        "net_weight_3103",
        "01" + WIDGET + "3103001250",
        "]C1",
        Item("WIDGET", gtin=WIDGET, net_weight_g=Decimal("1250")),
    ),
    (
        "gs1_digital_link",
        f"https://id.gs1.org/01/{WIDGET}/10/L7?17=270131",
        "]Q1",
        Item("WIDGET", gtin=WIDGET, lot="L7", expiry=date(2027, 1, 31)),
    ),
    ("not_a_digital_link", "https://example.com/hello", "]Q1", Unknown),
    ("sscc_ai00", "00376104250021234569", "]C1", Sscc("376104250021234569")),
    ("lot_only", "17270131" + "10L7", "]C1", LotExpiry("L7", date(2027, 1, 31))),
    ("bad_date", "01" + WIDGET + "17270230", "]C1", Unknown),
    ("bad_gs1_check_digit", "01" + WIDGET[:-1] + "0", "]C1", Unknown),
    # A missing GS makes the lot swallow the serial's AI and digits
    (
        "missing_gs",
        "01" + WIDGET + "10LOT42" + "21SER1",
        "]C1",
        Item("WIDGET", gtin=WIDGET, lot="LOT4221SER1"),
    ),
    ("missing_gs_overlong", "01" + WIDGET + "10" + "L" * 25, "]C1", Unknown),
    ("plain_code128_is_not_gs1", "01" + WIDGET, "]C0", Unknown),
    # our own labels
    ("location", "LOC:A-03-2", "]C0", Location("A-03-2")),
    ("order", "ORD:SO-1", None, OrderRef("SO-1")),
    ("purchase_order", "PO:PO-7", None, PurchaseOrderRef("PO-7")),
    ("operator", "op:alice", None, Operator("alice")),
    ("quantity", "QTY:12", None, Quantity(12)),
    ("quantity_zero", "QTY:0", None, Unknown),
    ("quantity_text", "QTY:ten", None, Unknown),
    ("command", "CMD:DONE", None, Command("done")),
    ("command_lowercase", "cmd:undo", None, Command("undo")),
    ("short_with_reason", "CMD:SHORT:damaged", None, Command("short", "damaged")),
    ("mode", "CMD:MODE:RECEIVE", None, Command("mode", "receive")),
    ("bad_mode", "CMD:MODE:DANCE", None, Unknown),
    ("adjust_reason", "CMD:REASON:FOUND", None, Command("reason", "found")),
    ("first_task", "CMD:TASK", None, Command("task")),
    ("task_keeps_its_case", "CMD:TASK:CT-000001", None, Command("task", "CT-000001")),
    ("bad_task", "CMD:TASK:a b", None, Unknown),
    ("unknown_command", "CMD:FLY", None, Unknown),
    ("bad_location", "LOC:a b", None, Unknown),
    ("empty", "", None, Unknown),
    ("only_aim", "]", None, Unknown),
    # bare numbers as printed on paperwork
    ("bare_sku", "BOLT", "]C0", Item("BOLT")),
    ("bare_order", "SO-1", None, OrderRef("SO-1")),
    ("bare_po", "PO-7", None, PurchaseOrderRef("PO-7")),
    ("bare_unknown", "XYZ-1", None, Unknown),
]


@pytest.mark.parametrize(
    ("code", "symbology", "expected"), [t[1:] for t in TABLE], ids=[t[0] for t in TABLE]
)
def test_barcodes_interpret_table(code, symbology, expected):
    meaning = interpret(code, symbology, CATALOG)
    if expected is Unknown:
        assert isinstance(meaning, Unknown)
        assert meaning.reason
    else:
        assert meaning == expected


def test_barcodes_custom_separator_ends_variable_fields():
    code = "01" + WIDGET + "10LOT42|21SER1"
    assert isinstance(interpret(code, "]C1", CATALOG), Unknown)  # "|" is not a lot character
    meaning = interpret(code, "]C1", CATALOG, separators=("\x1d", "|"))
    assert (meaning.lot, meaning.serial) == ("LOT42", "SER1")


def test_barcodes_unknown_says_why():
    assert "check digit" in interpret(WIDGET[1:-1] + "0", "]E0", CATALOG).reason
    assert "not in the catalog" in interpret(gtin14("0999999999999"), None, CATALOG).reason
    assert "(17)" in interpret("01" + WIDGET + "17270230", "]C1", CATALOG).reason


@pytest.mark.parametrize(("code", "symbology", "shown"), [
    ("SO\x00-1", None, "SO\\x00-1"),
    ("]C101" + WIDGET + "10L1\x1d\x0021S", None, "]C101" + WIDGET + "10L1\x1d\\x0021S"),
    ("\x00", "]C0", "\\x00"),
    ("LOC:A-01\x7f", None, "LOC:A-01\\x7f"),
    ("PO-7|\x85", None, "PO-7|\\x85"),
])  # fmt: skip
def test_a_code_with_a_control_character_is_unreadable_and_shown_escaped(code, symbology, shown):
    """NUL and the like (never in our barcodes: a garbled scan) are not read as anything;
    the GS1 separator and a configured substitute stay what they are."""
    meaning = interpret(code, symbology, CATALOG, separators=("\x1d", "|"))
    assert meaning == Unreadable(shown)
    assert "\x00" not in meaning.shown


def test_separators_and_end_of_line_characters_are_not_control_characters_of_a_scan():
    code = "01" + WIDGET + "10LOT42\x1d21SER1\r\n"
    assert interpret(code, "]C1", CATALOG) == Item("WIDGET", gtin=WIDGET, lot="LOT42",
                                                   serial="SER1")  # fmt: skip


MEANINGS = (
    Item,
    LotExpiry,
    Sscc,
    Location,
    OrderRef,
    PurchaseOrderRef,
    Operator,
    Command,
    Quantity,
    Unknown,
    Unreadable,
)
AIMS = st.sampled_from([None, "]C0", "]C1", "]d2", "]Q3", "]E0", "]E3", "]E4", "]I1", "]X9"])
CODES = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="0123456789\x1d", max_size=60),
    st.builds(
        lambda p, s: p + s,
        st.sampled_from(["LOC:", "CMD:", "QTY:", "]C1", "01", "]"]),
        st.text(max_size=30),
    ),
)


@settings(max_examples=500, deadline=None)
@given(code=CODES, symbology=AIMS)
def test_barcodes_random_strings_resolve_to_one_meaning(code, symbology):
    meaning: Meaning = interpret(code, symbology, CATALOG)
    assert isinstance(meaning, MEANINGS)
