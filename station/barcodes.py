"""What a scanned code means at the bench: one `Meaning` for every code, never an exception.

GS1 data (GTINs, SSCCs, GS1-128 / DataMatrix / QR element strings) is parsed by biip; the
AIM symbology identifier decides whether a code may be GS1 at all, because plain Code 128
and GS1-128 carry the same characters. The warehouse's own labels (locations, orders,
purchase orders, operator badges, quantities, commands) use a `PREFIX:value` format made of
Code 128-safe ASCII; docs/workflows.md lists them.

biip is imported by the first code that needs it, not at start: importing it loads GS1's
company-prefix table, 16 MB of a station's 53 (docs/performance.md), which a station that
scans only the warehouse's own labels never uses.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from protocol.labels import ARG_COMMANDS, CODE, COMMANDS, MAX_QTY, REASON, WORD_COMMANDS
from protocol.messages import Order, Product, PurchaseOrder, ScanRead

if TYPE_CHECKING:
    import biip
    from biip.gs1_element_strings import GS1ElementStrings

GS = "\x1d"

_AIM = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_GS1_AIMS = frozenset({"]C1", "]d2", "]Q3", "]e0", "]J1"})
_EAN_AIMS = frozenset({"]E0", "]E3", "]E4", "]I1"})


class CatalogLookups(Protocol):
    """The part of the station's cache that barcodes need."""

    def product(self, sku: str) -> Product | None: ...

    def product_by_gtin(self, gtin: str) -> tuple[Product, int] | None: ...

    def order(self, order: str) -> Order | None: ...

    def purchase_order(self, po: str) -> PurchaseOrder | None: ...


@dataclass(frozen=True)
class Item:
    """Units of one product: `units` is what the scan stands for in total."""

    sku: str
    units: int = 1
    gtin: str | None = None
    per_gtin: int = 1  # a case GTIN stands for this many units
    count: int | None = None  # AI 30 / 37: how many of the GTIN the code carries
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None
    net_weight_g: Decimal | None = None
    sscc: str | None = None


@dataclass(frozen=True)
class LotExpiry:
    """A GS1 code with a lot and/or expiry but no GTIN: goes with the item scanned nearby."""

    lot: str | None = None
    expiry: date | None = None


@dataclass(frozen=True)
class Sscc:
    """A pallet or parcel label (AI 00) without the contents' GTIN."""

    sscc: str


@dataclass(frozen=True)
class Location:
    location: str


@dataclass(frozen=True)
class OrderRef:
    order: str


@dataclass(frozen=True)
class PurchaseOrderRef:
    po: str


@dataclass(frozen=True)
class ReturnRef:
    """A return label: the RMA number other systems created through POST /api/returns."""

    rma: str


@dataclass(frozen=True)
class Operator:
    operator: str


@dataclass(frozen=True)
class Command:
    name: str  # one of COMMANDS or ARG_COMMANDS
    arg: str | None = None


@dataclass(frozen=True)
class Quantity:
    qty: int


@dataclass(frozen=True)
class Unknown:
    reason: str


@dataclass(frozen=True)
class Unreadable:
    """A code holding a control character none of our barcodes carries (NUL, ...): the
    scanner or its link garbled it. `shown`: the code with each such character as \\xNN,
    as the scan's event records it, so that no journaled event holds one (PostgreSQL's
    text cannot hold a NUL: docs/protocol.md)."""

    shown: str


Meaning = (
    Item
    | LotExpiry
    | Sscc
    | Location
    | OrderRef
    | PurchaseOrderRef
    | ReturnRef
    | Operator
    | Command
    | Quantity
    | Unknown
    | Unreadable
)


def interpret(
    code: str,
    symbology: str | None,
    lookups: CatalogLookups,
    separators: tuple[str, ...] = (GS,),
) -> Meaning:
    """What `code` (as the scanner sent it, AIM id split off or not) means here."""
    if _garbled(code, separators):
        return Unreadable(_visible(code, separators))
    if symbology is None and _AIM.match(code):
        symbology, code = code[:3], code[3:]
    code = code.strip(" \r\n\t")
    if not code:
        return Unknown("empty barcode")
    if symbology in _GS1_AIMS:
        return _gs1(symbology + code, lookups, separators)
    if symbology in _EAN_AIMS:
        return _ean_upc(code, symbology, lookups)
    own = _own_label(code)
    if own is not None:
        return own
    if code.startswith(("https://", "http://")):
        return _digital_link(code, lookups)
    if symbology is None and code[0].isdigit():
        return _digits_without_aim(code, lookups, separators)
    return _bare(code, lookups)


# --- the warehouse's own labels ---------------------------------------------------------


def _own_label(code: str) -> Meaning | None:
    """`PREFIX:value` labels, or None when the code has none of our prefixes."""
    prefix, sep, value = code.partition(":")
    if not sep:
        return None
    prefix = prefix.upper()
    if prefix in _CODE_PREFIXES:
        if not CODE.match(value):
            return Unknown(f"{prefix}: label with a bad code {value!r} (letters, digits, . _ -)")
        return _CODE_PREFIXES[prefix](value)
    if prefix == "QTY":
        return _quantity(value)
    if prefix == "CMD":
        return _command(value)
    return None


