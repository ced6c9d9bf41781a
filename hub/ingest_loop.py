"""The ingest loop: the thread that is the hub's one writer (docs/architecture.md). Each
turn it renews an ingest worker's leases, takes what the link received in one batch and
applies it in one transaction, acks it after the commit, deletes the outbox rows the
broker has, and asks stations (and a central hub's sites) to resend what is missing. A
database that fails keeps what was taken for the next turn, unacked; a message that fails
alone is set aside; nothing stops the loop but `stop`."""

import logging
import queue
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from hub import alerts, deadletters, store
from hub.batch_limit import BatchLimit
from hub.central import CentralIngest
from hub.changes import ChangeFeed
from hub.config import DeadLetterSection
from hub.health import Heartbeats
from hub.ingest import Ingest
from hub.ingest_batch import Incoming
from hub.link import HubLink
from hub.loop_alerts import LoopAlerts
from hub.ownership import Ownership, stream_site
from protocol.envelope import encode, utc_now
from protocol.messages import ResendMovements
from protocol.topics import Topics

log = logging.getLogger(__name__)

# Ingest waits while more outbox rows than this are unpublished. Both share one
# interpreter, and the ingest, left alone, writes rows faster than they can be published:
# the queue then grows without end, and the stations' `applied` acks (retained, so always
# re-queued at its end) stop arriving until they resend everything. About 1 s of publishing.
OUTBOX_MAX_BEHIND = 1000
# Errors of one message, not of the database (store.item_errors(): a constraint or a value
# the database cannot store) set that message aside. Others (disk full, read-only, I/O,
# PostgreSQL gone) are the database's: the batch waits, unacknowledged, and is tried again
# on a new connection.
# How long the ingest waits before it tries a failing database again.
DATABASE_RETRY_S = 1.0
# An ingest worker of a central hub applies its sites' messages this many per transaction,
# so that it can stop at its batch deadline (see _apply_sites).
SITE_CHUNK = 100


