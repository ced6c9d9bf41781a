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
aside (hub.set_aside): a dead letter and an `event_failures` row, with an alert. The
station's later events wait behind it, as behind a gap, until a resend applies it (after a
fix) or a supervisor skips it (`skip_decided` then records a `skipped` event in its place,
so the stream stays 1..n, and applies what waited).
"""

import contextlib
import functools
import json
import logging
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, tzinfo

import msgspec

from hub import alerts, deadletters, ledger, orders, set_aside, site_inbox, siteday, store
from hub.config import DeadLetterSection
from hub.corrections import HUB_STATION
from hub.gap_watch import GapWatch
from hub.ingest_batch import Batch, BatchResult, Fence, Incoming, dead
from hub.nul import nul_path_in_json
from hub.store.connection import Connection
from protocol.envelope import (
    Event,
    InvalidMessage,
    decode_event,
    decode_message,
    encode,
    event_key,
    utc_now,
)
from protocol.events import Scan
from protocol.messages import Applied, StationStatus
from protocol.topics import Topics
from protocol.types import StationId

log = logging.getLogger(__name__)

# The type of the event row the hub records in place of a station event a supervisor
# skipped (never a station's own type: the protocol has no such event).
SKIPPED = "skipped"

__all__ = ["SKIPPED", "BatchResult", "Incoming", "Ingest"]


class Ingest:
    def __init__(
        self,
        conn: Connection,
        topics: Topics,
        resync_after_s: float = 2.0,
        zone: tzinfo = UTC,
        fence: Fence | None = None,
        dead_letters: DeadLetterSection | None = None,
    ) -> None:
        """`zone`: the site's time zone (`[web] timezone`), whose days the daily aggregates
        and the day's alerts count in."""
        self.dead_letters = dead_letters or DeadLetterSection()
        self.topics = topics
        self.resync_after_s = resync_after_s
        self.fence = fence
        self.zone = zone
        self.gaps = GapWatch(conn, topics, resync_after_s, fence)
        self.conn = conn

    @property
    def conn(self) -> Connection:
        return self._conn

    @conn.setter
    def conn(self, conn: Connection) -> None:
        """The gap watch follows: the hub gives a new connection after the database failed,
        and a part left on the closed one would fail every turn from then on."""
        self._conn = self.gaps.conn = conn

    def process(self, batch: list[Incoming], deadline: float | None = None) -> BatchResult:
        """Apply a batch in one transaction; on any database error nothing of it is kept.
        With a `deadline` (monotonic) the transaction closes once it has passed, after at
        least one message: `taken` says how many were handled, and the caller gives the
        rest again, first (an ingest worker's batch ends before its leases could run out
        under it, docs/scaling.md)."""
        work = Batch(now=utc_now().isoformat(), decoded=self._decode_ahead(batch))
        with (store.transaction(self.conn), store.writes_held(self.conn),
              store.outbox_batched(self.conn)):  # fmt: skip
            work.failures = store.event_failures_open_any(self.conn)
            self._read_ahead(batch, work)
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

    def _one(self, message: Incoming, work: Batch) -> None:
        levels = self.topics.leaf(message.topic)
        if self.fence is not None and self._not_mine(levels, work):
            return
        if len(levels) == 3 and levels[0] == "station" and levels[2] == "events":
            self._event(message, levels[1], work)
            return
        if len(levels) == 3 and levels[0] == "station" and levels[2] == "status":
            self._status(message, levels[1], work)
            return
        # Any other message may bring an order (an intake, a routed order, a transfer): it
        # reads what the batch's events booked (its SKUs' reorder points read the day's
        # demand; a centre's resend, the movements' values), and the batch's scans read
        # orders again after it (orders.mark_packing).
        work.effects.booked.flush(self.conn)
        work.effects.not_open.clear()
        if levels == ["intake", "orders"]:
            site_inbox.intake(self.conn, self.topics, message, work)
        elif levels == ["centre", "resend"]:
            site_inbox.resend(self.conn, self.topics, message, work)
        elif levels == ["centre", "orders"]:
            site_inbox.centre_order(self.conn, self.topics, message, work)
        elif levels == ["centre", "link"]:
            site_inbox.centre_link(self.conn, self.topics, message, work)
        elif len(levels) == 3 and levels[:2] == ["centre", "transfers"]:
            site_inbox.transfer_order(self.conn, self.topics, message, work, self.zone)
        else:
            self._dead(message, "no handler for this topic", work)

    def _not_mine(self, levels: list[str], work: Batch) -> bool:
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

    def _close_batch(self, work: Batch) -> None:
        """Once per batch what was per event: cursors, held rows, acks, movement and stock
        messages."""
        ledger.finish(self.conn, self.topics, work.effects)
        for (station, epoch), applied in work.moved.items():
            store.cursor_set(self.conn, station, epoch, applied, work.now)
            if work.has_held(self.conn, station, epoch):
                store.pending_drop_applied(self.conn, station, epoch, applied)
            if work.failures:
                set_aside.failures_applied(self.conn, self.topics, station, epoch, applied, work.now)
        for station, epoch in work.touched.items():
            self._publish_applied(station, epoch, work)
        orders.publish_stock(self.conn, self.topics, work.effects.skus, work.now)

    # --- events ---------------------------------------------------------------------
    def _decode_ahead(self, batch: list[Incoming]) -> dict[int, Event]:
        """The batch's station events that decode, by message, each decoded once (`_event`
        takes them from here), so that their products are read in one statement."""
        decoded = {}
        for message in batch:
            levels = self.topics.leaf(message.topic)
            if len(levels) == 3 and levels[0] == "station" and levels[2] == "events":
                with contextlib.suppress(InvalidMessage):
                    decoded[id(message)] = decode_event(message.payload)
        return decoded

    def _read_ahead(self, batch: list[Incoming], work: Batch) -> None:
        """What the batch's events will ask of the ledger, read at its start in one
        statement each for all of them (on PostgreSQL each read is a wait): their
        products, their SKUs' balances, owing lines, last layer costs and alerts, the
        orders their pack scans name, their stations' state, and the scanning stations'
        day totals."""
        # A scan moves no stock: its SKU needs none of what is read here for the others.
        skus = {sku for event in work.decoded.values() if not isinstance(event.data, Scan)
                for sku in _named_skus(event.data)}  # fmt: skip
        products = work.effects.products
        products.read_ahead(self.conn, skus)
        store.balances_read_ahead(self.conn, skus)
        store.deficit_lines_read_ahead(self.conn, skus)
        store.last_costs_read_ahead(self.conn, products.costless(self.conn, skus))
        alerts.read_ahead(self.conn, skus,
                          [sku for sku in skus if not products.exists(self.conn, sku)])  # fmt: skip
        orders.read_ahead_packing(self.conn, _packed_orders(work.decoded.values()),
                                  work.effects.not_open)  # fmt: skip
        journals = self._journals(batch, work)
        work.read_ahead(self.conn, journals, self.fence)
        work.effects.tallies.read_ahead(self.conn, siteday.day_of(work.now, self.zone),
                                        self._scanning(journals, work))  # fmt: skip

    def _journals(self, batch: list[Incoming], work: Batch) -> dict[str, set[str]]:
        """The journals (station -> epochs) of the batch's decoded events that `_event`
        would look at: each on its own station's topic, not the hub's."""
        journals: dict[str, set[str]] = {}
        for message in batch:
            event = work.decoded.get(id(message))
            if event is None:
                continue
            station = self.topics.leaf(message.topic)[1]
            if station == event.station and station != HUB_STATION and _is_station_id(station):
                journals.setdefault(station, set()).add(event.epoch)
        return journals

    def _scanning(self, journals: dict[str, set[str]], work: Batch) -> list[str]:
        """The stations among `journals` this process applies whose events hold scans."""
        return sorted({event.station for event in work.decoded.values()
                       if isinstance(event.data, Scan) and event.station in journals
                       and work.mine.get(event.station, True)})  # fmt: skip

    def _event(self, message: Incoming, station: str, work: Batch) -> None:
        event = work.decoded.pop(id(message), None)
        if event is None:
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
                       work: Batch) -> None:  # fmt: skip
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
        set_aside.refuse(self.conn, self.topics, key, message.payload, reason, work)

    def _hold(self, message: Incoming, event, work: Batch) -> None:
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

    def _conflict(self, message: Incoming, event, what: str, work: Batch) -> None:
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

    def _apply_run(self, event, payload: bytes, applied: int, work: Batch) -> int:
        """Apply `event`, then every held event that follows it without a gap; one that
        holds a NUL character is set aside instead (the rest wait behind it)."""
        while True:
            where = nul_path_in_json(event.raw)
            if where is not None:
                # The ledger stores no NUL (PostgreSQL's text cannot), on either backend, so
                # that both answer alike. A station of this version journals none
                # (station/barcodes.py).
                set_aside.refuse(self.conn, self.topics, event, payload, f"{event.type}: {where} holds a NUL character "
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

    def _publish_applied(self, station: str, epoch: str, work: Batch) -> None:
        seq = work.applied(self.conn, station, epoch)
        store.outbox_put(
            self.conn,
            self.topics.applied(station),
            encode(Applied(epoch=epoch, seq=seq)),
            retain=True,
        )

    # --- station status -------------------------------------------------------------
    def _status(self, message: Incoming, station: str, work: Batch) -> None:
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

    def _dead(self, message: Incoming, reason: str, work: Batch) -> None:
        dead(self.conn, self.topics, message, reason, work)

    # --- events that cannot be applied, and gaps ---------------------------------------
    def set_aside(self, message: Incoming, exc: Exception) -> None:
        """A message that failed alone (hub.set_aside)."""
        set_aside.set_aside(self.conn, self.topics, message, exc)

    def due_resyncs(self, now: float | None = None) -> list[tuple[str, str, int]]:
        """The gaps to ask the stations to resend (hub.gap_watch)."""
        return self.gaps.due_resyncs(now)

    # --- supervisors' skips ---------------------------------------------------------
    def skip_decided(self) -> int:
        """Make the skips supervisors decided: a `skipped` event in the failed one's place
        (its seq is taken, so the stream stays whole), then what waited behind it."""
        todo = store.event_failures_to_skip(self.conn)
        if self.fence is not None:
            todo = [failure for failure in todo if self.fence.owns(failure.station)]
        if not todo:
            return 0
        work = Batch(now=utc_now().isoformat())
        with store.transaction(self.conn):
            for failure in todo:
                if self.fence is None or work.owned(self.conn, failure.station, self.fence):
                    self._skip(failure, work)
            self._close_batch(work)
        return len(todo)

    def _skip(self, failure: store.EventFailure, work: Batch) -> None:
        station, epoch, seq = failure.station, failure.epoch, failure.seq
        log.warning("skipping %s epoch %s seq %d as %s decided", station, epoch, seq,
                    failure.decided_by)  # fmt: skip
        record = {"skipped_by": failure.decided_by, "note": failure.note,
                  "reason": failure.reason, "dead_letter": failure.dead_letter}  # fmt: skip
        store.event_insert(self.conn, station, epoch, seq, SKIPPED, failure.decided or work.now,
                           work.now, json.dumps(record).encode())  # fmt: skip
        alerts.clear(self.conn, self.topics, set_aside.failure_key(station, epoch, seq), work.now)
        applied = seq
        held = store.pending_take(self.conn, station, epoch, seq + 1)
        if held is not None:
            applied = self._apply_run(decode_event(held), held, seq, work)
        work.moved[(station, epoch)] = applied
        if work.station_epoch(self.conn, station) in (None, epoch):
            work.touched[station] = epoch


def _named_skus(data: object) -> Iterator[str]:
    """The SKUs an event names: its own, its lines', a kit's and its parts'."""
    for name in ("sku", "kit"):
        value = getattr(data, name, None)
        if isinstance(value, str):
            yield value
    for item in (*getattr(data, "lines", ()), *getattr(data, "parts", ())):
        yield item.sku


def _packed_orders(events: Iterable[Event]) -> set[str]:
    """The orders the good pack scans among `events` name (each may start its packing)."""
    return {event.data.order for event in events
            if isinstance(event.data, Scan) and event.data.mode == "pack" and event.data.order
            and event.data.verdict == "ok"}  # fmt: skip


@functools.lru_cache(maxsize=4096)  # asked of every event's station, a few of them again and again
def _is_station_id(name: str) -> bool:
    try:
        msgspec.convert(name, StationId)
    except msgspec.ValidationError:
        return False
    return True
