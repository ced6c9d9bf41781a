"""What a label says, independent of the printer language.

A label is a short list of text lines and barcodes; `escpos.py` and `zpl.py` each turn
the same description into their printer's bytes, so the warehouse's three labels are
written once here.
"""

from datetime import date
from decimal import Decimal
from typing import Literal

import msgspec

from protocol.labels import own_label

LabelKind = Literal["shipping", "putaway", "bin", "test"]


class Text(msgspec.Struct, frozen=True, tag=True):
    text: str
    large: bool = False
    bold: bool = False


class Barcode(msgspec.Struct, frozen=True, tag=True):
    """A Code 128 barcode with its human-readable text below."""

    data: str


Element = Text | Barcode


class Label(msgspec.Struct, frozen=True):
    kind: LabelKind
    elements: list[Element]

    @property
    def title(self) -> str:
        """A one-line summary for the spool list and the kiosk."""
        first = next((e.text for e in self.elements if isinstance(e, Text)), "")
        return f"{self.kind}: {first}"


class LabelError(ValueError):
    """The label cannot be printed as asked (for example a barcode a printer cannot encode)."""


def check_code128(data: str) -> str:
    # Printable ASCII only: Code 128 set B has nothing else, and FNC1 cannot be sent
    # through python-escpos' CODE128 (its issue #374).
    if not data or any(not (32 <= ord(ch) < 127) for ch in data):
        raise LabelError(f"barcode data {data!r}: Code 128 takes 1-80 printable ASCII characters")
    if len(data) > 80:
        raise LabelError(f"barcode data {data!r}: longer than 80 characters")
    return data


def shipping_label(
    order: str, customer: str, lines: int, weight_g: Decimal | float | int | None,
    to_site: str | None = None,
) -> Label:  # fmt: skip
    """`weight_g` None: the parcel was not weighed (a bench without a scale); `to_site`: a
    transfer to another site of the company, which the label says in large letters (the
    receiving dock scans its barcode, the transfer's number)."""
    weight = "not weighed"
    if weight_g is not None:
        weight = f"{(Decimal(str(weight_g)) / 1000).quantize(Decimal('0.001'))} kg"
    heading = [Text(f"ORDER {order}", large=True, bold=True), Text(customer)]
    code = order
    if to_site:
        heading = [Text(f"TRANSFER {order}", large=True, bold=True),
                   Text(f"TO SITE {to_site}", large=True, bold=True)]  # fmt: skip
        code = own_label("PO", order)  # the receiving dock opens the transfer with it
    return Label(
        kind="shipping",
        elements=[
            *heading,
            Text(f"Lines: {lines}   Weight: {weight}"),
            Barcode(check_code128(code)),
        ],
    )


def putaway_label(
    sku: str,
    name: str,
    qty: Decimal | int,
    location: str,
    lot: str | None = None,
    expiry: date | None = None,
) -> Label:
    elements: list[Element] = [Text(f"SKU {sku}", large=True, bold=True), Text(name)]
    details = []
    if lot:
        details.append(f"Lot: {lot}")
    if expiry:
        details.append(f"Exp: {expiry.isoformat()}")
    if details:
        elements.append(Text("   ".join(details)))
    elements += [
        Text(f"Qty: {qty}"),
        Text(f"PUT AWAY TO {location}", large=True, bold=True),
        Barcode(check_code128(location)),
    ]
    return Label(kind="putaway", elements=elements)


def bin_label(location: str) -> Label:
    return Label(
        kind="bin",
        elements=[Text(location, large=True, bold=True), Barcode(check_code128(location))],
    )


def probe_label(printer: str, language: str) -> Label:
    """What the technician's probe prints: proves text, sizes and barcodes work."""
    return Label(
        kind="test",
        elements=[
            Text("TEST LABEL", large=True, bold=True),
            Text(f"printer {printer} ({language})"),
            Barcode(check_code128("TEST-0123456789")),
        ],
    )