class IngestLoop:
    """`ownership`: an ingest worker's leases (None in the single process, which applies
    every station). `conn` is the loop's own connection, shared with `ingest` and `central`
    and replaced with theirs after a database failure."""

    def __init__(self, *, db_path: str | Path, conn: store.Connection, link: HubLink,
                 ingest: Ingest, central: CentralIngest | None, ownership: Ownership | None,
                 topics: Topics, changes: ChangeFeed, heartbeats: Heartbeats,
                 loop_alerts: LoopAlerts, max_batch: int, dead_letters: DeadLetterSection,
                 stop: threading.Event) -> None:  # fmt: skip
        self.db_path = db_path
        self.conn = conn
        self.link = link
        self.ingest = ingest
        self.central = central
        self.ownership = ownership
        self.topics = topics
        self.changes = changes
        self.heartbeats = heartbeats
        self.loop_alerts = loop_alerts
        self.max_batch = max_batch
        self.dead_letters = dead_letters
        self._stop = stop
        # Taken, not yet applied: the end of a batch closed early, or a batch the database
        # failed. The next batch begins with them.
        self._carried: list[Incoming] = []
        # Carried, but beyond what the batch being applied may take: after it.
        self._tail: list[Incoming] = []
        # An ingest worker's batches grow only as fast as its deadline lets them apply; the
        # single process's run to max_batch.
        self.limit = BatchLimit(max_batch) if ownership is not None else None
        self._last_gap_check = self._last_lease = 0.0
        # A site stream taken, not yet asked: what the centre had applied when it took it.
        self._site_from: dict[str, int] = {}

    def close(self) -> None:
        store.close_quietly(self.conn)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.loop_alerts.record(self.conn, ("ingest", "outbox"))
                self._turn()
                for loop in ("ingest", "outbox"):  # the outbox's failures come through here
                    self.loop_alerts.clear_if_clean(self.conn, loop)
            except store.db_errors() as exc:
                # The database itself failed: what was taken waits (`_carried`), unacked,
                # and no heartbeat says all is well until it answers again.
                log.exception("ingest: the database failed; trying again")
                self.loop_alerts.failed("ingest", exc)
                self._stop.wait(DATABASE_RETRY_S)
                self.reconnect()
                continue
            except Exception as exc:  # noqa: BLE001 - a bug in one turn must not stop ingest
                log.exception("ingest turn failed; going on")
                self.loop_alerts.failed("ingest", exc)
                self._stop.wait(1.0)
            self.heartbeats.beat("ingest")

    def reconnect(self) -> None:
        """New connections for the ingest (a broken PostgreSQL connection stays broken, and
        a SQLite one may keep a failed state); on failure the next turn fails and comes
        here again."""
        conns = [self.conn, *([self.ownership.conn] if self.ownership else [])]
        for conn in conns:
            store.close_quietly(conn)
        try:
            self.conn = self.ingest.conn = store.connect(self.db_path)
            if self.central is not None:
                self.central.conn = self.conn
            if self.ownership is not None:
                self.ownership.conn = store.connect(self.db_path)
        except store.db_errors():
            log.warning("ingest: the database does not answer yet")

    def _turn(self) -> None:
        if self.ownership is not None:
            self._ownership_turn()
        if self.link.behind(self.conn, OUTBOX_MAX_BEHIND):
            self._stop.wait(0.01)  # the broker holds the rest meanwhile (no acks yet)
        else:
            batch = self._take_batch()
            if batch:
                self._apply(batch)
        self._outbox_done()
        now = time.monotonic()
        if now - self._last_gap_check >= 0.5:
            self._last_gap_check = now
            for station, epoch, from_seq in self.ingest.due_resyncs(now):
                self.link.resync(station, epoch, from_seq)
            if self.ingest.skip_decided():
                self.link.wake()
                self.changes.bump()
            for site, from_seq in self.central.due_resends(now) if self.central else ():
                self._ask_site(site, from_seq)

    def _ownership_turn(self) -> None:
        """An ingest worker: renew and rebalance its leases now and then; follow what it
        gained and lost with its subscriptions; ask each newly subscribed station to
        resend what is not applied (what the previous owner had not, in particular)."""
        if self.link.connected:
            self.heartbeats.beat("broker")
        now = time.monotonic()
        if now - self._last_lease >= self.ownership.period_s:
            self._last_lease = now
            # Cut off from the broker, a worker would hold stations whose events it cannot
            # receive: it lets them go to the others until it is back.
            change = self.ownership.tick(serving=self.link.connected)
            self.heartbeats.beat("leases")
            if change.lost:
                log.info("worker gives up %s", ", ".join(sorted(change.lost)))
                self.link.disown(change.lost)
                for stream in change.lost:
                    self._site_from.pop(stream_site(stream) or "", None)
            if change.gained:
                log.info("worker takes %s", ", ".join(sorted(change.gained)))
                self._note_site_cursors(change.gained)
                self.link.own(change.gained)
                self.link.say_online()
                for station in change.gained:
                    status = self.link.last_status(station)
                    if status is not None:
                        self.link.incoming.put(status)
            if change.retaken:
                # Still subscribed: asked at once, as a new owner asks once subscribed.
                log.info("worker takes back %s: its lease had run out", ", ".join(
                    sorted(change.retaken)))  # fmt: skip
                self._ask_resend(change.retaken)
        self._ask_resend(self.link.subscribed())

    def _note_site_cursors(self, streams: Iterable[str]) -> None:
        """Before subscribing to a site taken: what the centre has applied of it. Asked
        from there once subscribed, not from what the worker applies meanwhile, which
        may come after a message the previous owner fenced: the site says again what
        changed since that point, its orders' states and alerts too (hub.site_restate)."""
        for stream in streams:
            site = stream_site(stream)
            if site is not None:
                self._site_from[site] = store.site_link_get(self.conn, site).applied + 1

    def _ask_resend(self, streams: Iterable[str]) -> None:
        """Ask each stream's source to resend what is not applied (what a previous owner
        had not, or what the fence left while this worker's lease had run out): a station
        from its cursor, a site's hub from what the centre had applied when this worker
        took it (or has applied, when it takes it back still subscribed)."""
        for stream in streams:
            site = stream_site(stream)
            if site is not None:
                noted = self._site_from.pop(site, None)
                applied = store.site_link_get(self.conn, site).applied
                self._ask_site(site, applied + 1 if noted is None else noted)
                continue
            epoch = store.station_epoch(self.conn, stream)
            if epoch is not None:
                self.link.resync(stream, epoch, store.cursor_get(self.conn, stream, epoch) + 1)

    def _ask_site(self, site: str, from_seq: int) -> None:
        """A central hub asks a site's hub to republish its movements from `from_seq`."""
        log.info("asking site %s to resend its movements from %d", site, from_seq)
        self.link.publish_now(Topics(site).resend_movements,
                              encode(ResendMovements(from_=from_seq)))  # fmt: skip

    def _take_batch(self) -> list[Incoming]:
        """What the last batch left (first: each station's order), then everything
        waiting, up to max_batch (an ingest worker's: its `limit`): one transaction for many
        messages. What the last batch left beyond the limit waits in `_tail`."""
        limit = self.max_batch if self.limit is None else self.limit.size
        carried, self._carried = self._carried, []
        batch, self._tail = carried[:limit], carried[limit:]
        if not batch:
            try:
                batch = [self.link.incoming.get(timeout=0.2)]
            except queue.Empty:
                return []
        while len(batch) < limit:
            try:
                batch.append(self.link.incoming.get_nowait())
            except queue.Empty:
                break
        return batch

    def _apply(self, batch: list[Incoming]) -> None:
        """Each message of `batch` ends applied (or set aside) and acked, or, when the
        database fails (raised to the loop), carried to the next turn unacked."""
        self._carry(batch)
        deadline = self._batch_deadline()
        if self.central is not None:
            sites = [message for message in batch if self.central.owns(message.topic)]
            if sites:
                batch = [message for message in batch if not self.central.owns(message.topic)]
                taken = self._apply_sites(sites, batch, deadline)
                if taken < len(sites):
                    self._closed(taken, len(sites) + len(batch))
                    self.changes.bump()  # past the deadline: the rest first in the next turn
                    return
                self._carry(batch)
                if not batch:
                    self.changes.bump()
                    return
        try:
            # Trims the dead letters in its transaction.
            taken = self.ingest.process(batch, deadline).taken
        except store.item_errors():
            log.exception("a batch of %d failed: applying its messages one by one", len(batch))
            self._apply_alone_and_trim(batch, deadline)
            return
        except store.db_errors():
            raise
        except Exception:  # noqa: BLE001 - a bug for one message must not stop the hub
            log.exception("a batch of %d failed: applying its messages one by one", len(batch))
            self._apply_alone_and_trim(batch, deadline)
            return
        self._carry(batch[taken:])
        self._closed(taken, len(batch))
        for message in batch[:taken]:
            self.link.ack(message)
        self.link.wake()
        self.changes.bump()

    def _carry(self, messages: list[Incoming]) -> None:
        """What the next batch begins with: `messages`, then what this batch left untaken."""
        self._carried = messages + self._tail

    def _closed(self, taken: int, size: int) -> None:
        if self.limit is not None:
            self.limit.closed(taken, size)

    def _apply_sites(self, batch: list[Incoming], rest: list[Incoming],
                     deadline: float | None) -> int:  # fmt: skip
        """A central hub's messages of its sites, acked after each commit: how many were
        taken (what was not is carried, before `rest`). The single process takes them all
        in one transaction; an ingest worker SITE_CHUNK at a time until `deadline` (after
        at least one chunk), as its batches of station events: a site's lease, read when
        its first message comes, must meet a recent renewal, wherever that message sits
        in a backlog."""
        taken = 0
        while taken < len(batch):
            if taken and deadline is not None and time.monotonic() >= deadline:
                break
            chunk = batch[taken:] if deadline is None else batch[taken:taken + SITE_CHUNK]
            taken += len(chunk)
            self._apply_sites_chunk(chunk, batch[taken:] + rest)
            self._carry(batch[taken:] + rest)
        return taken

    def _apply_sites_chunk(self, batch: list[Incoming], after: list[Incoming]) -> None:
        """One transaction, else one by one (a message that still fails is set aside);
        acked after the commit. `after`: what follows the chunk, carried behind what is
        not committed if the database fails."""
        try:
            self.central.process(batch)
        except store.db_errors() as exc:
            if not isinstance(exc, store.item_errors()):
                raise
            log.exception("a batch of %d site messages failed: one by one", len(batch))
            self._apply_sites_alone(batch, after)
            return
        except Exception:  # noqa: BLE001 - a bug for one message must not stop the hub
            log.exception("a batch of %d site messages failed: one by one", len(batch))
            self._apply_sites_alone(batch, after)
            return
        for message in batch:
            self.link.ack(message)
        self.link.wake()

    def _apply_sites_alone(self, batch: list[Incoming], after: list[Incoming]) -> None:
        """Each message in its own transaction, acked and no longer carried once committed:
        the database failing at one leaves only it and what follows for the next turn (a
        message applied again would route its order again, or count its dead letter twice)."""
        for done, message in enumerate(batch, 1):
            try:
                self.central.process([message])
            except store.db_errors() as exc:
                if not isinstance(exc, store.item_errors()):
                    raise
                self.central.set_aside(message, exc)
            except Exception as exc:  # noqa: BLE001
                log.exception("setting aside a site message the centre could not handle")
                self.central.set_aside(message, exc)
            self._carry(batch[done:] + after)
            self.link.ack(message)
        self.link.wake()

    def _batch_deadline(self) -> float | None:
        """When an ingest worker's batch closes: after half a lease turn, and while its
        leases are surely its own. Its next turn then renews them before they can run out
        under a long batch (a station's lease checked after that would leave its events
        unapplied); and the other workers' turns, which wait for the writer lock this
        batch holds, renew theirs in time too. The single process holds no leases: its
        batches run to `max_batch`."""
        if self.ownership is None:
            return None
        return min(self.ownership.sure_until, time.monotonic() + self.ownership.period_s / 2)

    def _apply_alone_and_trim(self, batch: list[Incoming], deadline: float | None) -> None:
        """The batch's messages one per transaction, each acked after its own commit, until
        `deadline` (after at least one); the rest carried to the next turn."""
        dead = 0
        for taken, message in enumerate(batch):
            if taken and deadline is not None and time.monotonic() >= deadline:
                break
            dead += self._apply_alone(message)
            self._carry(batch[taken + 1 :])
            self.link.ack(message)
        self.link.wake()
        self.changes.bump()
        if dead:
            with store.transaction(self.conn):  # set_aside writes outside process()
                deadletters.trim(self.conn, self.dead_letters, utc_now())

    def _apply_alone(self, message: Incoming) -> int:
        """One message in its own transaction; one that still fails is set aside, so a
        poison message is neither lost nor redelivered for ever (it is acked after this).
        How many dead letters it made."""
        try:
            return self.ingest.process([message]).dead
        except store.item_errors() as exc:
            log.exception("setting aside a message the ledger refused")
            self.ingest.set_aside(message, exc)
            return 1
        except store.db_errors():
            raise
        except Exception as exc:  # noqa: BLE001
            log.exception("setting aside a message the ingest could not handle")
            self.ingest.set_aside(message, exc)
            return 1

    def _outbox_done(self) -> None:
        """Outbox rows the broker has: deleted here, so the hub has one writer (see link);
        rows it could not publish: set aside, with an alert."""
        done = self.link.take_published()
        if done:
            with store.transaction(self.conn, durable=False):
                store.outbox_delete(self.conn, done)
        for row_id, why in self.link.take_failed():
            if not row_id:
                self.loop_alerts.failed("outbox", RuntimeError(why))
                continue
            now = utc_now().isoformat()
            with store.transaction(self.conn):
                topic = store.outbox_set_aside(self.conn, row_id, why, now)
                if topic is not None:
                    alerts.raise_(self.conn, self.topics, now, "outbox_failed", "critical",
                                  f"a message on {topic!r} cannot be published ({why}): kept "
                                  "as a dead letter; the rest goes on",
                                  dedupe=f"outbox_failed:{topic}")  # fmt: skip
