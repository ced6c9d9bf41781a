"""What a station loads at start: a Pi Zero 2 W has 512 MB for the station and its kiosk
browser together (docs/performance.md, bench 6)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Imports everything `python -m station run` imports before its first scan, then reads one
# code of the warehouse's own format and one GTIN; prints which stage loaded biip.
PROBE = """
import json, sys
import station.app
from station.barcodes import interpret

class NoCatalog:
    def product(self, sku): return None
    def product_by_gtin(self, gtin): return None
    def order(self, order): return None
    def purchase_order(self, po): return None

seen = {"start": "biip" in sys.modules, "sqlite_utils": "sqlite_utils" in sys.modules}
interpret("LOC:A-01-1", None, NoCatalog())
seen["own label"] = "biip" in sys.modules
gtin = interpret("4006381333931", None, NoCatalog())
seen["gtin"] = "biip" in sys.modules
seen["gtin meaning"] = repr(gtin)
print(json.dumps(seen))
"""


def test_a_station_starts_without_sqlite_utils():
    """The journal and the print spool are plain sqlite3: sqlite-utils (with dateutil,
    pluggy and its FTS helpers) was 2.6 MB of a station for a few `execute` calls."""
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60)  # fmt: skip
    assert json.loads(out.stdout)["sqlite_utils"] is False


def test_biip_and_its_gs1_tables_load_at_the_first_gtin_not_at_start():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60)  # fmt: skip
    seen = json.loads(out.stdout)
    assert seen["start"] is False
    assert seen["own label"] is False
    assert seen["gtin"] is True
    # Read as a valid GTIN (this probe has no catalog to find it in).
    assert "GTIN 04006381333931 is not in the catalog" in seen["gtin meaning"]
