"""The outbox publisher that cannot read the outbox says so and stops saying it is alive:
its heartbeat (what /healthz reads) used to be beaten after every turn, failed or not, and
a database failure of the publisher alone was only logged, so a hub whose ingest went on
while nothing reached the broker reported itself healthy. Once it reads again, it beats
again.

The real `HubLink` in the test process, a real Mosquitto, the run's backend; the outbox
made unreadable by renaming its table under the running publisher."""

import pytest

from hub import store
from hub.config import MqttSection
from hub.link import HubLink
from protocol.topics import Topics
from tests.conftest import PASSWORDS
from tests.harness import wait_until
from tests.postgres import ledger_target

pytestmark = pytest.mark.hub


def failed_turns(caplog) -> int:
    return sum(r.getMessage().startswith("outbox: the ledger failed") for r in caplog.records)


def test_a_publisher_that_cannot_read_the_outbox_reports_it_and_stops_beating(tmp_path, broker,
                                                                              caplog):  # fmt: skip
    target = ledger_target(tmp_path / "ledger.db")
    conn = store.connect(target)
    store.create_schema(conn)
    beats: list[int] = []
    link = HubLink(MqttSection(port=broker.port, password=PASSWORDS["hub"]), Topics("test"),
                   target, beat=lambda: beats.append(1))  # fmt: skip
    failures: list[str] = []

    def failed(count: int) -> bool:
        failures.extend(why for _row, why in link.take_failed())
        return len(failures) >= count

    try:
        link.start()
        wait_until(lambda: link.connected and len(beats) > 0, 20, "the publisher's turns")
        conn.execute("ALTER TABLE outbox RENAME TO outbox_away")
        wait_until(lambda: failed(1), 20, "the publisher's failure reported")
        beaten, turns = len(beats), failed_turns(caplog)
        wait_until(lambda: failed_turns(caplog) >= turns + 3, 20, "three more failed turns")
        assert len(beats) == beaten, "the publisher said it was alive while it read nothing"
        assert failures == [failures[0]], "reported once while it keeps failing"
        assert "publisher cannot read the outbox" in failures[0]
        conn.execute("ALTER TABLE outbox_away RENAME TO outbox")
        wait_until(lambda: len(beats) > beaten, 20, "the publisher alive again")
    finally:
        link.stop(say_offline=False)
        conn.close()
