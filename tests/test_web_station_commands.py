"""Station commands become outbox rows on station/{id}/cmd/{name} with the right payload."""

import msgspec
import pytest

from hub.web import commands
from protocol.events import Receipt
from protocol.messages import StationStatus
from tests.webapp import TOPICS

pytestmark = pytest.mark.hub


@pytest.fixture
def station(ledger):
    ledger.status("pack-1", msgspec.json.encode(StationStatus(state="online")))
    ledger.apply(Receipt(sku="MUG-1", qty=1, location="A-01"),
                 Receipt(sku="MUG-1", qty=1, location="A-01"))  # fmt: skip
    return ledger


def sent(ledger, name):
    rows = ledger.conn.execute("SELECT payload FROM outbox WHERE topic = ?",
                               (TOPICS.command("pack-1", name),)).fetchall()  # fmt: skip
    return [msgspec.json.decode(r[0]) for r in rows]


def test_resync_asks_from_the_first_event_not_yet_applied(station):
    commands.send(station.conn, TOPICS, "pack-1", "resync", {})
    assert sent(station, "resync") == [{"from": 3, "epoch": "e1"}]  # its current journal


def test_mode_carries_the_new_mode(station):
    commands.send(station.conn, TOPICS, "pack-1", "mode", {"mode": "receive"})
    assert sent(station, "mode") == [{"args": {"mode": "receive"}}]


@pytest.mark.parametrize(("station_id", "name", "args", "reason"), [
    ("pack-1", "selfdestruct", {}, "unknown command"),
    ("pack-1", "mode", {"mode": "dance"}, "mode must be"),
    ("nobody", "identify", {}, "no station"),
])  # fmt: skip
def test_bad_commands_are_refused_and_nothing_is_sent(station, station_id, name, args, reason):
    with pytest.raises(commands.CommandError, match=reason):
        commands.send(station.conn, TOPICS, station_id, name, args)
    assert station.conn.execute("SELECT count(*) FROM outbox WHERE topic LIKE '%/cmd/%'"
                                ).fetchone() == (0,)  # fmt: skip
