"""CSV import and export: every bad row named with its line and reason, nothing half-imported."""

import pytest

from hub import catalog, csvio, store
from hub.csvio import CsvImportError
from tests.domain_helpers import TOPICS, open_ledger

pytestmark = pytest.mark.hub


@pytest.fixture
def conn(tmp_path):
    conn = open_ledger(tmp_path / "ledger.db")
    csvio.import_suppliers(conn, "supplier,name,lead_time_days\nacme,Acme,7\n")
    yield conn
    conn.close()


def errors(exc: pytest.ExceptionInfo) -> list[tuple[int, str]]:
    return [(e.line, e.reason) for e in exc.value.errors]


def test_bad_product_rows_are_each_named_and_nothing_is_imported(conn):
    text = (
        "sku,name,gtins,unit_cost,suppliers,par_level,kit,high_risk\n"
        "MUG,Mug,4006381333931;14006381333938*12,2.50,acme:5:2.10,30,,no\n"
        "TEA,Tea,123,1,,,,\n"                     # line 3: a GTIN of 3 digits
        "BAD SKU,Space,,,,,,\n"                   # line 4: not a code
        "PEN,Pen,,-1,,,,\n"                       # line 5: negative cost
        "KIT,Kit,,,,,GHOST*2,\n"                  # line 6: component is not a product
        "CUP,Cup,,,nobody,,,\n"                   # line 7: unknown supplier
        "MUG,Again,,,,,,\n"                       # line 8: duplicate
        "INK,Ink,,,,,,maybe\n"                    # line 9: not a boolean
        "SET,Set,,,,,MUG*1;MUG*2,\n"               # line 10: a component twice
    )  # fmt: skip
    with pytest.raises(CsvImportError) as exc:
        csvio.import_products(conn, TOPICS, text)
    lines = [line for line, _reason in errors(exc)]
    assert lines == [3, 4, 5, 6, 7, 8, 9, 10]
    reasons = dict(errors(exc))
    assert "gtin" in reasons[3] and "GHOST is not a product" in reasons[6]
    assert "supplier nobody is not known" in reasons[7] and "already on line 2" in reasons[8]
    assert "high_risk" in reasons[9] and "from 0 to 99999.999999" in reasons[5]
    assert "a component is listed twice" in reasons[10]
    assert conn.execute("SELECT count(*) FROM products").fetchone() == (0,)


def test_a_gtin_another_product_scans_as_is_refused_on_its_line(conn):
    csvio.import_products(conn, TOPICS, "sku,name,gtins\nMUG,Mug,4006381333931\n")
    text = (
        "sku,name,gtins\n"
        "BOX,Box,4006381333931\n"   # line 2: MUG's, and MUG is not in this file
        "A,A,96385074\n"             # lines 3 and 4: one GTIN for two products
        "B,B,96385074\n"
    )  # fmt: skip
    with pytest.raises(CsvImportError) as exc:
        csvio.import_products(conn, TOPICS, text)
    assert [line for line, _reason in errors(exc)] == [2, 3, 4]
    reasons = dict(errors(exc))
    assert "belongs to MUG" in reasons[2] and "also given to B" in reasons[3]
    moved = "sku,name,gtins\nMUG,Mug,\nBOX,Box,4006381333931\n"
    assert csvio.import_products(conn, TOPICS, moved) == 2
    assert store.gtin_owner(conn, "4006381333931") == "BOX"


def test_products_round_trip_through_csv(conn):
    text = (
        "sku,name,gtins,unit_cost,suppliers,par_level,kit,high_risk,owner\n"
        "MUG,Mug,4006381333931;14006381333938*12,2.50,acme:5:2.10,30,,yes,\n"
        "GIFT,Gift,,,,,MUG*2,,\n"
        "VASE,Vase,,,acme,,,,artisan\n"
    )  # fmt: skip
    assert csvio.import_products(conn, TOPICS, text) == 3
    mug = catalog.get_record(conn, "MUG")
    assert [(g.gtin, g.units) for g in mug.gtins] == [("4006381333931", 1), ("14006381333938", 12)]
    assert (mug.par_level, mug.high_risk, mug.suppliers[0].lead_time_days) == (30, True, 5)
    assert store.product_suppliers(conn, "VASE") == [("acme", 7, None)]  # acme's own 7 days
    exported = csvio.export_products(conn)
    assert exported.splitlines()[0] == ",".join(csvio.PRODUCT_COLUMNS)
    again = open_ledger(":memory:")
    csvio.import_suppliers(again, "supplier,name\nacme,Acme\n")
    csvio.import_products(again, TOPICS, exported)
    assert csvio.export_products(again) == exported


