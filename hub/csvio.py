"""CSV import and export of master data, orders and purchase orders.

Imports are all or nothing: every row is validated first, each bad one reported with its
line number (the header is line 1) and the reason; only a file with no bad row is saved,
in one transaction. A dry run makes every check the real import makes (saving included,
in a transaction that is rolled back) and keeps nothing. List cells use `;` between items:
- gtins: `4006381333931;14006381333938*12` (a case GTIN with its unit count after `*`)
- suppliers: `acme:7:1.20;beta::0.95` (supplier:lead time days:unit cost, both optional)
- kit: `MUG-1*2;TEA-1` (component sku, `*` quantity, default 1)
"""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import msgspec

from hub import catalog, orders, purchasing, store
from hub.catalog import Location, ProductRecord, Supplier
from hub.nul import nul_path
from hub.store.connection import Connection
from protocol.envelope import utc_now
from protocol.messages import Order
from protocol.topics import Topics


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


class CsvImportError(ValueError):
    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"line {e.line}: {e.reason}" for e in errors[:20]))


def _items(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(";") if item.strip()]


def _times(item: str) -> tuple[str, str]:
    name, _, qty = item.partition("*")
    return name.strip(), qty.strip() or "1"


def _bool(cell: str) -> bool:
    lowered = cell.strip().lower()
    if lowered in ("1", "true", "yes", "y"):
        return True
    if lowered in ("0", "false", "no", "n"):
        return False
    raise ValueError(f"{cell!r} is not true/false")


def _suppliers(cell: str) -> list[dict]:
    result = []
    for item in _items(cell):
        parts = [p.strip() for p in item.split(":")]
        if len(parts) > 3:
            raise ValueError(f"supplier {item!r}: use supplier:lead_days:unit_cost")
        entry: dict = {"supplier": parts[0]}
        if len(parts) > 1 and parts[1]:
            entry["lead_time_days"] = parts[1]
        if len(parts) > 2 and parts[2]:
            entry["unit_cost"] = parts[2]
        result.append(entry)
    return result


Converter = Callable[[str], object]
PRODUCT_CONVERTERS: dict[str, Converter] = {
    "gtins": lambda c: [{"gtin": g, "units": u} for g, u in map(_times, _items(c))],
    "suppliers": _suppliers,
    "kit": lambda c: [{"sku": s, "qty": q} for s, q in map(_times, _items(c))],
    "high_risk": _bool,
    "lot_tracked": _bool,
    "serial_tracked": _bool,
}
PRODUCT_COLUMNS = ["sku", "name", "gtins", "unit_weight_g", "unit_cost", "suppliers",
                   "par_level", "reorder_point", "safety_stock", "high_risk", "kit", "owner",
                   "lot_tracked", "serial_tracked", "consignment_unit_cost",
                   "consignment_pct"]  # fmt: skip
LOCATION_COLUMNS = ["code", "zone", "aisle", "bay", "bin", "barcode"]
SUPPLIER_COLUMNS = ["supplier", "name", "email", "lead_time_days"]
ORDER_COLUMNS = ["order", "sku", "qty", "lot", "dropship", "supplier", "customer", "unit_price"]
PO_COLUMNS = ["po", "supplier", "expected", "sku", "qty", "unit_cost"]
# kind -> (its columns, the required ones); csvguide says what each one means.
IMPORTS: dict[str, tuple[list[str], list[str]]] = {
    "products": (PRODUCT_COLUMNS, ["sku", "name"]),
    "locations": (LOCATION_COLUMNS, ["code"]),
    "suppliers": (SUPPLIER_COLUMNS, ["supplier", "name"]),
    "orders": (ORDER_COLUMNS, ["order", "sku", "qty"]),
    "purchase-orders": (PO_COLUMNS, ["po", "sku", "qty"]),
}


# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) can
# send what the reader sees elsewhere). Every CSV the hub writes puts an apostrophe before
# such a cell, which spreadsheets show as text; an import takes one leading apostrophe off
# again, so an exported file imports as it was.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def spreadsheet_safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def from_spreadsheet(value: str) -> str:
    return value[1:] if value.startswith("'") else value


