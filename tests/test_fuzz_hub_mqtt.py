"""Hypothesis against the real hub over the real broker: for every topic the hub reads
(station events of every type, station status, order intake), valid messages mixed with
nasty ones (limits hit and one past them, huge, NaN, unicode, deep JSON, the wrong type,
missing and unknown fields, invalid UTF-8, duplicates, seqs out of order, other epochs).

Each example is a batch a misbehaving world might send, then what a station does after it
(its whole journal again, in order, and a clean status). The property: every message ends
applied (its content in the ledger) or dead-lettered with a precise reason (never the
last-resort "ingest failed"); nothing is applied twice; the hub's loops go on turning,
/healthz says 200 and `python -m hub check` says ok.

Each example uses stations of its own, so one example's state does not decide another's.
Derandomized: the same examples on every run (the CI's and a developer's).
"""

import hashlib
import itertools
import subprocess
import sys
from dataclasses import dataclass

import msgspec
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from msgspec import inspect

from hub import store
from hub.check import check
from hub.nul import nul_path
from protocol.envelope import (
    MAX_PAYLOAD_BYTES,
    Envelope,
    InvalidMessage,
    decode_event,
    decode_message,
)
from protocol.events import EVENT_TYPES
from protocol.messages import Order, StationStatus
from protocol.topics import Topics
from protocol.types import StationId
from tests.conftest import PASSWORDS
from tests.faults import wire
from tests.harness import ROOT, Hub, wait_until
from tests.mqtt_client import TestClient

pytestmark = pytest.mark.slow

TOPICS = Topics("test")
FUZZER = ("fuzzer", "fuzzer-secret")  # a hub-role user: it may publish on any station's topic
EVENT_INFO = {name: inspect.type_info(cls) for name, cls in EVENT_TYPES.items()}
ENVELOPE = {f.encode_name: f.type for f in inspect.type_info(Envelope).fields}
STATUS = inspect.type_info(StationStatus)
ORDER = inspect.type_info(Order)
# What an MQTT topic may hold: the broker disconnects a client that publishes control
# characters, surrogates or non-characters (a malformed packet; nothing reaches the hub).
TOPIC_CHARS = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn"))
# What a station says once all is well again (clearing any fault a fuzzed status set).
FINAL_STATUS = b'{"state":"online"}'
# The one reason that says the hub did not know what was wrong: its last-resort handler.
LAST_RESORT = "ingest failed"


@dataclass(frozen=True)
class Sent:
    """One message the fuzzer published, and what the contract says of it."""

    topic: str
    payload: bytes
    kind: str  # event, status, intake
    valid: bool  # the contract's decoder takes it: applied (or refused for a business reason)
    key: tuple = ()  # event: (station, epoch, seq); intake: (order,)
    content: tuple = ()  # event: (type, ts as the hub stores it, data JSON)

    @property
    def digest(self) -> str:  # as the hub's dead letters key a message
        return hashlib.sha256(self.topic.encode() + b"\0" + self.payload).hexdigest()


def stored_ts(ts: str) -> str:
    return msgspec.json.decode(
        msgspec.json.encode(ts), type=Envelope.__annotations__["ts"]
    ).isoformat()


def event(station: str, epoch: str, seq: int, body: tuple) -> Sent:
    """A valid event message: `body` is (type, ts, data)."""
    type_, ts, data = body
    data_json = wire.to_json(data)
    envelope = {
        "v": 1,
        "station": station,
        "epoch": epoch,
        "seq": seq,
        "ts": ts,
        "type": type_,
        "data": wire.Verbatim(data_json),
    }
    return Sent(
        TOPICS.events(station),
        wire.to_json(envelope),
        "event",
        True,
        (station, epoch, seq),
        (type_, stored_ts(ts), data_json.decode()),
    )


# The protocol's free texts may hold NUL; the hub sets such an event aside instead, which
# holds its station (tests/test_ingest_nul_text.py): not a valid event for this property,
# whose `last` must be applied (found at 250 examples: a scan's `code` with U+0000).
bodies = st.sampled_from(sorted(EVENT_INFO)).flatmap(
    lambda name: st.tuples(st.just(name), wire.timestamps, wire.struct(EVENT_INFO[name]))
).filter(lambda body: nul_path(body[2]) is None)


