"""Builds the hub from its config and runs it in one of three roles (docs/scaling.md):
`all` (ingest, outbox publisher, housekeeping and web in one process: the default), `ingest`
(one of several workers that apply the stations they own, and at a central hub the sites'
streams they own, see hub.ownership) or `web` (pages and API only, any number of them on
one database)."""

import logging
import queue
import signal
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from zoneinfo import ZoneInfo

from hub import alerts, deadletters, store
from hub.central import CentralIngest, site_topics
from hub.changes import ChangeFeed
from hub.config import ConfigError, HubConfig, load
from hub.health import Heartbeats
from hub.housekeeper import HOUSEKEEPING_S, Housekeeper
from hub.inbox import Inbox
from hub.ingest import Ingest
from hub.ingest_batch import Incoming
from hub.link import HubLink
from hub.loop_alerts import LoopAlerts
from hub.ownership import HOUSEKEEPING, OUTBOX, TICKS_PER_LEASE, Ownership, stream_site, worker_id
from hub.web import close_app, create_app, create_health_app
from hub.web.server import make_server, parked_poll_limit
from protocol import sdnotify
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
# How often the watchdog thread asks the web server whether it answers.
WEB_PROBE_S = 1.0
# An ingest worker of a central hub applies its sites' messages this many per transaction,
# so that it can stop at its batch deadline (see _apply_sites).
SITE_CHUNK = 100
# A web process learns that other processes changed the ledger (for the live pages' long
# polls) by the outbox's newest id, this often.
CHANGES_POLL_S = 0.5
# On PostgreSQL a process that has not said it is alive for this many lease periods is
# stuck, and its writing transaction may be ended (hub.liveness): by then its leases have
# run out, and a live process has missed a dozen renewals in a row.
ALIVE_LEASES = 2


