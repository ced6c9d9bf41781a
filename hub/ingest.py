"""Exactly-once ingest of station events, a batch per transaction.

For each message, inside one SQLite transaction per batch:
- invalid (not the contract, too big, station in payload not the topic's): dead-lettered;
- `seq <= applied` of its (station, epoch): a duplicate, ignored if it is the event the
  ledger has; with other content (a journal that went back and re-used the seq) it is
  dead-lettered and alerted, never dropped silently;
- `seq == applied + 1`: applied to the ledger, then any held events that now follow;
- `seq > applied + 1`: a gap: held in `pending`, never applied early and never skipped.
The caller acks the messages to the broker only after `process` returns (the commit),
and the outbox rows written here (acks to stations, stock, movements, alerts) are
published after it too. Gaps that do not fill by themselves are answered with
`cmd/resync` asking the station to send again from `applied + 1`.
"""

import logging
import sqlite3
import time
from dataclasses import dataclass, field

import msgspec

from hub import alerts, ledger, orders, store
from hub.corrections import HUB_STATION
from protocol.envelope import InvalidMessage, decode_event, encode, utc_now
from protocol.messages import Applied, Order, StationStatus
from protocol.topics import Topics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    topic: str
    payload: bytes
    mid: int = 0
    qos: int = 1
    retained: bool = False


@dataclass
class BatchResult:
    applied: int = 0  # events applied to the ledger
    duplicates: int = 0
    held: int = 0
    dead: int = 0
    orders: int = 0  # sales orders taken from the intake topic
    stations: set[str] = field(default_factory=set)
    skus: set[str] = field(default_factory=set)