@st.composite
def bad_event(draw, station: str, epoch: str, seq: int) -> Sent:
    """An event the contract refuses, in one of the ways a payload can be wrong."""
    type_, ts, data = draw(bodies)
    envelope = {
        "v": 1,
        "station": station,
        "epoch": epoch,
        "seq": seq,
        "ts": ts,
        "type": type_,
        "data": data,
    }
    how = draw(
        st.sampled_from(
            [
                "envelope",
                "data",
                "unknown type",
                "extra",
                "missing",
                "deep",
                "truncated",
                "not json",
                "oversized",
                "other station",
                "hub's id",
                "odd topic",
            ]
        )
    )
    topic = TOPICS.events(station)
    if how == "envelope":
        name = draw(st.sampled_from(sorted(n for n in ENVELOPE if n != "data")))
        envelope[name] = draw(wire.invalid(ENVELOPE[name]))
    elif how == "data":
        envelope["data"] = draw(wire.invalid_struct(EVENT_INFO[type_]))
    elif how == "deep":  # within the data, which the envelope's decoder passes on unread
        where = st.sampled_from(sorted(envelope["data"]) or ["data"])
        envelope["data"] = draw(
            st.one_of(
                st.just(wire.DEEP_VALUE),
                where.map(lambda name: {**envelope["data"], name: wire.DEEP_VALUE}),
            )
        )
    elif how == "unknown type":
        envelope["type"] = draw(st.sampled_from(["teleport", "receipts", "skipped"]))
    elif how == "extra":
        envelope[draw(st.sampled_from(["extra", "V", "data "]))] = draw(wire.anything)
    elif how == "missing":
        del envelope[draw(st.sampled_from(sorted(ENVELOPE)))]
    elif how == "other station":
        topic = TOPICS.events(f"{station}-x")
    elif how == "hub's id":
        envelope["station"], topic = "hub", TOPICS.events("hub")
    elif how == "odd topic":
        level = draw(
            st.text(TOPIC_CHARS, min_size=1, max_size=70).filter(
                lambda s: not set(s) & set("/+#") and s != station
            )
        )
        topic = TOPICS.events(level)
    payload = wire.to_json(envelope)
    if how == "truncated":
        payload = payload[: draw(st.integers(0, len(payload) - 1))]
    elif how == "not json":
        payload = draw(st.binary(max_size=40).filter(lambda b: not b.strip().startswith(b"{")))
    elif how == "oversized":
        payload = b"{" + b" " * MAX_PAYLOAD_BYTES + b"}"
    return Sent(topic, payload, "event", False)


@st.composite
def status(draw, station: str, epochs: tuple[str, ...] = ()) -> Sent:
    """A status, valid or not; a valid one often names one of the station's `epochs`, so
    its current journal moves between them while events wait behind gaps."""
    if draw(st.booleans()):
        valid = draw(wire.struct(STATUS))
        if epochs and draw(st.booleans()):
            valid |= {"state": "online", "epoch": draw(st.sampled_from(epochs))}
        return Sent(TOPICS.station_status(station), wire.to_json(valid), "status", True)
    odd_id = st.sampled_from(["UPPER", "a_b", "x" * 65, "é"])
    topic = TOPICS.station_status(draw(st.one_of(st.just(station), odd_id)))
    payload = wire.to_json(draw(wire.invalid_struct(STATUS)))
    return Sent(topic, payload, "status", False)


@st.composite
def intake(draw) -> Sent:
    if draw(st.booleans()):
        order = draw(wire.struct(ORDER))
        return Sent(TOPICS.order_intake, wire.to_json(order), "intake", True, (order["order"],))
    payload = wire.to_json(draw(wire.invalid_struct(ORDER)))
    return Sent(TOPICS.order_intake, payload, "intake", False)


@dataclass
class Example:
    stations: list[str]
    journals: dict[tuple[str, str], list[Sent]]  # (station, epoch) -> its events 1..n
    batch: list[Sent]  # what the world sends
    after: list[Sent]  # then what a station sends: its journals again, a clean status
    last: Sent  # then an event of a station of its own: the hub got this far