def test_locations_get_their_barcode_and_bad_rows_are_refused(conn):
    with pytest.raises(CsvImportError) as exc:
        csvio.import_locations(conn, "code,zone,aisle\nA-01-1,A,01\nB/1,B,1\n")
    assert [line for line, _r in errors(exc)] == [3]
    assert csvio.import_locations(conn, "code,zone,aisle,bay,bin\nA-01-1,A,01,1,a\n") == 1
    assert catalog.location_of_barcode(conn, "LOC:A-01-1") == "A-01-1"
    assert csvio.export_locations(conn) == "code,zone,aisle,bay,bin,barcode\nA-01-1,A,01,1,a,LOC:A-01-1\n"


def test_a_wrong_header_is_reported_on_line_one(conn):
    with pytest.raises(CsvImportError) as exc:
        csvio.import_suppliers(conn, "supplier,colour\nx,red\n")
    assert errors(exc) == [(1, "unknown column 'colour' (allowed: supplier, name, email, "
                               "lead_time_days)"), (1, "missing column 'name'")]  # fmt: skip


def test_orders_from_csv_are_all_saved_or_none(conn):
    csvio.import_products(conn, TOPICS, "sku,name\nMUG,Mug\nTEA,Tea\n")
    refused = "order,sku,qty,customer\nSO-1,MUG,2,Ada\nSO-1,TEA,1,\nSO-2,NOPE,1,Bob\n"
    with pytest.raises(CsvImportError) as exc:
        csvio.import_orders(conn, TOPICS, refused)
    assert errors(exc) == [(4, "order SO-2: unknown sku NOPE")]
    assert store.order_get(conn, "SO-1") is None  # rolled back with SO-2
    assert csvio.import_orders(conn, TOPICS, refused.replace("NOPE", "TEA")) == ["SO-1", "SO-2"]
    assert store.committed(conn, "MUG") == 2 and store.committed(conn, "TEA") == 2


def test_purchase_orders_from_csv(conn):
    csvio.import_products(conn, TOPICS, "sku,name\nMUG,Mug\n")
    text = "po,supplier,expected,sku,qty,unit_cost\nPO-7,acme,2026-04-01,MUG,12,1.10\nPO-7,,,MUG,3,\n"
    assert csvio.import_purchase_orders(conn, TOPICS, text) == ["PO-7"]
    assert store.on_order(conn, "MUG") == 15
    with pytest.raises(CsvImportError) as exc:
        csvio.import_purchase_orders(conn, TOPICS, "po,supplier,sku,qty\nPO-8,acme,MUG,0\n")
    assert errors(exc)[0][0] == 2 and "qty" in errors(exc)[0][1]


@pytest.mark.parametrize(("kind", "good", "bad", "reason"), [
    ("products", "sku,name\nMUG,Mug\n", "sku,name\nMUG,Mug\nBAD SKU,x\n", "sku"),
    ("locations", "code\nA-1\n", "code\nA-1\nnot ok\n", "code"),
    ("suppliers", "supplier,name\nbeta,Beta\n", "supplier,name\nbeta,Beta\ngamma,\n", "name"),
    # Refused only when saving (the sku is unknown): the dry run saves, then rolls back.
    ("orders", "order,sku,qty\nSO-1,MUG,2\n", "order,sku,qty\nSO-1,MUG,2\nSO-2,GHOST,1\n",
     "unknown sku GHOST"),
    ("purchase-orders", "po,sku,qty\nPO-1,MUG,2\n", "po,sku,qty\nPO-1,MUG,2\nPO-2,NONE,1\n",
     "unknown sku NONE"),
])  # fmt: skip
def test_a_dry_run_checks_every_row_like_the_import_and_saves_nothing(conn, kind, good, bad,
                                                                      reason):  # fmt: skip
    if kind in ("orders", "purchase-orders"):
        csvio.import_products(conn, TOPICS, "sku,name\nMUG,Mug\n")
    tables = ("products", "locations", "suppliers", "orders", "purchase_orders", "outbox")
    counted = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    assert csvio.import_file(conn, TOPICS, kind, good, dry_run=True) in (1, ["SO-1"], ["PO-1"])
    with pytest.raises(CsvImportError) as exc:
        csvio.import_file(conn, TOPICS, kind, bad, dry_run=True)
    assert errors(exc)[0][0] == 3 and reason in errors(exc)[0][1]
    assert {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables} == counted
    assert csvio.import_file(conn, TOPICS, kind, good) in (1, ["SO-1"], ["PO-1"])


def test_an_unknown_import_kind_is_refused(conn):
    with pytest.raises(ValueError, match="one of products"):
        csvio.import_file(conn, TOPICS, "customers", "x\n")
