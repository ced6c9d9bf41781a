"""The station journal: gapless seqs, one epoch per journal, all-or-nothing appends."""

import pytest

from protocol.envelope import decode_event
from protocol.events import Scan, Shipment, ShipmentLine
from station.ledger.journal import Journal, JournalError


def scan(code="X"):
    return Scan(code=code, verdict="ok", mode="pack")


def test_seqs_are_gapless_across_appends_and_reopening(tmp_path):
    journal = Journal(tmp_path / "j.db", "pack-1")
    assert journal.append([scan(), scan()]) == [1, 2]
    journal.close()
    reopened = Journal(tmp_path / "j.db", "pack-1")
    assert reopened.append([scan()]) == [3]
    assert [seq for seq, _ in reopened.reader().read_from(1, 10)] == [1, 2, 3]


def test_the_epoch_is_made_once_per_journal(tmp_path):
    first = Journal(tmp_path / "a.db", "pack-1").epoch
    assert Journal(tmp_path / "a.db", "pack-1").epoch == first
    assert Journal(tmp_path / "b.db", "pack-1").epoch != first


def test_stored_payloads_are_the_wire_envelopes(tmp_path):
    journal = Journal(tmp_path / "j.db", "pack-1")
    journal.append([scan("4006381333931")])
    [(seq, payload)] = journal.reader().read_from(1, 1)
    event = decode_event(payload)
    assert (event.station, event.epoch, event.seq, event.data.code) == (
        "pack-1", journal.epoch, 1, "4006381333931",
    )  # fmt: skip


def test_a_journal_of_another_station_is_refused(tmp_path):
    Journal(tmp_path / "j.db", "pack-1").close()
    with pytest.raises(JournalError, match="belongs to station 'pack-1'"):
        Journal(tmp_path / "j.db", "pack-2")


def test_a_read_only_journal_raises_and_keeps_the_head(tmp_path):
    journal = Journal(tmp_path / "j.db", "pack-1")
    journal.append([scan()])
    # A card remounted read-only (file modes would not stop root, query_only does).
    journal.db.execute("PRAGMA query_only = ON")
    with pytest.raises(JournalError, match="readonly"):
        journal.append([scan()])
    assert journal.head == 1


def test_a_failed_append_stores_nothing_and_keeps_the_head(tmp_path):
    journal = Journal(tmp_path / "j.db", "pack-1")
    journal.append([scan()])
    # A full disk: SQLite refuses to grow the file past max_page_count.
    page_count = journal.db.execute("PRAGMA page_count").fetchone()[0]
    journal.db.execute(f"PRAGMA max_page_count = {page_count}")
    with pytest.raises(JournalError, match="full"):
        journal.append([Scan(code="X" * 400, verdict="ok", mode="pack")] * 200)
    assert journal.head == 1
    assert [seq for seq, _ in journal.reader().read_from(1, 500)] == [1]


def test_an_event_too_big_for_the_hub_is_refused_and_stores_nothing(tmp_path):
    # The broker would close the uplink's connection on it after every reconnect, so
    # nothing journaled after it could reach the hub: the packer hears "not recorded".
    journal = Journal(tmp_path / "j.db", "pack-1")
    journal.append([scan()])
    lines = [ShipmentLine(sku=f"SKU-{i}", qty=1, location="PACK",
                          serials=[f"SN-{i}-{n:04d}" for n in range(20)])
             for i in range(1000)]  # fmt: skip
    with pytest.raises(JournalError, match="over the 262144 the hub takes"):
        journal.append([scan(), Shipment(order="SO-1", lines=lines)])
    assert journal.head == 1
    assert [seq for seq, _ in journal.reader().read_from(1, 10)] == [1]
