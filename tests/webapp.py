"""Fixtures and helpers of the web tests: the real Flask app on a real SQLite file, events
applied through the real ingest, users made through hub.users, logins through the form."""

import re
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import pytest

from hub import store, users
from hub.changes import ChangeFeed
from hub.ingest import Incoming, Ingest
from hub.web import close_app, create_app
from protocol.envelope import CLOCK_OFFSET_ENV, encode_event
from protocol.topics import Topics
from tests.postgres import ledger_target

TOPICS = Topics("test")
TOKEN = "test-token"
PASSWORD = "pass-word"
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class Ledger:
    """A hub database fed through the real ingest, as a station would."""

    def __init__(self, path, zone: tzinfo = UTC) -> None:
        self.dir = Path(path).parent  # the web's key file (a PostgreSQL ledger has no folder)
        self.path = ledger_target(path)
        self.conn = store.connect(self.path)
        store.create_schema(self.conn)
        self.ingest = Ingest(self.conn, TOPICS, zone=zone)
        self.seqs: dict[str, int] = {}

    def apply(self, *events, station: str = "pack-1") -> None:
        batch = []
        for data in events:
            seq = self.seqs[station] = self.seqs.get(station, 0) + 1
            payload = encode_event(station, "e1", seq, data, TS)
            batch.append(Incoming(TOPICS.events(station), payload))
        self.ingest.process(batch)

    def status(self, station: str, payload: bytes) -> None:
        self.ingest.process([Incoming(TOPICS.station_status(station), payload, retained=True)])

    def user(self, name: str, role: str, password: str = PASSWORD) -> None:
        users.add(self.conn, name, role, password)


@pytest.fixture
def ledger(tmp_path):
    ledger = Ledger(tmp_path / "ledger.db")
    yield ledger
    ledger.conn.close()


@pytest.fixture
def app(ledger):
    app = create_app(ledger.path, TOPICS, [TOKEN], changes=ChangeFeed(), data_dir=ledger.dir)
    app.config["TESTING"] = True
    yield app
    close_app(app)


def hub_clock_at(monkeypatch, moment: datetime) -> None:
    """Set the hub's clock (protocol.envelope.utc_now) to `moment`, for this test."""
    offset = (moment - datetime.now(UTC)).total_seconds()
    monkeypatch.setenv(CLOCK_OFFSET_ENV, str(offset))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, name: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"username": name, "password": password,
                                       "csrf_token": csrf_of(page.text)})  # fmt: skip


@pytest.fixture
def as_role(app, ledger):
    """A test client logged in with the given role: `as_role("viewer")`."""

    def make(role: str):
        ledger.user(role, role)
        client = app.test_client()
        assert login(client, role).status_code == 302
        return client

    return make


def page_csrf(client, path: str = "/") -> str:
    return csrf_of(client.get(path).text)