class Hub:
    def __init__(self, config: HubConfig, role: str = "all") -> None:
        self.config = config
        self.role = role
        data = Path(config.hub.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        # The process's name on the database: its worker id, and its PostgreSQL sessions'.
        self.name = worker_id(role)
        self.db_path = store.for_process(config.database.target(data), self.name)
        self.topics = Topics(config.hub.site)
        self.conn = store.connect(self.db_path)
        store.create_schema(self.conn)
        self.changes = ChangeFeed()
        self.heartbeats = Heartbeats(_loops(config, role))
        # The single process owns every station: no leases, no cost (hub.ownership).
        self.ownership = None
        central = config.hub.mode == "central"
        sites = tuple(s.id for s in config.sites) if central else ()
        if role != "all":
            self.ownership = Ownership(self._ownership_conn(), role, config.ingest.lease_s,
                                       sites=sites if role == "ingest" else (),
                                       id=self.name)  # fmt: skip
        # On PostgreSQL: what keeps this process's transactions from being ended as stuck
        # while it runs, and lets the others end one when it is frozen inside it.
        self.liveness = None
        if store.is_postgres_url(self.db_path):
            from hub.liveness import Liveness  # psycopg: only a hub on PostgreSQL loads it

            self.liveness = Liveness(str(self.db_path), self.name,
                                     ALIVE_LEASES * config.ingest.lease_s)  # fmt: skip
        self.zone = ZoneInfo(config.web.timezone)  # the site's: whose days "today" counts
        self.ingest = Ingest(self.conn, self.topics, config.ingest.resync_after_s, self.zone,
                             fence=self.ownership if role == "ingest" else None,
                             dead_letters=config.dead_letters)  # fmt: skip
        self.central = None
        if central and role != "web":  # a web process reads what the ingest applied
            self.central = CentralIngest(self.conn, self.topics, list(sites),
                                         config.ingest.resync_after_s,
                                         fence=self.ownership if role == "ingest" else None)  # fmt: skip
        self.link = HubLink(
            config.mqtt, self.topics, self.db_path, beat=lambda: self.heartbeats.beat("outbox"),
            per_station=role == "ingest", may_publish=self._may_publish,
            more_subscriptions=tuple(self.central.subscriptions()
                                     if self.central and role == "all" else ()),
            stream_topics=_stream_topics(self.topics),
            inbox=Inbox(max_messages=config.ingest.inbox_messages),
        )  # fmt: skip
        self.web_app = self._web_app()
        self.web = make_server(self.web_app, config.web)
        self._stop = threading.Event()
        # Taken, not yet applied: the end of a batch closed early, or a batch the database
        # failed. The next batch begins with them.
        self._carried: list[Incoming] = []
        self._last_gap_check = self._last_lease = 0.0
        # A site stream taken, not yet asked: what the centre had applied when it took it.
        self._site_from: dict[str, int] = {}
        self.loop_alerts = LoopAlerts(self.topics, ("ingest", "outbox", "housekeeping"),
                                      config.health.stall_after_s,
                                      worker=self.name if self.ownership else "")  # fmt: skip
        self.housekeeper = Housekeeper(
            self.db_path, self.topics, self.zone, config,
            lambda: self.ownership is None or self.ownership.holds(HOUSEKEEPING),
            self.heartbeats, self.loop_alerts, self.link.wake, self._stop,
            several=self.ownership is not None,
        )  # fmt: skip

    def _ownership_conn(self) -> store.Connection:
        """The connection of this process's worker row and leases. A web process's does
        nothing but renew its row: a statement that cannot within a turn gives up, and the
        next turn tries again, rather than the row waiting behind other writers."""
        conn = store.connect(self.db_path)
        if self.role == "web":
            store.give_up_after(conn, self.config.ingest.lease_s / TICKS_PER_LEASE)
        return conn

    def _may_publish(self) -> bool:
        return self.ownership is None or self.ownership.holds(OUTBOX)

    def _web_app(self):
        config = self.config
        if self.role == "ingest":  # its own health only: the pages are the web role's
            return create_health_app(self.db_path, self.heartbeats, config.ingest.lease_s)
        return create_app(
            db_path=self.db_path,
            topics=self.topics,
            tokens=config.api.tokens,
            changes=self.changes,
            parked_polls=parked_poll_limit(config.web.threads),
            outbox_wake=self.link.wake,
            secret_key=config.web.secret_key,
            heartbeats=self.heartbeats,
            timezone=config.web.timezone,
            currency=config.web.currency,
            sites=[s.id for s in config.sites],
            workers_stale_s=config.ingest.lease_s,
            data_dir=Path(config.hub.data_dir),
            db_connections=config.web.threads,
        )

    @property
    def web_port(self) -> int:
        return self.web.effective_port

    def run(self) -> None:
        if self.liveness is not None:
            self.liveness.start()
        if self.role != "web":
            self.link.start()
        web = threading.Thread(target=self.web.run, name="web", daemon=True)
        web.start()
        log.info("%s: web at http://%s:%s/", self.role, self.config.web.host, self.web_port)
        threading.Thread(target=self._watch, name="watchdog", daemon=True).start()
        sdnotify.notify("READY=1")
        try:
            if self.role == "web":
                self._web_loop()
            else:
                if self.ownership is not None:
                    self.ownership.start()
                self.housekeeper.start()
                self._ingest_loop()
        finally:
            sdnotify.notify("STOPPING=1")
            self._stop.set()
            others = self._leave()
            if self.role != "web":
                self.housekeeper.join(timeout=5.0)
                self.link.stop(say_offline=not others)
            self.web.close()
            close_app(self.web_app)
            self.conn.close()
            if self.liveness is not None:
                self.liveness.stop()

    def stop(self) -> None:
        self._stop.set()

    def _leave(self) -> bool:
        """Give this process's leases back; whether other ingest workers go on (then the
        hub is not offline)."""
        if self.ownership is None:
            return False
        try:
            return self.ownership.stop()
        except store.db_errors():
            log.exception("cannot give the leases back: they expire by themselves")
            return False

    # --- the watchdog ---------------------------------------------------------------
    def _watch(self) -> None:
        """Probe the web server as a client would, and feed systemd's watchdog only while
        every loop is alive: a stalled loop then gets the hub restarted."""
        watchdog = sdnotify.watchdog_interval()
        period = min(WEB_PROBE_S, watchdog or WEB_PROBE_S)
        while not self._stop.wait(period):
            if self._web_answers():
                self.heartbeats.beat("web")
            if watchdog and self.heartbeats.all_alive():
                sdnotify.notify("WATCHDOG=1")

    def _web_answers(self) -> bool:
        host = self.config.web.host
        host = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
        try:
            with urllib.request.urlopen(f"http://{host}:{self.web_port}/livez",
                                        timeout=WEB_PROBE_S * 5) as reply:  # fmt: skip
                return reply.status == 200
        except (OSError, ValueError):
            return False

    # --- a web process --------------------------------------------------------------
    def _web_loop(self) -> None:
        """Say this process is alive, and wake the live pages when another process
        changed the ledger (a new outbox row: every applied batch writes one). A database
        that goes away (a PostgreSQL restart) does not stop a web process: its pages fail
        meanwhile, /healthz says 503 (`leases`), and it connects again once it answers."""
        last_id = None
        while not self._stop.wait(CHANGES_POLL_S):
            try:
                newest = store.outbox_last_id(self.conn)
                if newest != last_id:
                    last_id = newest
                    self.changes.bump()
                if time.monotonic() - self._last_lease >= self.ownership.period_s:
                    self._last_lease = time.monotonic()
                    self.ownership.beat()
                    self.heartbeats.beat("leases")
            except store.db_errors():
                log.exception("web: the database does not answer; connecting again")
                self._reconnect()

    def _reconnect(self) -> None:
        """New connections for the web loop and its worker row (a broken PostgreSQL
        connection stays broken); on failure the next turn tries again."""
        for conn in (self.conn, self.ownership.conn):
            store.close_quietly(conn)
        try:
            self.conn = store.connect(self.db_path)
            self.ownership.conn = self._ownership_conn()
        except store.db_errors():
            log.warning("web: the database does not answer yet")

    # --- the ingest thread: the hub's one writer ------------------------------------
    def _ingest_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.loop_alerts.record(self.conn, ("ingest", "outbox"))
                self._ingest_turn()
                for loop in ("ingest", "outbox"):  # the outbox's failures come through here
                    self.loop_alerts.clear_if_clean(self.conn, loop)
            except store.db_errors() as exc:
                # The database itself failed: what was taken waits (`_carried`), unacked,
                # and no heartbeat says all is well until it answers again.
                log.exception("ingest: the database failed; trying again")
                self.loop_alerts.failed("ingest", exc)
                self._stop.wait(DATABASE_RETRY_S)
                self._reconnect_ingest()
                continue
            except Exception as exc:  # noqa: BLE001 - a bug in one turn must not stop ingest
                log.exception("ingest turn failed; going on")
                self.loop_alerts.failed("ingest", exc)
                self._stop.wait(1.0)
            self.heartbeats.beat("ingest")

    def _reconnect_ingest(self) -> None:
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

    def _ingest_turn(self) -> None:
        if self.ownership is not None:
            self._ownership_turn()
        # While the link holds its reading, the outbox's PUBACKs wait unread behind what
        # it holds: the ingest goes on, and the rows wait in the outbox.
        if not self.link.holding and self.link.behind(self.conn, OUTBOX_MAX_BEHIND):
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
        waiting, up to max_batch: one transaction for many messages."""
        batch, self._carried = self._carried, []
        if not batch:
            try:
                batch = [self.link.incoming.get(timeout=0.2)]
            except queue.Empty:
                return []
        while len(batch) < self.config.ingest.max_batch:
            try:
                batch.append(self.link.incoming.get_nowait())
            except queue.Empty:
                break
        return batch

    def _apply(self, batch: list[Incoming]) -> None:
        """Each message of `batch` ends applied (or set aside) and acked, or, when the
        database fails (raised to the loop), carried to the next turn unacked."""
        self._carried = batch
        deadline = self._batch_deadline()
        if self.central is not None:
            sites = [message for message in batch if self.central.owns(message.topic)]
            if sites:
                batch = [message for message in batch if not self.central.owns(message.topic)]
                if self._apply_sites(sites, batch, deadline) < len(sites):
                    self.changes.bump()  # past the deadline: the rest first in the next turn
                    return
                self._carried = batch
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
        self._carried = batch[taken:]
        for message in batch[:taken]:
            self.link.ack(message)
        self.link.wake()
        self.changes.bump()

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
            self._carried = batch[taken:] + rest
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
            self._carried = batch[done:] + after
            self.link.ack(message)
        self.link.wake()

    def _batch_deadline(self) -> float | None:
        """When an ingest worker's batch closes: after half a lease turn, and while its
        leases are surely its own. Its next turn then renews them before they can run out
        under a long batch (a station's lease checked after that would leave its events
        unapplied); and the other workers' turns, which wait for the writer lock this
        batch holds, renew theirs in time too. The single process holds no leases: its
        batches run to `max_batch`."""
        if self.role != "ingest":
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
            self._carried = batch[taken + 1 :]
            self.link.ack(message)
        self.link.wake()
        self.changes.bump()
        if dead:
            with store.transaction(self.conn):  # set_aside writes outside process()
                deadletters.trim(self.conn, self.config.dead_letters, utc_now())

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


def _stream_topics(topics: Topics) -> Callable[[str], list[str]]:
    """What an ingest worker subscribes to for a stream it owns: a station's events, or
    (at a central hub) everything the centre reads of a site."""

    def of(stream: str) -> list[str]:
        site = stream_site(stream)
        return [topics.events(stream)] if site is None else site_topics(site)

    return of


def _loops(config: HubConfig, role: str) -> dict[str, float]:
    """What /healthz and the watchdog watch in each role: its loops, and for a worker its
    leases' heartbeat (and an ingest worker's broker connection), each within its limit."""
    stall = config.health.stall_after_s
    if role == "web":
        return {"web": stall, "leases": config.ingest.lease_s}
    loops = {"ingest": stall, "outbox": stall, "web": stall,
             "housekeeping": stall + HOUSEKEEPING_S}  # fmt: skip
    if role == "ingest":
        loops |= {"leases": config.ingest.lease_s, "broker": config.ingest.lease_s}
    return loops


def run_from_config(path: str, role: str = "all") -> int:
    try:
        config = load(path)
        hub = Hub(config, role)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    except (OSError, *store.db_errors()) as exc:
        log.error("cannot start: %s", exc)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: hub.stop())
    signal.signal(signal.SIGINT, lambda *_: hub.stop())
    hub.run()
    return 0
