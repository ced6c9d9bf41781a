"""Builds the hub from its config and runs it in one of three roles (docs/scaling.md):
`all` (ingest, outbox publisher, housekeeping and web in one process: the default), `ingest`
(one of several workers that apply the stations they own, and at a central hub the sites'
streams they own, see hub.ownership) or `web` (pages and API only, any number of them on
one database)."""

import logging
import signal
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from hub import store
from hub.central import CentralIngest, site_topics
from hub.changes import ChangeFeed
from hub.config import ConfigError, HubConfig, load
from hub.health import Heartbeats
from hub.housekeeper import HOUSEKEEPING_S, Housekeeper
from hub.inbox import Inbox
from hub.ingest import Ingest
from hub.ingest_loop import IngestLoop
from hub.link import HubLink
from hub.loop_alerts import LoopAlerts
from hub.ownership import HOUSEKEEPING, OUTBOX, TICKS_PER_LEASE, Ownership, stream_site, worker_id
from hub.web import close_app, create_app, create_health_app
from hub.web.server import make_server, parked_poll_limit
from protocol import sdnotify
from protocol.topics import Topics

log = logging.getLogger(__name__)

# How often the watchdog thread asks the web server whether it answers.
WEB_PROBE_S = 1.0
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
        self._last_lease = 0.0  # a web process's last turn saying it is alive
        self.loop_alerts = LoopAlerts(self.topics, ("ingest", "outbox", "housekeeping"),
                                      config.health.stall_after_s,
                                      worker=self.name if self.ownership else "")  # fmt: skip
        self.housekeeper = Housekeeper(
            self.db_path, self.topics, self.zone, config,
            lambda: self.ownership is None or self.ownership.holds(HOUSEKEEPING),
            self.heartbeats, self.loop_alerts, self.link.wake, self._stop,
            several=self.ownership is not None,
        )  # fmt: skip
        self.loop = IngestLoop(
            db_path=self.db_path, conn=self.conn, link=self.link, ingest=self.ingest,
            central=self.central, ownership=self.ownership if role == "ingest" else None,
            topics=self.topics, changes=self.changes, heartbeats=self.heartbeats,
            loop_alerts=self.loop_alerts, max_batch=config.ingest.max_batch,
            dead_letters=config.dead_letters, stop=self._stop,
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
                self.loop.run()
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
            self.loop.close()  # its connection, if a database failure replaced this one
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
