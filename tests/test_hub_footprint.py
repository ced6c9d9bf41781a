"""What a hub process loads to serve its pages: every hub process builds the web app, and
the hub's peak memory is one of bench 6's figures (docs/performance.md)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.hub

ROOT = Path(__file__).resolve().parents[1]

# Builds the web app as `python -m hub run` does, on a new ledger, then draws one label;
# prints which stage loaded Pillow.
PROBE = """
import json, sys, tempfile
from pathlib import Path
from hub import store
from hub.web import create_app
from protocol.topics import Topics

folder = Path(tempfile.mkdtemp())
conn = store.connect(folder / "hub.db")
store.create_schema(conn)
conn.close()
app = create_app(str(folder / "hub.db"), Topics("probe"), ["token"], data_dir=folder)
seen = {"serving": "PIL" in sys.modules}
with app.test_client() as client:
    answer = client.get("/barcode.svg?code=LOC:A-01", headers={"Authorization": "Bearer token"})
seen["label"] = answer.status_code
seen["after the label"] = "PIL" in sys.modules
print(json.dumps(seen))
"""


def test_the_hub_serves_its_pages_without_pillow_until_it_draws_a_label():
    """python-barcode's writers import Pillow (7 MB) for an image writer the hub does not
    use: the label pages import it when they first draw one."""
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60)  # fmt: skip
    seen = json.loads(out.stdout.splitlines()[-1])
    assert seen["serving"] is False
    assert seen["label"] == 200
    assert seen["after the label"] is True  # the probe drew it: the import is deferred, not gone
