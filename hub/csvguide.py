"""What each column of a CSV import means, with an example: the one place the Import
page's explanations and its template files come from. The columns themselves, and which
are required, are csvio's (`csvio.IMPORTS`); a column there without a description here
fails `tests/test_csv_guide.py`."""

from dataclasses import dataclass

from hub import csvio

# kind -> column -> (what it is, an example cell). The examples make one valid file per
# kind, importable in the order of csvio.IMPORT_ORDER on an empty hub.
DESCRIPTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "products": {
        "sku": ("Your product code: letters, digits, - . _ /", "MUG-WHT"),
        "name": ("The name people read", "Mug, white"),
        "gtins": ("Barcodes (GTIN-8/12/13/14) separated by ;, a case's with *units", "4006381333931;14006381333938*12"),
        "unit_weight_g": ("Weight of one unit in grams (the pack station's weight check)", "350"),
        "unit_cost": ("Cost of one unit, a decimal in the site's currency", "2.40"),
        "suppliers": ("supplier:lead time days:unit cost separated by ;, the preferred first", "acme:7:2.40"),
        "par_level": ("Stock to order up to; empty: computed from demand", "120"),
        "reorder_point": ("Order more at or below this; empty: computed from demand", "40"),
        "safety_stock": ("Units kept against uneven demand; empty: computed", "10"),
        "high_risk": ("Counted more often: true or false", "false"),
        "kit": ("A kit's parts: sku*qty separated by ; (empty for a plain product)", ""),
        "owner": ("Consignment: the owner of all its stock (empty: yours)", ""),
        "lot_tracked": ("Every receipt needs a lot: true or false", "false"),
        "serial_tracked": ("Every unit has a serial number: true or false", "false"),
        "consignment_unit_cost": (
            "Consignment: what a sold unit owes its owner, in the site's currency (optional)", ""
        ),
        "consignment_pct": (
            "Consignment: or a share of the sale price owed, in percent, 0 to 100 (optional)", ""
        ),
    },
    "locations": {
        "code": ("The location's code, as on its LOC: label", "A-01-1"),
        "zone": ("Zone (optional)", "A"),
        "aisle": ("Aisle (optional)", "01"),
        "bay": ("Bay (optional)", "1"),
        "bin": ("Bin (optional)", ""),
        "barcode": ("Ignored on import: exports show the label's text (LOC:code)", ""),
    },
    "suppliers": {
        "supplier": ("The supplier's code", "acme"),
        "name": ("The supplier's name", "ACME Ceramics"),
        "email": ("Where purchase orders go (optional)", "orders@acme.example"),
        "lead_time_days": ("Days from order to delivery (default 14)", "7"),
    },
    "orders": {
        "order": ("The order's number; one row per line, the same number on each", "SO-1001"),
        "sku": ("The product of this line", "MUG-WHT"),
        "qty": ("Units of this line", "2"),
        "lot": ("Only this lot (optional)", ""),
        "dropship": ("Shipped by the supplier straight to the customer: true or false", "false"),
        "supplier": ("For a dropship line: who ships it (default: the preferred one)", ""),
        "customer": ("Who it goes to (the same on each line of the order)", "Jane Doe"),
        "unit_price": ("What the customer pays per unit, for revenue and margin (optional)",
                       "12.90"),
    },
    "purchase-orders": {
        "po": ("The purchase order's number; one row per line, the same on each", "PO-2001"),
        "supplier": ("The supplier's code (the same on each line)", "acme"),
        "expected": ("Date promised, YYYY-MM-DD (empty: today + the lead time)", ""),
        "sku": ("The product of this line", "MUG-WHT"),
        "qty": ("Units ordered", "48"),
        "unit_cost": ("Agreed cost of one unit (optional)", "2.35"),
    },
}  # fmt: skip


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    meaning: str
    example: str


def columns(kind: str) -> list[Column]:
    """The columns of an import of `kind`, in csvio's order, each with its meaning."""
    names, required = csvio.IMPORTS[kind]
    described = DESCRIPTIONS[kind]
    return [Column(name, name in required, *described[name]) for name in names]


def example(kind: str) -> dict[str, str]:
    """One example row of `kind` (the template file's row under its header)."""
    return {column.name: column.example for column in columns(kind)}