class Ingest:
    def __init__(
        self, conn: sqlite3.Connection, topics: Topics, resync_after_s: float = 2.0
    ) -> None:
        self.conn = conn
        self.topics = topics
        self.resync_after_s = resync_after_s
        self._gap_seen: dict[tuple[str, str], tuple[int, float]] = {}  # -> (applied, since)
        self._resync_sent: dict[tuple[str, str], float] = {}

    def process(self, batch: list[Incoming]) -> BatchResult:
        """Apply a batch in one transaction; on any database error nothing of it is kept."""
        result = BatchResult()
        effects = ledger.Effects()
        now = utc_now().isoformat()
        touched: dict[str, str] = {}  # station -> epoch whose ack must be published
        with store.transaction(self.conn):
            for message in batch:
                self._one(message, now, result, effects, touched)
            for station, epoch in touched.items():
                self._publish_applied(station, epoch)
            for sku in effects.skus:
                ledger.publish_stock(self.conn, self.topics, sku, now)
        result.skus = effects.skus
        return result

    def _one(self, message: Incoming, now: str, result: BatchResult, effects, touched) -> None:
        levels = self.topics.leaf(message.topic)
        if len(levels) == 3 and levels[0] == "station" and levels[2] == "events":
            self._event(message, levels[1], now, result, effects, touched)
        elif len(levels) == 3 and levels[0] == "station" and levels[2] == "status":
            self._status(message, levels[1], now, result)
        elif levels == ["intake", "orders"]:
            self._intake(message, now, result)
        else:
            self._dead(message, "no handler for this topic", now, result)

    # --- events ---------------------------------------------------------------------
    def _event(self, message, station, now, result, effects, touched) -> None:
        try:
            event = decode_event(message.payload)
        except InvalidMessage as exc:
            self._dead(message, str(exc), now, result)
            return
        if station == HUB_STATION:
            self._dead(message, "station id 'hub' is the hub's own journal", now, result)
            return
        if event.station != station:
            self._dead(
                message, f"station {event.station!r} published on {station!r}'s topic", now, result
            )
            return
        store.station_seen(self.conn, station, now)
        current_epoch = store.station_epoch(self.conn, station)
        applied = store.cursor_get(self.conn, station, event.epoch)
        if event.seq <= applied:
            if self._same_as_applied(event):
                result.duplicates += 1
            else:
                self._conflict(message, event, "applied", now, result)
        elif event.seq > applied + 1:
            self._hold(message, event, now, result)
        else:
            applied = self._apply_run(event, applied, now, result, effects)
            store.cursor_set(self.conn, station, event.epoch, applied, now)
            store.pending_drop_applied(self.conn, station, event.epoch, applied)
            # The station's current journal is the one whose events were applied last (or
            # that its online status names): a re-imaged station moves on to its new epoch.
            if event.epoch != current_epoch:
                store.station_set_epoch(self.conn, station, event.epoch)
                current_epoch = event.epoch
        if event.epoch == current_epoch:
            # Re-acknowledge duplicates too: a station re-sending after a lost ack needs it.
            touched[station] = event.epoch
        result.stations.add(station)

    def _hold(self, message, event, now, result) -> None:
        """Keep an event that follows a gap; a held one may come again, but only the same."""
        held = store.pending_get(self.conn, event.station, event.epoch, event.seq)
        if held is None:
            store.pending_put(
                self.conn, event.station, event.epoch, event.seq, message.payload, now
            )
        elif held != message.payload:
            self._conflict(message, event, "held", now, result)
            return
        result.held += 1

    def _same_as_applied(self, event) -> bool:
        """A re-sent event is the journal's bytes again: same type, station time and data."""
        stored = store.event_content(self.conn, event.station, event.epoch, event.seq)
        if stored is None:
            return True  # nothing to compare with (a ledger restored without it): a duplicate
        return stored == (event.type, event.ts.isoformat(), event.raw.decode())

    def _conflict(self, message, event, what: str, now, result) -> None:
        """The same (station, epoch, seq) with other content: the station's journal went
        back (restored, or a card that lost acknowledged writes) and numbered new events
        over ones the hub has. Kept as a dead letter, and one alert per journal."""
        key = f"{event.station} epoch {event.epoch} seq {event.seq}"
        reason = f"conflicting duplicate: {key} is {what} with other content"
        self._dead(message, reason, now, result)
        alerts.raise_(
            self.conn, self.topics, now, "conflicting_event", "critical",
            f"station {event.station} sent {key} again with other content: its journal went "
            "back; the events are in the dead letters",
            station=event.station, dedupe=f"conflicting_event:{event.station}:{event.epoch}",
        )  # fmt: skip

    def _apply_run(self, event, applied: int, now, result, effects) -> int:
        """Apply `event`, then every held event that follows it without a gap."""
        while True:
            ledger.apply_event(self.conn, self.topics, event, now, effects)
            applied = event.seq
            result.applied += 1
            held = store.pending_take(self.conn, event.station, event.epoch, applied + 1)
            if held is None:
                return applied
            # Held events were validated when they arrived.
            event = decode_event(held)

    def _publish_applied(self, station: str, epoch: str) -> None:
        seq = store.cursor_get(self.conn, station, epoch)
        store.outbox_put(
            self.conn,
            self.topics.applied(station),
            encode(Applied(epoch=epoch, seq=seq)),
            retain=True,
        )

    # --- station status -------------------------------------------------------------
    def _status(self, message, station, now, result) -> None:
        if not message.payload:
            return  # a cleared retained status
        try:
            status = msgspec.json.decode(message.payload, type=StationStatus)
        # msgspec reports invalid UTF-8 in an object key as UnicodeDecodeError.
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
            self._dead(message, f"status: {exc}", now, result)
            return
        previous = self._previous_conn(station)
        if status.state == "offline" and status.conn < previous:
            return  # the will of an older connection, arriving after the new birth
        store.station_status_set(self.conn, station, status.state, message.payload, now)
        if status.state == "offline":
            alerts.station_offline(self.conn, self.topics, station, now)
        else:
            alerts.station_online(self.conn, station, now)
        if status.epoch and status.state == "online":
            store.station_set_epoch(self.conn, station, status.epoch)
            self._publish_applied(station, status.epoch)
        result.stations.add(station)

    def _previous_conn(self, station: str) -> int:
        raw = store.station_status_get(self.conn, station)
        try:
            return msgspec.json.decode(raw, type=StationStatus).conn if raw else 0
        except (msgspec.ValidationError, msgspec.DecodeError):
            return 0

    # --- sales orders from other systems --------------------------------------------
    def _intake(self, message: Incoming, now: str, result: BatchResult) -> None:
        """An order from a shop or ERP: saved like one from the API, or dead-lettered."""
        try:
            order = msgspec.json.decode(message.payload, type=Order)
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
            self._dead(message, f"order: {exc}", now, result)
            return
        self.conn.execute("SAVEPOINT intake")
        try:
            orders.save_order(self.conn, self.topics, order, now)
        except (orders.OrderError, orders.OrderConflict, ValueError) as exc:
            self.conn.execute("ROLLBACK TO intake")
            self.conn.execute("RELEASE intake")
            self._dead(message, str(exc), now, result)
            return
        self.conn.execute("RELEASE intake")
        result.orders += 1

    # --- dead letters ---------------------------------------------------------------
    def _dead(self, message: Incoming, reason: str, now: str, result: BatchResult) -> None:
        log.warning("dead letter on %s: %s", message.topic, reason)
        store.dead_letter(self.conn, message.topic, message.payload, reason, now)
        result.dead += 1

    # --- gaps -----------------------------------------------------------------------
    def due_resyncs(self, now: float | None = None) -> list[tuple[str, int]]:
        """(station, from seq) for every gap that has not filled for `resync_after_s`.

        Asked again every `resync_after_s` while the gap stays open: a station that was
        offline when first asked is asked again.
        """
        now = time.monotonic() if now is None else now
        due: list[tuple[str, int]] = []
        open_gaps = {(g.station, g.epoch): g for g in store.gaps(self.conn)}
        for key in list(self._gap_seen):
            if key not in open_gaps:
                del self._gap_seen[key]
                self._resync_sent.pop(key, None)
        for key, gap in open_gaps.items():
            applied, since = self._gap_seen.get(key, (gap.applied, now))
            if applied != gap.applied:  # progress: the gap moved, start the clock again
                since = now
            self._gap_seen[key] = (gap.applied, since)
            last_sent = self._resync_sent.get(key)
            waited = now - since >= self.resync_after_s
            not_recent = last_sent is None or now - last_sent >= self.resync_after_s
            if waited and not_recent:
                due.append((gap.station, gap.applied + 1))
                self._resync_sent[key] = now
        return due