@st.composite
def examples(draw, n: int) -> Example:
    stations = [f"fz{n}-a", f"fz{n}-b"]
    journals: dict[tuple[str, str], list[Sent]] = {}
    for station in stations:
        for epoch in [f"e{n}-{i}" for i in range(draw(st.integers(1, 2)))]:
            events = draw(st.lists(bodies, min_size=1, max_size=4))
            journals[station, epoch] = [
                event(station, epoch, seq, body) for seq, body in enumerate(events, 1)
            ]
    keys = sorted(journals)

    def same_key_other_content(key: tuple[str, str]) -> st.SearchStrategy[Sent]:
        seqs = st.integers(1, len(journals[key]))
        return st.tuples(seqs, bodies).map(lambda sb: event(*key, *sb))

    def bad_at(key: tuple[str, str]) -> st.SearchStrategy[Sent]:
        # At a seq of the journal: one that came as the station's next event is set aside
        # and holds the station until the journal's own event of that seq comes (after the
        # batch). Past the journal's end nothing would come: it holds the station for good,
        # as it must (tests/test_ingest_invalid_event.py).
        return st.integers(1, len(journals[key])).flatmap(lambda s: bad_event(*key, s))

    one = st.one_of(
        st.sampled_from(keys).flatmap(lambda k: st.sampled_from(journals[k])),  # any order, twice
        st.sampled_from(keys).flatmap(same_key_other_content),  # a journal that went back
        st.sampled_from(keys).flatmap(bad_at),
        st.sampled_from(stations).flatmap(
            lambda s: status(s, tuple(e for station, e in keys if station == s))
        ),
        intake(),
    )
    batch = draw(st.lists(one, min_size=5, max_size=40))
    after = [sent for key in keys for sent in journals[key]]
    after += [Sent(TOPICS.station_status(s), FINAL_STATUS, "status", True) for s in stations]
    last = event(f"fz{n}-z", "e", 1, draw(bodies))
    return Example(stations, journals, batch, after, last)


def contract_takes(sent: Sent) -> bool:
    """What the protocol's own decoders say of a message, topic included."""
    levels = TOPICS.leaf(sent.topic)
    try:
        if sent.kind == "event":
            decoded = decode_event(sent.payload)
            return decoded.station == levels[1] and decoded.station != "hub"
        if sent.kind == "status":
            msgspec.convert(levels[1], StationId)
            return bool(decode_message(sent.payload, StationStatus, "status"))
        return bool(decode_message(sent.payload, Order, "order"))
    except (InvalidMessage, msgspec.ValidationError):
        return False


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.one_of(bodies.map(lambda body: event("st-1", "e1", 1, body)),
                 bad_event("st-1", "e1", 1), status("st-1"), intake()))  # fmt: skip
def test_the_fuzzer_calls_valid_what_the_protocols_decoders_take(sent):
    # Else the hub test below would report the fuzzer's mistakes as the hub's.
    assert contract_takes(sent) == sent.valid


# --- the real hub ------------------------------------------------------------------------
@pytest.fixture
def fuzz_hub(tmp_path, broker):
    broker.add_user(*FUZZER, "hub")
    broker.reload()
    # Caps far above what the run sends: every dead letter stays to be looked at.
    hub = Hub(
        tmp_path / "hub",
        broker,
        PASSWORDS["hub"],
        extra_config="[dead_letters]\nper_source = 100000\ntotal = 1000000\n",
    ).start()
    hub.api(
        "POST",
        "/api/products",
        [
            {"sku": "MUG-1", "name": "Mug", "unit_weight_g": "350"},
            {"sku": "TEA-1", "name": "Tea", "lot_tracked": True},
            {
                "sku": "KIT-1",
                "name": "Gift",
                "kit": [{"sku": "MUG-1", "qty": 1}, {"sku": "TEA-1", "qty": 2}],
            },
        ],
    )
    hub.api("POST", "/api/orders", [{"order": "SO-1", "lines": [{"sku": "MUG-1", "qty": 2}]}])
    hub.api(
        "POST",
        "/api/purchase-orders",
        {"po": "PO-1", "lines": [{"sku": "TEA-1", "qty": 5, "unit_cost": "1.5"}]},
    )
    client = TestClient(broker.port, *FUZZER)
    yield hub, client
    client.close()
    hub.stop()


