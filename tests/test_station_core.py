"""The station core: journal first, verdict second; a scan that cannot be journaled
is "not recorded" and changes nothing."""

import msgspec
import pytest

from protocol.envelope import encode
from protocol.messages import GtinUnits, Order, OrderLine, Product, ScanRead, StationStatus
from protocol.topics import Topics
from station.cache import Cache
from station.core import Core
from station.inputs import HubMessage, Scanned
from station.ledger.journal import Journal
from station.snapshot import SnapshotBoard
from station.workflows.bench import BenchSettings

TOPICS = Topics("s1")


@pytest.fixture
def core(tmp_path):
    journal = Journal(tmp_path / "journal.db", "pack-1")
    cache = Cache(tmp_path / "cache.db", TOPICS, "pack-1")
    core = Core(BenchSettings(station="pack-1"), journal, cache, TOPICS, SnapshotBoard())
    product = Product(sku="MUG-1", name="Mug", gtins=[GtinUnits(gtin="4006381333931")])
    order = Order(order="SO-1", lines=[OrderLine(sku="MUG-1", qty=2)])
    core.handle(HubMessage(TOPICS.product("MUG-1"), encode(product), True))
    core.handle(HubMessage(TOPICS.order("SO-1"), encode(order), True))
    yield core
    journal.close()


def progress(core):
    return [(line["sku"], line["ordered"], line["scanned"]) for line in core.board.latest()[1]["lines"]]


def verdict(core):
    return core.board.latest()[1]["verdict"]["name"]


def test_each_scan_is_journaled_before_its_verdict_is_shown(core):
    core.handle(Scanned("OP:alice"))
    core.handle(Scanned("SO-1"))
    assert verdict(core) == "ok" and core.journal.head == 2
    core.handle(Scanned("4006381333931"))
    assert core.journal.head == 3
    assert progress(core) == [("MUG-1", 2, 1)]


def test_a_scan_that_cannot_be_journaled_is_not_recorded_and_changes_nothing(core):
    core.handle(Scanned("OP:alice"))
    core.handle(Scanned("SO-1"))
    core.journal.db.execute("PRAGMA query_only = ON")  # the card went read-only
    core.handle(Scanned("4006381333931"))
    snapshot = core.board.latest()[1]
    assert snapshot["verdict"]["name"] == "not_recorded"
    assert snapshot["verdict"]["message"].startswith("Not recorded")
    assert progress(core) == [("MUG-1", 2, 0)]
    core.journal.db.execute("PRAGMA query_only = OFF")  # the disk recovers
    core.handle(Scanned("4006381333931"))
    assert verdict(core) == "ok" and core.journal.head == 3


def test_orders_are_cached_for_offline_work_and_survive_a_restart(tmp_path, core):
    core.cache.close()
    reopened = Cache(tmp_path / "cache.db", TOPICS, "pack-1")
    assert reopened.order("SO-1").lines[0].sku == "MUG-1"
    assert reopened.product_by_gtin("04006381333931")[0].sku == "MUG-1"


def test_a_closed_order_leaves_the_cache(core):
    core.handle(HubMessage(TOPICS.order("SO-1"), b"", True))
    core.handle(Scanned("SO-1"))
    assert verdict(core) == "unknown_barcode"


def test_an_invalid_hub_message_is_ignored_and_the_cache_kept(core):
    core.handle(HubMessage(TOPICS.order("SO-1"), b'{"order": 5}', True))
    assert core.cache.order("SO-1") is not None


def test_a_label_the_spool_cannot_take_is_reported_and_the_shipment_stands(tmp_path):
    from station.config import PrinterConfig
    from station.drivers.printers.spool import PrintSpool
    from station.label_router import LabelRouter

    journal = Journal(tmp_path / "journal.db", "pack-1")
    cache = Cache(tmp_path / "cache.db", TOPICS, "pack-1")
    spool = PrintSpool(tmp_path / "spool.db")
    spool.stop()  # its database is closed: every submit fails
    printers = [PrinterConfig(name="label", url="tcp://127.0.0.1:9")]
    core = Core(BenchSettings(station="pack-1", verify_weight=False), journal, cache, TOPICS,
                SnapshotBoard(), labels=LabelRouter(printers, spool))  # fmt: skip
    core.handle(HubMessage(TOPICS.product("MUG-1"), encode(Product(
        sku="MUG-1", name="Mug", gtins=[GtinUnits(gtin="4006381333931")])), True))  # fmt: skip
    order = Order(order="SO-1", lines=[OrderLine(sku="MUG-1", qty=1)])
    core.handle(HubMessage(TOPICS.order("SO-1"), encode(order), True))
    for code in ["OP:alice", "SO-1", "4006381333931"]:
        core.handle(Scanned(code))
    snapshot = core.board.latest()[1]
    assert snapshot["verdict"]["message"] == "Order SO-1 complete"
    assert snapshot["print_problem"].startswith("Shipping label not printed: ")
    assert journal.head == 4  # three scans and the shipment
    journal.close()


def test_the_status_says_what_the_last_scan_was_read_as(core):
    """The hub shows "MUG-1, lot L7, serial S9" from this, never parsing GS1 itself."""
    core.handle(Scanned("OP:alice"))
    assert core.status_fields["last_read"] == ScanRead(kind="operator", ref="alice")
    core.handle(Scanned("SO-1"))
    core.handle(Scanned("0104006381333931" + "10L7\x1d21S9", symbology="]C1"))
    read = core.status_fields["last_read"]
    assert (read.kind, read.sku, read.lot, read.serial) == ("item", "MUG-1", "L7", "S9")
    status = StationStatus(state="online", **core.status_fields)  # what the uplink publishes
    decoded = msgspec.json.decode(msgspec.json.encode(status), type=StationStatus)
    assert decoded.last_read == read
