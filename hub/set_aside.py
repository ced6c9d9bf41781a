"""Station events the hub cannot apply (a bug, a value the ledger cannot store, a NUL
character, or one that fails the contract but says it is its station's next event): a
dead letter naming why, and an `event_failures` row that holds the station's later events
as a gap would, with one alert saying what a supervisor may do (docs/reliability.md).

A resend that applies after a fix lifts the failure (`failures_applied`); a supervisor's
skip is made by the ingest (hub.ingest `skip_decided`)."""


from hub import alerts, store
from hub.ingest_batch import Batch, Incoming, source
from hub.store.connection import Connection
from protocol.envelope import Event, EventKey, InvalidMessage, decode_event, utc_now
from protocol.topics import Topics


def set_aside(conn: Connection, topics: Topics, message: Incoming,
              exc: Exception) -> None:  # fmt: skip
    """A message that failed alone, in a transaction of its own: a dead letter (counted,
    not stored again when the station resends it), and for a station event an
    `event_failures` row that holds its stream."""
    now, reason = utc_now().isoformat(), f"ingest failed: {exc!r}"
    event = _decode_or_none(message.payload)
    with store.transaction(conn):
        dead = store.dead_letter(conn, message.topic, message.payload, reason, now,
                                 source(topics, message.topic))  # fmt: skip
        if event is None:
            alerts.raise_(conn, topics, now, "message_failed", "critical",
                          f"a message on {message.topic} failed: {reason} (dead letter "
                          f"{dead})", dedupe=f"message_failed:{message.topic}")  # fmt: skip
            return
        hold_failed(conn, topics, event, dead, reason, now)


def refuse(conn: Connection, topics: Topics, event: Event | EventKey, payload: bytes,
           reason: str, work: Batch) -> None:  # fmt: skip
    """The station's next event, which the hub cannot apply, inside the batch's
    transaction: a dead letter naming why, and the failure that holds the station."""
    topic = topics.events(event.station)
    dead = store.dead_letter(conn, topic, payload, reason, work.now, source(topics, topic))
    work.result.dead += 1
    hold_failed(conn, topics, event, dead, reason, work.now)
    work.failures = True  # a resend that applies in this batch must lift it


def hold_failed(conn: Connection, topics: Topics, event: Event | EventKey, dead: int,
                reason: str, now: str) -> None:  # fmt: skip
    """The event's `event_failures` row, which holds its station's later events, and one
    alert saying what a supervisor may do."""
    key = f"epoch {event.epoch} seq {event.seq}"
    if store.event_failure_add(conn, event.station, event.epoch, event.seq, dead, reason, now):
        alerts.raise_(
            conn, topics, now, "event_failed", "critical",
            f"station {event.station}: event {key} cannot be applied ({reason}; dead "
            f"letter {dead}). Its later events wait behind it: a fixed hub applies it "
            "when the station resends, or a supervisor may skip it (Alerts page).",
            station=event.station, dedupe=failure_key(event.station, event.epoch, event.seq),
        )  # fmt: skip


def failures_applied(conn: Connection, topics: Topics, station: str, epoch: str,
                     applied: int, now: str) -> None:  # fmt: skip
    """Failed events that applied after all (resent to a fixed hub) hold nothing now."""
    for seq in store.event_failures_applied(conn, station, epoch, applied):
        alerts.clear(conn, topics, failure_key(station, epoch, seq), now)


def failure_key(station: str, epoch: str, seq: int) -> str:
    """The dedupe key of a failed event's alert."""
    return f"event_failed:{station}:{epoch}:{seq}"


def _decode_or_none(payload: bytes) -> Event | None:
    try:
        return decode_event(payload)
    except InvalidMessage:
        return None