_CODE_PREFIXES = {
    "LOC": Location,
    "ORD": OrderRef,
    "PO": PurchaseOrderRef,
    "OP": Operator,
    "RMA": ReturnRef,
}


def _quantity(value: str) -> Meaning:
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_QTY:
        return Unknown(f"QTY: label needs a whole number from 1 to {MAX_QTY}, got {value!r}")
    return Quantity(int(value))


def _command(value: str) -> Meaning:
    name, _, arg = value.partition(":")
    name = name.lower()
    if name == "task":  # a task id is the hub's code, as it was issued: keep its case
        return _task(arg)
    arg = arg.lower() or None
    if name in ARG_COMMANDS:
        allowed = ARG_COMMANDS[name]
        if arg not in allowed:
            return Unknown(f"CMD:{name.upper()} needs one of {', '.join(allowed)}, got {arg!r}")
        return Command(name, arg)
    if name not in COMMANDS:
        return Unknown(f"unknown command {name!r}")
    if arg is not None and not REASON.match(arg):
        return Unknown(f"CMD:{name.upper()} argument {arg!r} is not a plain word")
    if arg is not None and name not in WORD_COMMANDS:
        return Unknown(f"CMD:{name.upper()} takes no argument")
    return Command(name, arg)


def _task(arg: str) -> Meaning:
    if arg and not CODE.match(arg):
        return Unknown(f"CMD:TASK argument {_shown(arg)} is not a task number")
    return Command("task", arg or None)


def _bare(code: str, lookups: CatalogLookups) -> Meaning:
    """A code with no prefix and no GS1 data: a SKU, order or PO number as printed."""
    if not CODE.match(code):
        return Unknown(f"not a barcode this warehouse uses: {_shown(code)}")
    if lookups.product(code) is not None:
        return Item(code)
    if lookups.order(code) is not None:
        return OrderRef(code)
    if lookups.purchase_order(code) is not None:
        return PurchaseOrderRef(code)
    return Unknown(f"{code} is no known product, order or purchase order")


# --- GS1 ---------------------------------------------------------------------------------


def _digits_without_aim(code: str, lookups: CatalogLookups, separators) -> Meaning:
    """No AIM id: a GTIN if the digits are one, GS1 data if they parse as such, else bare."""
    if code.isdigit() and len(code) in (8, 12, 13, 14):
        return _ean_upc(code, None, lookups)
    if len(code) > 14 and code[:2] in ("00", "01", "02"):
        return _gs1(code, lookups, separators)
    return _bare(code, lookups)


def _ean_upc(code: str, symbology: str | None, lookups: CatalogLookups) -> Meaning:
    import biip
    from biip.gtin import Gtin

    if len(code) in (12, 13, 14) and symbology in (None, "]E0"):
        # The scan of nearly every pick. biip.parse would also try it as UPC-E, SSCC and
        # GS1 data, four times the work of Gtin.parse, the part that answers here (a third
        # of a scan's time at the bench). A bad one goes the long way for biip's reason.
        try:
            return _item(Gtin.parse(code).value, lookups)
        except biip.ParseError:
            pass
    if symbology == "]E3" and len(code) in (14, 15, 17, 18):
        code = code[:-2] if len(code) in (14, 15) else code[:-5]  # drop the add-on
    # Without the AIM id biip also tries UPC-E; ]E4 says it is EAN-8, so keep that.
    value = symbology + code if symbology in ("]E4", "]I1") else code
    result = _parse(value, biip.ParseConfig())
    if isinstance(result, Unknown):
        return result
    if result.gtin is None:
        return Unknown(f"not a valid GTIN: {result.gtin_error or result.upc_error}")
    return _item(result.gtin.value, lookups)


def _gs1(value: str, lookups: CatalogLookups, separators) -> Meaning:
    import biip

    result = _parse(value, biip.ParseConfig(separator_chars=separators))
    if isinstance(result, Unknown):
        return result
    if result.gs1_message is None:
        return Unknown(f"bad GS1 data: {result.gs1_message_error}")
    return _element_strings(result.gs1_message.element_strings, lookups)


def _digital_link(uri: str, lookups: CatalogLookups) -> Meaning:
    """A GS1 Digital Link (a QR code's https://.../01/<gtin>/10/<lot>?17=...)."""
    import biip

    result = _parse(uri, biip.ParseConfig())
    if isinstance(result, Unknown):
        return result
    if result.gs1_digital_link_uri is None:
        return Unknown(f"not a GS1 Digital Link: {result.gs1_digital_link_uri_error}")
    return _element_strings(result.gs1_digital_link_uri.element_strings, lookups)