def read(text: str, columns: list[str], required: list[str]) -> list[tuple[int, dict]]:
    """(line, row) of every data row; raises CsvImportError for a wrong header or text
    that is not CSV (a bare carriage return in a cell, a cell too long)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        return _rows(reader, columns, required)
    except csv.Error as exc:
        raise CsvImportError([RowError(reader.line_num, f"not CSV: {exc}")]) from None


def _rows(reader: csv.DictReader, columns: list[str], required: list[str]) -> list:
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    problems = [f"unknown column {h!r} (allowed: {', '.join(columns)})"
                for h in header if h not in columns]  # fmt: skip
    problems += [f"missing column {c!r}" for c in required if c not in header]
    if problems:
        raise CsvImportError([RowError(1, p) for p in problems])
    rows = []
    for row in reader:
        if None in row:
            rows.append((reader.line_num, {"__error__": "more cells than columns"}))
            continue
        cells = {k: from_spreadsheet((v or "").strip()) for k, v in row.items()}
        nul = nul_path(cells, "")
        if nul is not None:
            cells = {"__error__": f"column {nul.lstrip('.')!r} holds a NUL character (U+0000)"}
        rows.append((reader.line_num, cells))
    return rows


def convert(row: dict, kind: type, converters: dict[str, Converter], skip=()) -> object:
    """One row as `kind`; raises ValueError with the reason."""
    if "__error__" in row:
        raise ValueError(row["__error__"])
    values: dict = {}
    for key, cell in row.items():
        if cell == "" or key in skip:
            continue
        try:
            values[key] = converters[key](cell) if key in converters else cell
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
    try:
        return msgspec.convert(values, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None


def _records(rows: list[tuple[int, dict]], kind: type, converters, key: str, skip=()):
    records, errors, seen = [], [], {}
    for line, row in rows:
        try:
            record = convert(row, kind, converters, skip)
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
            continue
        name = getattr(record, key)
        if name in seen:
            errors.append(RowError(line, f"{key} {name} already on line {seen[name]}"))
            continue
        seen[name] = line
        records.append((line, record))
    return records, errors


# --- imports ---------------------------------------------------------------------------------
def _saving(conn: Connection, dry_run: bool):
    return store.rehearsal(conn) if dry_run else store.transaction(conn)


def import_products(
    conn: Connection, topics: Topics, text: str, dry_run: bool = False
) -> int:
    rows = read(text, *IMPORTS["products"])
    records, errors = _records(rows, ProductRecord, PRODUCT_CONVERTERS, "sku")
    batch = [r for _line, r in records]
    saving = catalog.Saving.of(batch)
    for line, record in records:
        errors += [RowError(line, p) for p in catalog.check_products(conn, [record], saving)]
    _raise_if(errors)
    with _saving(conn, dry_run):
        catalog.save_products(conn, topics, batch)
    return len(batch)


def import_locations(conn: Connection, text: str, dry_run: bool = False) -> int:
    rows = read(text, *IMPORTS["locations"])
    records, errors = _records(rows, Location, {}, "code", skip=("barcode",))
    _raise_if(errors)
    with _saving(conn, dry_run):
        catalog.save_locations(conn, [r for _line, r in records])
    return len(records)


def import_suppliers(conn: Connection, text: str, dry_run: bool = False) -> int:
    rows = read(text, *IMPORTS["suppliers"])
    records, errors = _records(rows, Supplier, {}, "supplier")
    _raise_if(errors)
    with _saving(conn, dry_run):
        catalog.save_suppliers(conn, [r for _line, r in records])
    return len(records)


def _grouped(rows, key: str, head: list[str], line_kind: type, converters):
    """Rows of one document per `key` value: (first line, head fields, lines, errors)."""
    groups: dict[str, tuple[int, dict, list]] = {}
    errors: list[RowError] = []
    for line, row in rows:
        name = row.get(key, "")
        if "__error__" in row or not name:
            errors.append(RowError(line, row.get("__error__", f"`{key}` is empty")))
            continue
        first, fields, lines = groups.setdefault(name, (line, {}, []))
        for column in head:
            if row.get(column):
                if fields.get(column, row[column]) != row[column]:
                    errors.append(RowError(line, f"{column} differs from line {first}"))
                fields[column] = row[column]
        try:
            item = {k: v for k, v in row.items() if k not in head and k != key}
            lines.append(convert(item, line_kind, converters))
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
    return groups, errors


class _OrderLineRow(msgspec.Struct, forbid_unknown_fields=True):
    sku: str
    qty: int
    lot: str | None = None
    dropship: bool = False
    supplier: str | None = None
    unit_price: str | None = None  # checked as the protocol OrderLine's Money


def import_orders(
    conn: Connection, topics: Topics, text: str, dry_run: bool = False
) -> list[str]:
    rows = read(text, *IMPORTS["orders"])
    groups, errors = _grouped(rows, "order", ["customer"], _OrderLineRow, {"dropship": _bool})
    documents = []
    for name, (line, head, lines) in groups.items():
        try:
            document = msgspec.convert(
                {"order": name, "lines": [msgspec.to_builtins(x) for x in lines], **head}, Order
            )
        except msgspec.ValidationError as exc:
            errors.append(RowError(line, f"order {name}: {exc}"))
            continue
        documents.append((line, document))
    return _save_all(conn, errors, documents,
                     lambda order, now: orders.save_order(conn, topics, order, now),
                     (orders.OrderError, orders.OrderConflict), lambda o: o.order,
                     dry_run)  # fmt: skip


def import_purchase_orders(
    conn: Connection, topics: Topics, text: str, dry_run: bool = False
) -> list[str]:
    rows = read(text, *IMPORTS["purchase-orders"])
    groups, errors = _grouped(rows, "po", ["supplier", "expected"], purchasing.PoLineIn, {})
    documents = []
    for name, (line, head, lines) in groups.items():
        try:
            document = msgspec.convert(
                {"po": name, "lines": [msgspec.to_builtins(x) for x in lines], **head},
                purchasing.PurchaseOrderIn, strict=False,
            )  # fmt: skip
        except msgspec.ValidationError as exc:
            errors.append(RowError(line, f"purchase order {name}: {exc}"))
            continue
        documents.append((line, document))
    return _save_all(conn, errors, documents,
                     lambda po, now: purchasing.create(conn, topics, po, now),
                     (purchasing.PurchaseError, purchasing.PurchaseConflict),
                     lambda po: po.po, dry_run)  # fmt: skip


def _save_all(conn, errors, documents, save, refusals, name, dry_run) -> list[str]:
    """Save every document in one transaction; any refusal rolls all of it back."""
    _raise_if(errors)
    now = utc_now().isoformat()
    with _saving(conn, dry_run):
        for line, document in documents:
            try:
                save(document, now)
            except refusals as exc:
                errors.append(RowError(line, str(exc)))
        _raise_if(errors)  # inside the transaction: raising rolls it back
    return [name(d) for _line, d in documents]


IMPORT_KINDS = ("products", "locations", "suppliers", "orders", "purchase-orders")
# A new site imports suppliers before the products that name them, products before orders.
IMPORT_ORDER = ("suppliers", "locations", "products", "orders", "purchase-orders")


def import_file(
    conn: Connection, topics: Topics, kind: str, text: str, dry_run: bool = False
) -> int | list[str]:
    """Import a CSV of one of IMPORT_KINDS: the count of master records, or the ids of the
    orders or purchase orders (all saved, or none: CsvImportError names the bad lines)."""
    if kind == "products":
        return import_products(conn, topics, text, dry_run)
    if kind == "locations":
        return import_locations(conn, text, dry_run)
    if kind == "suppliers":
        return import_suppliers(conn, text, dry_run)
    if kind == "orders":
        return import_orders(conn, topics, text, dry_run)
    if kind == "purchase-orders":
        return import_purchase_orders(conn, topics, text, dry_run)
    raise ValueError(f"unknown import {kind!r}: one of {', '.join(IMPORT_KINDS)}")


def _raise_if(errors: list[RowError]) -> None:
    if errors:
        raise CsvImportError(sorted(errors, key=lambda e: e.line))


# --- exports ---------------------------------------------------------------------------------
def write(columns: list[str], rows: Iterable[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return value


def product_row(record: ProductRecord) -> dict:
    data = msgspec.to_builtins(record)
    data["gtins"] = ";".join(f"{g.gtin}*{g.units}" if g.units != 1 else g.gtin
                             for g in record.gtins)  # fmt: skip
    data["suppliers"] = ";".join(
        f"{s.supplier}:{'' if s.lead_time_days is None else s.lead_time_days}:"
        f"{'' if s.unit_cost is None else s.unit_cost}".rstrip(":")
        for s in record.suppliers
    )
    data["kit"] = ";".join(f"{c.sku}*{c.qty}" for c in record.kit)
    return data


def export_products(conn: Connection) -> str:
    return write(PRODUCT_COLUMNS, (product_row(r) for r in _all(catalog.list_records, conn)))


def export_locations(conn: Connection) -> str:
    rows = ({**msgspec.to_builtins(loc), "barcode": loc.barcode}
            for loc in _all(catalog.list_locations, conn))  # fmt: skip
    return write(LOCATION_COLUMNS, rows)


def export_suppliers(conn: Connection) -> str:
    return write(SUPPLIER_COLUMNS, (msgspec.to_builtins(s)
                                    for s in _all(catalog.list_suppliers, conn)))  # fmt: skip


def _all(page: Callable, conn: Connection, size: int = 1000):
    offset = 0
    while True:
        items = page(conn, size, offset)
        yield from items
        if len(items) < size:
            return
        offset += size
