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
`cmd/resync` asking the station to send again from `applied + 1` of that epoch, as long as
it is the epoch the station journals now; held events of an epoch it no longer has cannot
come again, and are reported instead (an alert, and `hub check`).

An event that cannot be applied at all (a bug, a value the ledger cannot store, a NUL
character, or one that fails the contract but says it is its station's next event) is set
aside (`set_aside`, `_refuse`): a dead letter and an `event_failures` row, with an alert. The
station's later events wait behind it, as behind a gap, until a resend applies it (after a
fix) or a supervisor skips it (`skip_decided` then records a `skipped` event in its place,
so the stream stays 1..n, and applies what waited).
"""

import json
import logging
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Protocol

import msgspec

from hub import alerts, centre_orders, deadletters, ledger, orders, stock, store, transfers
from hub.config import DeadLetterSection
from hub.corrections import HUB_STATION, hub_event
from hub.nul import nul_path_in_json
from protocol.envelope import (
    Event,
    EventKey,
    InvalidMessage,
    decode_event,
    decode_message,
    encode,
    event_key,
    utc_now,
)
from protocol.messages import Applied, Order, ResendMovements, StationStatus, TransferOrder
from protocol.topics import Topics
from protocol.types import StationId

log = logging.getLogger(__name__)

# The type of the event row the hub records in place of a station event a supervisor
# skipped (never a station's own type: the protocol has no such event).
SKIPPED = "skipped"
# Movements republished per request of the central hub: it asks again for the rest.
RESEND_WINDOW = 1000
# Mosquitto's bridge notification payloads.
LINK_STATES = {b"1": "up", b"0": "down"}


class Fence(Protocol):
    """Which stations this process applies, when several share the database
    (hub.ownership); a single hub has none and applies every station."""

    def fence(self, conn: sqlite3.Connection, station: str) -> bool:
        """Inside the applying transaction: whether the lease row names this process."""

    def owns(self, station: str) -> bool:
        """This process's view between transactions (for gaps and skips to look at)."""


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
    not_mine: int = 0  # messages of stations another worker owns: left to it
    taken: int = 0  # messages of the batch handled (the first ones): the rest wait
    stations: set[str] = field(default_factory=set)
    skus: set[str] = field(default_factory=set)


@dataclass
class _Batch:
    """What one batch's transaction knows, so each station's rows are read once per batch
    and its cursor written once, not per event (a dozen statements per event before)."""

    now: str
    result: BatchResult = field(default_factory=BatchResult)
    effects: ledger.Effects = field(default_factory=ledger.Effects)
    touched: dict[str, str] = field(default_factory=dict)  # station -> epoch to acknowledge
    epochs: dict[str, str | None] = field(default_factory=dict)  # station -> current epoch
    cursors: dict[tuple[str, str], int] = field(default_factory=dict)  # read at first use
    moved: dict[tuple[str, str], int] = field(default_factory=dict)  # applied, to write
    held: set[tuple[str, str]] = field(default_factory=set)  # (station, epoch) with held rows
    looked: set[tuple[str, str]] = field(default_factory=set)  # held rows looked for
    failures: bool = False  # some events wait behind a failed one (read once per batch)
    mine: dict[str, bool] = field(default_factory=dict)  # station -> this worker owns it

    def owned(self, conn: sqlite3.Connection, station: str, fence: Fence) -> bool:
        if station not in self.mine:
            self.mine[station] = fence.fence(conn, station)
        return self.mine[station]

    def station_epoch(self, conn: sqlite3.Connection, station: str) -> str | None:
        if station not in self.epochs:
            store.station_seen(conn, station, self.now)
            self.epochs[station] = store.station_epoch(conn, station)
        return self.epochs[station]

    def applied(self, conn: sqlite3.Connection, station: str, epoch: str) -> int:
        key = (station, epoch)
        if key in self.moved:
            return self.moved[key]
        if key not in self.cursors:
            self.cursors[key] = store.cursor_get(conn, station, epoch)
        return self.cursors[key]

    def has_held(self, conn: sqlite3.Connection, station: str, epoch: str) -> bool:
        key = (station, epoch)
        if key not in self.looked:
            self.looked.add(key)
            if store.pending_any(conn, station, epoch):
                self.held.add(key)
        return key in self.held


