"""Builds the hub from its config and runs ingest, outbox publisher and web together."""

import logging
import queue
import signal
import sqlite3
import threading
import time
from pathlib import Path

from hub import housekeeping, store
from hub.changes import ChangeFeed
from hub.config import ConfigError, HubConfig, load
from hub.ingest import Incoming, Ingest
from hub.link import HubLink
from hub.web import create_app
from hub.web.server import make_server, parked_poll_limit
from protocol import sdnotify
from protocol.envelope import utc_now
from protocol.topics import Topics

log = logging.getLogger(__name__)

HOUSEKEEPING_S = 60.0
# Ingest waits while more outbox rows than this are unpublished. Both share one
# interpreter, and the ingest, left alone, writes rows faster than they can be published:
# the queue then grows without end, and the stations' `applied` acks (retained, so always
# re-queued at its end) stop arriving until they resend everything. About 1 s of publishing.
OUTBOX_MAX_BEHIND = 1000


class Hub:
    def __init__(self, config: HubConfig) -> None:
        self.config = config
        data = Path(config.hub.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        self.db_path = str(data / "ledger.db")
        self.topics = Topics(config.hub.site)
        self.conn = store.connect(self.db_path)
        store.create_schema(self.conn)
        self.changes = ChangeFeed()
        self.ingest = Ingest(self.conn, self.topics, config.ingest.resync_after_s)
        self.link = HubLink(config.mqtt, self.topics, self.db_path)
        self.web_app = create_app(
            db_path=self.db_path,
            topics=self.topics,
            tokens=config.api.tokens,
            changes=self.changes,
            parked_polls=parked_poll_limit(config.web.threads),
            outbox_wake=self.link.wake,
            secret_key=config.web.secret_key,
        )
        self.web = make_server(self.web_app, config.web)
        self._stop = threading.Event()

    @property
    def web_port(self) -> int:
        return self.web.effective_port

    def run(self) -> None:
        self.link.start()
        web = threading.Thread(target=self.web.run, name="web", daemon=True)
        web.start()
        log.info("web at http://%s:%s/", self.config.web.host, self.web_port)
        sdnotify.notify("READY=1")
        try:
            self._ingest_loop()
        finally:
            sdnotify.notify("STOPPING=1")
            self.link.stop()
            self.web.close()
            self.conn.close()

    def stop(self) -> None:
        self._stop.set()

    def _ingest_loop(self) -> None:
        watchdog = sdnotify.watchdog_interval()
        last_fed = last_gap_check = last_housekeeping = 0.0
        while not self._stop.is_set():
            if self.link.behind(self.conn, OUTBOX_MAX_BEHIND):
                self._stop.wait(0.01)  # the broker holds the rest meanwhile (no acks yet)
            else:
                batch = self._take_batch()
                if batch:
                    self._apply(batch)
            self._delete_published()
            now = time.monotonic()
            if now - last_gap_check >= 0.5:
                for station, from_seq in self.ingest.due_resyncs(now):
                    self.link.resync(station, from_seq)
                last_gap_check = now
            if now - last_housekeeping >= HOUSEKEEPING_S:
                self._housekeeping()
                last_housekeeping = now
            if watchdog and now - last_fed >= watchdog:
                sdnotify.notify("WATCHDOG=1")
                last_fed = now

    def _housekeeping(self) -> None:
        """Expiry alerts, ABC classes and stored reports, cycle-count tasks: a failure here
        must not stop ingest."""
        try:
            housekeeping.tick(self.conn, self.topics, utc_now())
        except Exception:
            log.exception("housekeeping failed; trying again later")
        self.link.wake()

    def _take_batch(self) -> list[Incoming]:
        """Everything waiting, up to max_batch: one transaction for many messages."""
        try:
            first = self.link.incoming.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < self.config.ingest.max_batch:
            try:
                batch.append(self.link.incoming.get_nowait())
            except queue.Empty:
                break
        return batch

    def _apply(self, batch: list[Incoming]) -> None:
        try:
            self.ingest.process(batch)
        except sqlite3.Error:
            raise  # the database itself failed: stop; unacked messages come back on restart
        except Exception:  # noqa: BLE001 - a bug for one message must not stop the hub
            log.exception("a batch of %d failed: applying its messages one by one", len(batch))
            for message in batch:
                self._apply_alone(message)
        for message in batch:
            self.link.ack(message)
        self.link.wake()
        self.changes.bump()

    def _apply_alone(self, message: Incoming) -> None:
        """One message in its own transaction; one that still fails is dead-lettered, so a
        poison message is neither lost nor redelivered for ever (it is acked after this)."""
        try:
            self.ingest.process([message])
        except sqlite3.Error:
            raise
        except Exception as exc:  # noqa: BLE001
            log.exception("dead-lettering a message the ingest could not handle")
            with store.transaction(self.conn):
                store.dead_letter(self.conn, message.topic, message.payload,
                                  f"ingest failed: {exc!r}", utc_now().isoformat())  # fmt: skip

    def _delete_published(self) -> None:
        """Outbox rows the broker has: deleted here, so the hub has one writer (see link)."""
        done = self.link.take_published()
        if done:
            with store.transaction(self.conn):
                store.outbox_delete(self.conn, done)


def run_from_config(path: str) -> int:
    try:
        config = load(path)
        hub = Hub(config)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    except OSError as exc:
        log.error("cannot start: %s", exc)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: hub.stop())
    signal.signal(signal.SIGINT, lambda *_: hub.stop())
    hub.run()
    return 0