def problems(hub: Hub, example: Example) -> list[str]:
    """What is not (yet) as the property says, message by message."""
    dead = dict(hub.query("SELECT digest, reason FROM dead_letters"))
    out = []
    for sent in [*example.batch, *example.after]:
        reason = dead.get(sent.digest)
        if reason is not None and (not reason or reason.startswith(LAST_RESORT)):
            out.append(f"{sent.topic} {sent.payload[:300]!r}: no precise reason: {reason}")
        elif sent.kind == "event":
            out += _event_problems(hub, sent, reason)
        elif sent.kind == "status" and sent.valid and reason is not None:
            out.append(f"{sent.topic} {sent.payload[:300]!r}: a valid status refused: {reason}")
        elif sent.kind == "intake" and reason is None:
            saved = sent.valid and hub.query("SELECT 1 FROM orders WHERE order_id = ?", sent.key)
            if not saved:
                out.append(f"intake {sent.payload[:300]!r}: neither saved nor dead-lettered")
        elif sent.kind == "status" and not sent.valid and reason is None:
            out.append(f"{sent.topic} {sent.payload[:300]!r}: an invalid status not refused")
    for station in example.stations:
        stored = hub.query("SELECT status FROM stations WHERE station = ?", (station,))
        if stored != [(FINAL_STATUS.decode(),)]:
            out.append(f"{station}: its last status is not the one stored: {stored}")
    return out


def _event_problems(hub: Hub, sent: Sent, reason: str | None) -> list[str]:
    what = f"{sent.topic} {sent.payload[:300]!r}"
    if not sent.valid:
        return [] if reason is not None else [f"{what}: an invalid event not dead-lettered"]
    if reason is not None:
        ok = reason.startswith("conflicting duplicate")
        return [] if ok else [f"{what}: a valid event dead-lettered: {reason}"]
    rows = hub.query(
        "SELECT type, ts, data FROM events WHERE station = ? AND epoch = ? AND seq = ?", sent.key
    )
    if rows != [sent.content]:
        return [f"{what}: not applied as sent (ledger has {rows})"]
    return []


def ledger_problems(hub: Hub, example: Example) -> list[str]:
    """The hub's own check, for this example's stations (and the ledger as a whole)."""
    conn = store.connect(hub.db_path)
    try:
        report = check(conn)
    finally:
        conn.close()
    mine = set(example.stations)
    out = [f"balance != movements: {m}" for m in report.mismatches]
    out += [f"cost layers: {m}" for m in report.layer_mismatches]
    out += [f"applied twice: {report.duplicates}"] if report.duplicates else []
    for name in ("gaps", "cursor_errors", "held", "failed_events", "station_faults"):
        out += [f"{name}: {row}" for row in getattr(report, name) if row["station"] in mine]
    applied = hub.query(
        "SELECT count(*) FROM events WHERE station IN (?, ?)", tuple(example.stations)
    )[0][0]
    if applied != sum(len(j) for j in example.journals.values()):
        out.append(
            f"{applied} events applied for {len(example.journals)} journals of "
            f"{sum(len(j) for j in example.journals.values())}"
        )
    return out


def test_every_message_is_applied_or_dead_lettered_and_the_hub_never_stalls(fuzz_hub):
    hub, client = fuzz_hub
    numbers = itertools.count()

    # No shrinking: each try of a failing example waits out its timeouts on the real hub.
    @settings(
        max_examples=50,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def fuzz(data):
        example = data.draw(examples(next(numbers)))
        turns = {name: loop["turns"] for name, loop in hub.health()[1]["loops"].items()}
        for sent in [*example.batch, *example.after, example.last]:
            client.publish(sent.topic, sent.payload)
        wait_until(
            lambda: hub.query("SELECT 1 FROM events WHERE station = ?", example.last.key[:1]),
            30,
            "an event sent after the batch applied",
        )
        try:
            wait_until(
                lambda: not problems(hub, example) and not ledger_problems(hub, example),
                5,
                "every message applied or dead-lettered",
            )
        except TimeoutError:
            pytest.fail("\n".join(problems(hub, example) + ledger_problems(hub, example)))
        status, body = hub.health()
        assert status == 200, body
        assert all(body["loops"][n]["turns"] > turns[n] for n in ("ingest", "outbox")), body
        assert hub.proc.running

    fuzz()
    check_run = subprocess.run(
        [sys.executable, "-m", "hub", "check", "--config", str(hub.config_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check_run.returncode == 0, check_run.stdout + check_run.stderr