def _parse(value: str, config: "biip.ParseConfig") -> "biip.ParseResult | Unknown":
    import biip

    try:
        return biip.parse(value, config=config)
    except Exception as exc:  # noqa: BLE001 - biip "never raises" but does on e.g. "]": a bad scan must not kill the bench
        return Unknown(f"unreadable barcode: {exc}")


def _element_strings(es: "GS1ElementStrings", lookups: CatalogLookups) -> Meaning:
    for element in es:
        if element.gtin_error or element.sscc_error:
            return Unknown(
                f"bad GS1 AI ({element.ai.ai}): {element.gtin_error or element.sscc_error}"
            )
    gtin = es.get(ai="01") or es.get(ai="02")
    sscc = es.get(ai="00")
    lot = _value(es, "10")
    expiry = _date(es, "17")
    if gtin is None:
        if sscc is not None:
            return Sscc(sscc.value)
        if lot or expiry:
            return LotExpiry(lot, expiry)
        return Unknown("GS1 data without a GTIN, SSCC, lot or expiry")
    item = _item(gtin.value, lookups)
    if not isinstance(item, Item):
        return item
    count = _count(es)
    if isinstance(count, Unknown):
        return count
    return Item(
        sku=item.sku,
        units=item.per_gtin * (count or 1),
        gtin=item.gtin,
        per_gtin=item.per_gtin,
        count=count,
        lot=lot,
        expiry=expiry,
        serial=_value(es, "21"),
        net_weight_g=_net_weight_g(es),
        sscc=sscc.value if sscc else None,
    )


def _item(gtin: str, lookups: CatalogLookups) -> Meaning:
    gtin14 = gtin.zfill(14)
    found = lookups.product_by_gtin(gtin14)
    if found is None:
        return Unknown(f"GTIN {gtin14} is not in the catalog")
    product, units = found
    return Item(product.sku, units=units, gtin=gtin14, per_gtin=units)


def _value(es: "GS1ElementStrings", ai: str) -> str | None:
    element = es.get(ai=ai)
    return element.value if element else None


def _date(es: "GS1ElementStrings", ai: str) -> date | None:
    element = es.get(ai=ai)
    return element.date if element else None


def _count(es: "GS1ElementStrings") -> int | None | Unknown:
    raw = _value(es, "30") or _value(es, "37")
    if raw is None:
        return None
    if not 0 < int(raw) <= MAX_QTY:
        return Unknown(f"GS1 count {raw} is out of range 1..{MAX_QTY}")
    return int(raw)


def _net_weight_g(es: "GS1ElementStrings") -> Decimal | None:
    # 310n: net weight in kg with n decimals; biip applies the decimals.
    for element in es:
        if element.ai.ai.startswith("310") and element.decimal is not None:
            return element.decimal * 1000
    return None


def read_of(meaning: Meaning) -> ScanRead:
    """What the code was read as, for the station's status (the hub shows it, not the raw
    GS1 string)."""
    match meaning:
        case Item():
            return ScanRead(kind="item", sku=meaning.sku, units=meaning.units, gtin=meaning.gtin,
                            lot=meaning.lot, expiry=meaning.expiry, serial=meaning.serial,
                            sscc=meaning.sscc)  # fmt: skip
        case LotExpiry():
            return ScanRead(kind="lot", lot=meaning.lot, expiry=meaning.expiry)
        case Sscc():
            return ScanRead(kind="sscc", sscc=meaning.sscc)
        case Location():
            return ScanRead(kind="location", ref=meaning.location)
        case OrderRef():
            return ScanRead(kind="order", ref=meaning.order)
        case PurchaseOrderRef():
            return ScanRead(kind="purchase_order", ref=meaning.po)
        case Operator():
            return ScanRead(kind="operator", ref=meaning.operator)
        case Command():
            name = meaning.name if meaning.arg is None else f"{meaning.name} {meaning.arg}"
            return ScanRead(kind="command", ref=name)
        case Quantity():
            return ScanRead(kind="quantity", ref=str(meaning.qty))
        case ReturnRef():
            return ScanRead(kind="return", ref=meaning.rma)
        case Unreadable():
            return ScanRead(kind="unknown", reason=f"unreadable: {meaning.shown[:480]}")
    return ScanRead(kind="unknown", reason=meaning.reason[:500])


def _garbled(code: str, separators: tuple[str, ...]) -> bool:
    """Whether `code` holds a control character other than a GS1 separator or the white
    space a scanner may end a code with."""
    return any(_is_control(c, separators) for c in code)


def _visible(code: str, separators: tuple[str, ...]) -> str:
    """`code` with each control character that `_garbled` looks for written as \\xNN."""
    return "".join(f"\\x{ord(c):02x}" if _is_control(c, separators) else c for c in code)


def _is_control(char: str, separators: tuple[str, ...]) -> bool:
    return unicodedata.category(char) == "Cc" and char not in "\r\n\t" + "".join(separators)


def _shown(code: str) -> str:
    text = code.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 40 else text[:37] + "..."