class Ingest:
    def __init__(
        self,
        conn: sqlite3.Connection,
        topics: Topics,
        resync_after_s: float = 2.0,
        zone: tzinfo = UTC,
        fence: Fence | None = None,
        dead_letters: DeadLetterSection | None = None,
    ) -> None:
        """`zone`: the site's time zone (`[web] timezone`), whose days the daily aggregates
        and the day's alerts count in."""
        self.conn = conn
        self.dead_letters = dead_letters or DeadLetterSection()
        self.topics = topics
        self.resync_after_s = resync_after_s
        self.fence = fence
        self.zone = zone
        self._gap_seen: dict[tuple[str, str], tuple[int, float]] = {}  # -> (applied, since)
        self._resync_sent: dict[tuple[str, str], float] = {}
        self._stale_reported: set[tuple[str, str]] = set()

    def process(self, batch: list[Incoming], deadline: float | None = None) -> BatchResult:
        """Apply a batch in one transaction; on any database error nothing of it is kept.
        With a `deadline` (monotonic) the transaction closes once it has passed, after at
        least one message: `taken` says how many were handled, and the caller gives the
        rest again, first (an ingest worker's batch ends before its leases could run out
        under it, docs/scaling.md)."""
        work = _Batch(now=utc_now().isoformat())
        with store.transaction(self.conn), store.pipelined(self.conn):
            work.failures = store.event_failures_open_any(self.conn)
            for message in batch:
                if work.result.taken and deadline is not None and time.monotonic() >= deadline:
                    break
                self._one(message, work)
                work.result.taken += 1
            self._close_batch(work)
            if work.result.dead:
                # In the batch's transaction: nobody ever sees more than the caps allow.
                deadletters.trim(self.conn, self.dead_letters, utc_now())
        work.result.skus = work.effects.skus
        return work.result

    def _one(self, message: Incoming, work: "_Batch") -> None:
        levels = self.topics.leaf(message.topic)
        if self.fence is not None and self._not_mine(levels, work):
            return
        if len(levels) == 3 and levels[0] == "station" and levels[2] == "events":
            self._event(message, levels[1], work)
        elif len(levels) == 3 and levels[0] == "station" and levels[2] == "status":
            self._status(message, levels[1], work)
        elif levels == ["intake", "orders"]:
            self._intake(message, work)
        elif levels == ["centre", "resend"]:
            self._resend(message, work)
        elif levels == ["centre", "orders"]:
            self._centre_order(message, work)
        elif levels == ["centre", "link"]:
            self._centre_link(message, work)
        elif len(levels) == 3 and levels[:2] == ["centre", "transfers"]:
            self._transfer_order(message, work)
        else:
            self._dead(message, "no handler for this topic", work)

    def _not_mine(self, levels: list[str], work: "_Batch") -> bool:
        """A station message another worker owns: left to it (its events come again from
        the station's journal when the owner asks). A status names a station to own."""
        if len(levels) != 3 or levels[0] != "station" or levels[2] not in ("events", "status"):
            return False
        station = levels[1]
        if not _is_station_id(station) or work.owned(self.conn, station, self.fence):
            return False
        if levels[2] == "status":
            store.station_lease_add(self.conn, station)
        work.result.not_mine += 1
        return True

    def _close_batch(self, work: "_Batch") -> None:
        """Once per batch what was per event: cursors, held rows, acks, movement and stock
        messages."""
        ledger.publish_movements(self.conn, self.topics, work.effects)
        for (station, epoch), applied in work.moved.items():
            store.cursor_set(self.conn, station, epoch, applied, work.now)
            if work.has_held(self.conn, station, epoch):
                store.pending_drop_applied(self.conn, station, epoch, applied)
            if work.failures:
                self._failures_applied(station, epoch, applied, work.now)
        for station, epoch in work.touched.items():
            self._publish_applied(station, epoch, work)
        for sku in work.effects.skus:
            stock.publish(self.conn, self.topics, sku, work.now)
            orders.follow_stock(self.conn, self.topics, sku)

    # --- events ---------------------------------------------------------------------
    def _event(self, message: Incoming, station: str, work: "_Batch") -> None:
        try:
            event = decode_event(message.payload)
        except InvalidMessage as exc:
            self._invalid_event(message, station, str(exc), work)
            return
        if station == HUB_STATION:
            self._dead(message, "station id 'hub' is the hub's own journal", work)
            return
        if event.station != station:
            self._dead(message, f"station {event.station!r} published on {station!r}'s topic",
                       work)  # fmt: skip
            return
        current_epoch = work.station_epoch(self.conn, station)
        applied = work.applied(self.conn, station, event.epoch)
        if event.seq <= applied:
            if self._same_as_applied(event):
                work.result.duplicates += 1
            else:
                self._conflict(message, event, "applied", work)
        elif event.seq > applied + 1:
            self._hold(message, event, work)
        else:
            work.moved[(station, event.epoch)] = self._apply_run(event, message.payload,
                                                                 applied, work)  # fmt: skip
            # The station's current journal is the one whose events were applied last (or
            # that its online status names): a re-imaged station moves on to its new epoch.
            if event.epoch != current_epoch:
                store.station_set_epoch(self.conn, station, event.epoch)
                work.epochs[station] = current_epoch = event.epoch
        if event.epoch == current_epoch:
            # Re-acknowledge duplicates too: a station re-sending after a lost ack needs it.
            work.touched[station] = event.epoch
        work.result.stations.add(station)

    def _invalid_event(self, message: Incoming, station: str, reason: str,
                       work: "_Batch") -> None:  # fmt: skip
        """An event the contract refuses. One that says it is its station's next event is
        one the hub cannot apply: set aside like any such (its later events wait behind it,
        and it is not asked for again). Any other is only a dead letter: one ahead of a gap
        comes again when asked for (and is set aside then), one already applied changes
        nothing, one that does not say which event it is cannot hold anything."""
        key = event_key(message.payload)
        if (key is None or key.station != station or station == HUB_STATION
                or key.seq != work.applied(self.conn, station, key.epoch) + 1):  # fmt: skip
            self._dead(message, reason, work)
            return
        self._refuse(key, message.payload, reason, work)

    def _hold(self, message: Incoming, event, work: "_Batch") -> None:
        """Keep an event that follows a gap; a held one may come again, but only the same."""
        held = store.pending_get(self.conn, event.station, event.epoch, event.seq)
        if held is None:
            store.pending_put(
                self.conn, event.station, event.epoch, event.seq, message.payload, work.now
            )
            work.held.add((event.station, event.epoch))
        elif held != message.payload:
            self._conflict(message, event, "held", work)
            return
        work.result.held += 1

    def _same_as_applied(self, event) -> bool:
        """A re-sent event is the journal's bytes again: same type, station time and data."""
        stored = store.event_content(self.conn, event.station, event.epoch, event.seq)
        if stored is None:
            return True  # nothing to compare with (a ledger restored without it): a duplicate
        if stored[0] == SKIPPED:
            return True  # the event a supervisor skipped, sent again: nothing to do
        return stored == (event.type, event.ts.isoformat(), event.raw.decode())

    def _conflict(self, message: Incoming, event, what: str, work: "_Batch") -> None:
        """The same (station, epoch, seq) with other content: the station's journal went
        back (restored, or a card that lost acknowledged writes) and numbered new events
        over ones the hub has. Kept as a dead letter, and one alert per journal."""
        key = f"{event.station} epoch {event.epoch} seq {event.seq}"
        self._dead(message, f"conflicting duplicate: {key} is {what} with other content", work)
        alerts.raise_(
            self.conn, self.topics, work.now, "conflicting_event", "critical",
            f"station {event.station} sent {key} again with other content: its journal went "
            "back; the events are in the dead letters",
            station=event.station, dedupe=f"conflicting_event:{event.station}:{event.epoch}",
        )  # fmt: skip

    def _apply_run(self, event, payload: bytes, applied: int, work: "_Batch") -> int:
        """Apply `event`, then every held event that follows it without a gap; one that
        holds a NUL character is set aside instead (the rest wait behind it)."""
        while True:
            where = nul_path_in_json(event.raw)
            if where is not None:
                # The ledger stores no NUL (PostgreSQL's text cannot), on either backend, so
                # that both answer alike. A station of this version journals none
                # (station/barcodes.py).
                self._refuse(event, payload, f"{event.type}: {where} holds a NUL character "
                             "(U+0000), which the ledger does not store", work)  # fmt: skip
                return applied
            ledger.apply_event(self.conn, self.topics, event, work.now, work.effects, self.zone)
            applied = event.seq
            work.result.applied += 1
            if not work.has_held(self.conn, event.station, event.epoch):
                return applied  # nothing held for this journal: no row to look for
            held = store.pending_take(self.conn, event.station, event.epoch, applied + 1)
            if held is None:
                return applied
            # Held events were validated when they arrived.
            event, payload = decode_event(held), held

    def _publish_applied(self, station: str, epoch: str, work: "_Batch") -> None:
        seq = work.applied(self.conn, station, epoch)
        store.outbox_put(
            self.conn,
            self.topics.applied(station),
            encode(Applied(epoch=epoch, seq=seq)),
            retain=True,
        )

    # --- station status -------------------------------------------------------------
    def _status(self, message: Incoming, station: str, work: "_Batch") -> None:
        now, result = work.now, work.result
        if not message.payload:
            return  # a cleared retained status
        if not _is_station_id(station):
            # No station has that id (a "_" user's own name, say): never a phantom station.
            self._dead(message, f"status: {station!r} is not a station id", work)
            return
        try:
            status = decode_message(message.payload, StationStatus, "status")
        except InvalidMessage as exc:
            self._dead(message, str(exc), work)
            return
        previous = self._previous_conn(station)
        if status.state == "offline" and status.conn < previous:
            return  # the will of an older connection, arriving after the new birth
        store.station_status_set(self.conn, station, status.state, message.payload, now)
        if status.state == "offline":
            alerts.station_offline(self.conn, self.topics, station, now)
        else:
            alerts.station_online(self.conn, self.topics, station, now)
        if status.epoch and status.state == "online":
            store.station_set_epoch(self.conn, station, status.epoch)
            work.epochs[station] = status.epoch
            self._publish_applied(station, status.epoch, work)
        result.stations.add(station)

    def _previous_conn(self, station: str) -> int:
        raw = store.station_status_get(self.conn, station)
        try:
            return msgspec.json.decode(raw, type=StationStatus).conn if raw else 0
        except (msgspec.ValidationError, msgspec.DecodeError):
            return 0

    # --- sales orders from other systems --------------------------------------------
    def _intake(self, message: Incoming, work: "_Batch") -> None:
        """An order from a shop or ERP: saved like one from the API, or dead-lettered."""
        try:
            order = decode_message(message.payload, Order, "order")
        except InvalidMessage as exc:
            self._dead(message, str(exc), work)
            return
        self.conn.execute("SAVEPOINT intake")
        try:
            orders.save_order(self.conn, self.topics, order, work.now)
        except (orders.OrderError, orders.OrderConflict, ValueError) as exc:
            self.conn.execute("ROLLBACK TO intake")
            self.conn.execute("RELEASE intake")
            self._dead(message, str(exc), work)
            return
        self.conn.execute("RELEASE intake")
        work.result.orders += 1

    # --- the central hub (a site of a company: docs/multi-site.md) ---------------------
    def _resend(self, message: Incoming, work: "_Batch") -> None:
        """The centre missed some movements: publish them again from `from`, a window at a
        time (it asks again for the rest)."""
        try:
            request = decode_message(message.payload, ResendMovements, "resend request")
        except InvalidMessage as exc:
            self._dead(message, str(exc), work)
            return
        last = store.ledger_position(self.conn)
        records = store.movement_records(self.conn, request.from_, last, RESEND_WINDOW)
        log.info("the centre asks for movements from %d: resending %d (ledger at %d)",
                 request.from_, len(records), last)  # fmt: skip
        for record in records:
            store.outbox_put(self.conn, self.topics.movements,
                             encode(ledger.movement_message(record)), retain=False)  # fmt: skip

    def _centre_order(self, message: Incoming, work: "_Batch") -> None:
        """An order the centre routed here (or, cancelled, withdraws): taken as from the
        intake; one the site cannot take goes back to the centre as rejected, and to the
        dead letters."""
        try:
            order = decode_message(message.payload, Order, "order")
        except InvalidMessage as exc:
            self._dead(message, str(exc), work)
            return
        self.conn.execute("SAVEPOINT centre_order")
        try:
            if order.status == "cancelled":
                centre_orders.withdraw(self.conn, self.topics, order.order, work.now)
            else:
                centre_orders.take(self.conn, self.topics, order, work.now)
        except (orders.OrderError, orders.OrderConflict, ValueError) as exc:
            self.conn.execute("ROLLBACK TO centre_order")
            self.conn.execute("RELEASE centre_order")
            centre_orders.send(self.conn, self.topics, order.order, "rejected", str(exc))
            self._dead(message, str(exc), work)
            return
        self.conn.execute("RELEASE centre_order")
        work.result.orders += 1

    def _centre_link(self, message: Incoming, work: "_Batch") -> None:
        """Mosquitto's notification of the bridge to the centre: shown on the overview."""
        state = LINK_STATES.get(message.payload)
        if state is None:
            self._dead(message, "centre link: expected the bridge's 1 or 0", work)
            return
        store.meta_set(self.conn, "centre_link", json.dumps({"state": state, "since": work.now}))

    def _transfer_order(self, message: Incoming, work: "_Batch") -> None:
        """The centre's word on a transfer this site sends or receives (hub.transfers);
        once it is received at the other site, the sender books its transit out."""
        if not message.payload:
            return  # a cleared retained transfer
        try:
            order = decode_message(message.payload, TransferOrder, "transfer order")
        except InvalidMessage as exc:
            self._dead(message, str(exc), work)
            return
        self.conn.execute("SAVEPOINT transfer")
        try:
            book_out = transfers.take_order(self.conn, self.topics, order, work.now)
        except (transfers.TransferRefused, ValueError) as exc:
            self.conn.execute("ROLLBACK TO transfer")
            self._dead(message, str(exc), work)
            # Not silent: the goods are on their way (or waiting to leave) all the same.
            alerts.raise_(self.conn, self.topics, work.now, "message_failed", "critical",
                          f"transfer {order.transfer} could not be taken: {exc} (dead letter)",
                          dedupe=f"transfer_refused:{order.transfer}")  # fmt: skip
            return
        finally:
            self.conn.execute("RELEASE transfer")
        if book_out:
            source = hub_event(self.conn, "transfer_out", {"transfer": order.transfer},
                               utc_now(), work.effects, self.zone)  # fmt: skip
            ledger.book_transit_out(ledger.Ctx(self.conn, self.topics, source, work.effects),
                                    order.transfer, book_out)  # fmt: skip

    # --- dead letters ---------------------------------------------------------------
    def _dead(self, message: Incoming, reason: str, work: "_Batch") -> None:
        log.warning("dead letter on %s: %s", message.topic, reason)
        store.dead_letter(self.conn, message.topic, message.payload, reason, work.now,
                          self._source(message.topic))  # fmt: skip
        work.result.dead += 1

    def _source(self, topic: str) -> str:
        """Whose dead letter it is, for the caps: the station, else the topic's first level."""
        levels = self.topics.leaf(topic)
        if len(levels) >= 2 and levels[0] == "station":
            return levels[1][:64]
        return levels[0][:64] if levels else "other"

    # --- events that cannot be applied ----------------------------------------------
    def set_aside(self, message: Incoming, exc: Exception) -> None:
        """A message that failed alone: a dead letter (counted, not stored again when the
        station resends it), and for a station event an `event_failures` row that holds its
        stream, with one alert saying what a supervisor may do."""
        now, reason = utc_now().isoformat(), f"ingest failed: {exc!r}"
        event = _decode_or_none(message.payload)
        with store.transaction(self.conn):
            dead = store.dead_letter(self.conn, message.topic, message.payload, reason, now,
                                     self._source(message.topic))  # fmt: skip
            if event is None:
                alerts.raise_(self.conn, self.topics, now, "message_failed", "critical",
                              f"a message on {message.topic} failed: {reason} (dead letter "
                              f"{dead})", dedupe=f"message_failed:{message.topic}")  # fmt: skip
                return
            self._hold_failed(event, dead, reason, now)

    def _refuse(self, event: Event | EventKey, payload: bytes, reason: str,
                work: "_Batch") -> None:  # fmt: skip
        """The station's next event, which the hub cannot apply (it fails the contract, or
        holds a NUL): a dead letter naming why, and the failure that holds the station."""
        topic = self.topics.events(event.station)
        dead = store.dead_letter(self.conn, topic, payload, reason, work.now,
                                 self._source(topic))  # fmt: skip
        work.result.dead += 1
        self._hold_failed(event, dead, reason, work.now)
        work.failures = True  # a resend that applies in this batch must lift it

    def _hold_failed(self, event: Event | EventKey, dead: int, reason: str, now: str) -> None:
        """The event's `event_failures` row, which holds its station's later events, and one
        alert saying what a supervisor may do."""
        key = f"epoch {event.epoch} seq {event.seq}"
        if store.event_failure_add(self.conn, event.station, event.epoch, event.seq, dead,
                                   reason, now):  # fmt: skip
            alerts.raise_(
                self.conn, self.topics, now, "event_failed", "critical",
                f"station {event.station}: event {key} cannot be applied ({reason}; dead "
                f"letter {dead}). Its later events wait behind it: a fixed hub applies it "
                "when the station resends, or a supervisor may skip it (Alerts page).",
                station=event.station, dedupe=_failure_key(event.station, event.epoch,
                                                           event.seq),
            )  # fmt: skip

    def _failures_applied(self, station: str, epoch: str, applied: int, now: str) -> None:
        """Failed events that applied after all (resent to a fixed hub) hold nothing now."""
        for seq in store.event_failures_applied(self.conn, station, epoch, applied):
            alerts.clear(self.conn, self.topics, _failure_key(station, epoch, seq), now)

    def skip_decided(self) -> int:
        """Make the skips supervisors decided: a `skipped` event in the failed one's place
        (its seq is taken, so the stream stays whole), then what waited behind it."""
        todo = store.event_failures_to_skip(self.conn)
        if self.fence is not None:
            todo = [failure for failure in todo if self.fence.owns(failure.station)]
        if not todo:
            return 0
        work = _Batch(now=utc_now().isoformat())
        with store.transaction(self.conn):
            for failure in todo:
                if self.fence is None or work.owned(self.conn, failure.station, self.fence):
                    self._skip(failure, work)
            self._close_batch(work)
        return len(todo)

    def _skip(self, failure: store.EventFailure, work: "_Batch") -> None:
        station, epoch, seq = failure.station, failure.epoch, failure.seq
        log.warning("skipping %s epoch %s seq %d as %s decided", station, epoch, seq,
                    failure.decided_by)  # fmt: skip
        record = {"skipped_by": failure.decided_by, "note": failure.note,
                  "reason": failure.reason, "dead_letter": failure.dead_letter}  # fmt: skip
        store.event_insert(self.conn, station, epoch, seq, SKIPPED, failure.decided or work.now,
                           work.now, json.dumps(record).encode())  # fmt: skip
        alerts.clear(self.conn, self.topics, _failure_key(station, epoch, seq), work.now)
        applied = seq
        held = store.pending_take(self.conn, station, epoch, seq + 1)
        if held is not None:
            applied = self._apply_run(decode_event(held), held, seq, work)
        work.moved[(station, epoch)] = applied
        if work.station_epoch(self.conn, station) in (None, epoch):
            work.touched[station] = epoch

    # --- gaps -----------------------------------------------------------------------
    def due_resyncs(self, now: float | None = None) -> list[tuple[str, str, int]]:
        """(station, epoch, from seq) for every gap of a station's current journal that
        has not filled for `resync_after_s`.

        Asked again every `resync_after_s` while the gap stays open: a station that was
        offline when first asked is asked again. A gap in an epoch the station no longer
        journals (re-imaged, or a stray publish) can never fill: it is reported once with an
        alert, and not asked for; so is one whose next event came and failed (set_aside).
        """
        now = time.monotonic() if now is None else now
        due: list[tuple[str, str, int]] = []
        open_gaps = {(g.station, g.epoch): g for g in store.gaps(self.conn)
                     if self.fence is None or self.fence.owns(g.station)}  # fmt: skip
        for key in list(self._gap_seen):
            if key not in open_gaps:
                del self._gap_seen[key]
                self._resync_sent.pop(key, None)
        stale = []
        for key, gap in open_gaps.items():
            current = store.station_epoch(self.conn, gap.station)
            if current is not None and current != gap.epoch:
                stale.append((gap, current))
                continue
            if store.event_failure_get(self.conn, gap.station, gap.epoch, gap.applied + 1):
                continue  # it came and failed: resending it would fail again (it is alerted)
            applied, since = self._gap_seen.get(key, (gap.applied, now))
            if applied != gap.applied:  # progress: the gap moved, start the clock again
                since = now
            self._gap_seen[key] = (gap.applied, since)
            last_sent = self._resync_sent.get(key)
            waited = now - since >= self.resync_after_s
            not_recent = last_sent is None or now - last_sent >= self.resync_after_s
            if waited and not_recent:
                due.append((gap.station, gap.epoch, gap.applied + 1))
                self._resync_sent[key] = now
        self._report_stale(stale)
        return due

    def _report_stale(self, stale: list[tuple[store.Gap, str]]) -> None:
        """Alert once while the condition stands; once it is over (the station journals that
        epoch again, or nothing is held in it), it is forgotten, so that it is alerted again
        if it comes back."""
        self._stale_reported &= {(gap.station, gap.epoch) for gap, _current in stale}
        new = [(gap, current) for gap, current in stale
               if (gap.station, gap.epoch) not in self._stale_reported]  # fmt: skip
        if not new:
            return
        now = utc_now().isoformat()
        with store.transaction(self.conn):
            for gap, current in new:
                log.warning("%s: %d events of epoch %s held after seq %d; it journals %s now",
                            gap.station, gap.held, gap.epoch, gap.applied, current)  # fmt: skip
                alerts.raise_(
                    self.conn, self.topics, now, "held_old_epoch", "critical",
                    f"station {gap.station}: {gap.held} events of epoch {gap.epoch} (from seq "
                    f"{gap.first_held}) wait behind seq {gap.applied + 1}, which never "
                    f"arrived; the station journals epoch {current} now and cannot resend "
                    "them (see python -m hub check)",
                    station=gap.station, dedupe=f"held_old_epoch:{gap.station}:{gap.epoch}",
                )  # fmt: skip
                self._stale_reported.add((gap.station, gap.epoch))


def _failure_key(station: str, epoch: str, seq: int) -> str:
    return f"event_failed:{station}:{epoch}:{seq}"


def _decode_or_none(payload: bytes):
    try:
        return decode_event(payload)
    except InvalidMessage:
        return None

def _is_station_id(name: str) -> bool:
    try:
        msgspec.convert(name, StationId)
    except msgspec.ValidationError:
        return False
    return True
