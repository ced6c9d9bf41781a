"""The hub's MQTT connection: takes station messages in, publishes the outbox out.

- In: a persistent session (`clean_start=False` with a session expiry), so a hub restart
  is absorbed by the broker's queue; `manual_ack`, so a message is acknowledged to the
  broker only after the transaction that applied it has committed. What is received
  waits in a bounded `Inbox`: while it is full paho's thread stops reading (`holding`),
  and since the outbox's PUBACKs come on the same stream, the ingest then applies what
  it holds without waiting for the outbox (the rows wait on disk, not in memory).
- Out: the outbox table, in order; a row is deleted only once the broker has PUBACKed it,
  so a crash re-sends rather than loses (subscribers dedupe on ledger_seq; retained
  topics simply carry the latest state). The publisher only reads: it hands PUBACKed
  row ids to the ingest thread (`take_published`), the hub's one writer, which deletes
  them. Two writers would meet on SQLite's write lock, whose busy handler sleeps in steps
  of up to 100 ms: that was the whole tail of the scan-to-ledger latency.
- A row paho refuses (a topic it finds invalid, say) is skipped and handed to the writer
  too (`take_failed`), which keeps it as a dead letter with the cause and raises an alert:
  one bad row must not stop every later ack, order and command, nor again after a restart.
- As one of several ingest workers (`per_station`, docs/scaling.md): no broker session
  (what a worker missed, the station's journal resends when asked), the events of the
  stations it owns only (`own`/`disown`), every station's status (to learn of new ones),
  sales orders through a shared subscription (any one worker takes each), and the outbox
  published only while `may_publish()` (the worker holding the outbox duty). A central
  hub's worker owns sites too: `stream_topics` names what to subscribe to for each owned
  stream (a station's events; everything the centre reads of a site).
- A site hub says "online" (retained hub/status) when it connects, and again each time
  its broker's bridge to the centre comes up (`centre/link` 1): what is published while
  the bridge is connecting never crosses (Mosquitto sends the local retained messages
  when a connection attempt starts, and what is published after it is connected), so
  a hub restarted during that window would otherwise stay offline at the centre.
"""

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable

import paho.mqtt.client as mqtt

from hub import store
from hub.config import MqttSection
from hub.inbox import Inbox
from hub.ingest_batch import Incoming
from hub.store.connection import Connection
from protocol import mqtt_client
from protocol.envelope import encode, utc_now
from protocol.messages import HubStatus, Resync
from protocol.topics import Topics

log = logging.getLogger(__name__)

OUTBOX_WINDOW = 100
SUBACKS_KEPT = 16


class HubLink:
    def __init__(
        self,
        config: MqttSection,
        topics: Topics,
        db_path: str,
        beat: Callable[[], None] = lambda: None,
        more_subscriptions: tuple[str, ...] = (),
        per_station: bool = False,
        may_publish: Callable[[], bool] = lambda: True,
        stream_topics: Callable[[str], list[str]] | None = None,
        inbox: Inbox | None = None,
    ) -> None:
        """`beat` is called after each turn of the publisher that reached the database (its
        heartbeat);
        `more_subscriptions`: a central hub's topics of its sites (the single process);
        `stream_topics`: a worker's topics of one owned stream (default: a station's
        events); `inbox`: where received messages wait (default: `Inbox()`'s bounds)."""
        self.config = config
        self._beat = beat
        self._more_subscriptions = more_subscriptions
        self._per_station = per_station
        self._may_publish = may_publish
        self._stream_topics = stream_topics or (lambda station: [topics.events(station)])
        self._owned: set[str] = set()  # streams (stations, sites) this worker subscribes to
        self._subscribing: dict[int, list[str]] = {}  # SUBSCRIBE mid -> its streams
        self._subacks: queue.SimpleQueue[tuple[int, bool]] = queue.SimpleQueue()
        self._acked: dict[int, bool] = {}  # SUBACKed mids not matched yet -> accepted
        self._main_mid: int | None = None  # the SUBSCRIBE of a connection's own topics
        self._last_status: dict[str, Incoming] = {}  # station -> its latest status message
        self.topics = topics
        self.incoming = Inbox() if inbox is None else inbox
        # Since when paho's thread waits for room in `incoming` (None: it reads).
        self._held_since: float | None = None
        self._connected = False  # paho's view: connected, and no disconnect seen since
        self._db_path = db_path
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._window: mqtt_client.SendWindow[int] = mqtt_client.SendWindow()  # mid -> outbox row id
        self._published: queue.SimpleQueue[int] = queue.SimpleQueue()  # outbox ids, PUBACKed
        self._failed: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()  # id, why
        self._sent_up_to = 0
        # Counts the broker sessions: a connection that found no session present starts a
        # new one, in which the packet ids of messages taken before it name other messages.
        self._session = 0
        # Held by `ack` from its check to its PUBACK's queueing, and by paho's thread to
        # count a new session: a PUBACK checked against the old session is then queued
        # before `_on_connect` subscribes, so before the broker can send the new session
        # any message under that id.
        self._session_lock = threading.Lock()
        self.client = self._make_client()
        self._publisher = threading.Thread(target=self._publish_loop, name="outbox", daemon=True)

    def _make_client(self) -> mqtt.Client:
        config = self.config
        credentials = None if config.password is None else (config.username, config.password)
        client = mqtt_client.make_client(
            config.username,
            credentials=credentials,
            tls_ca=config.tls_ca,
            reconnect_max_s=config.reconnect_max_s,
            max_inflight=OUTBOX_WINDOW,
            manual_ack=True,
        )
        client.will_set(self.topics.hub_status, encode(HubStatus(state="offline")), 1, True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        return client

    def start(self) -> None:
        config = self.config
        # A worker's stations move to another while it is away: a session kept for it would
        # only queue what the new owner has asked the stations for again.
        session = None if self._per_station else config.session_expiry_s
        mqtt_client.connect_in_background(self.client, config.host, config.port, config.keepalive,
                                          session_expiry_s=session)  # fmt: skip
        self._publisher.start()

    def stop(self, say_offline: bool = True) -> None:
        """`say_offline`: false while other ingest workers keep the hub online."""
        self._stop.set()
        self._wake.set()
        self._publisher.join(5)
        offline = encode(HubStatus(state="offline", ts=utc_now()))
        mqtt_client.stop_client(self.client, self._connected and say_offline,
                                self.topics.hub_status, offline)  # fmt: skip

    def ack(self, message: Incoming) -> None:
        """Tell the broker this message is safe (call only after the commit). Not if it
        came in an earlier broker session: the broker has forgotten it (its sender resends
        what `applied` does not cover), and its mid may now be another message's, which
        that ack would release before it is committed."""
        with self._session_lock:
            if message.qos > 0 and message.session == self._session:
                self.client.ack(message.mid, message.qos)

    def resync(self, station: str, epoch: str, from_seq: int) -> None:
        log.info("asking %s to resend epoch %s from %d", station, epoch, from_seq)
        payload = encode(Resync(from_=from_seq, epoch=epoch))
        self.client.publish(self.topics.command(station, "resync"), payload, qos=1)

    def publish_now(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain)

    def say_online(self) -> None:
        """hub/status online again: a worker that died left its will (offline) there."""
        self.publish_now(self.topics.hub_status, encode(HubStatus(state="online", ts=utc_now())),
                         retain=True)  # fmt: skip

    # --- a worker's stations (per_station) ------------------------------------------
    def own(self, stations: Iterable[str]) -> None:
        """Subscribe to these streams' topics; `subscribed` says when the broker has it."""
        new = sorted(set(stations) - self._owned)
        self._owned.update(new)
        if new and self._connected:
            self._subscribe_events(new)

    def disown(self, stations: Iterable[str]) -> None:
        gone = sorted(self._owned & set(stations))
        self._owned.difference_update(gone)
        if gone and self._connected:
            self.client.unsubscribe([t for station in gone for t in self._stream_topics(station)])

    def _subscribe_events(self, stations: list[str]) -> None:
        result, mid = self.client.subscribe(
            [(topic, 1) for station in stations for topic in self._stream_topics(station)]
        )
        if result == mqtt.MQTT_ERR_SUCCESS:
            self._subscribing[mid] = stations

    def subscribed(self) -> list[str]:
        """Stations whose event subscription the broker confirmed since the last call (and
        that this worker still owns): now is the time to ask them to resend."""
        while True:
            try:
                mid, ok = self._subacks.get_nowait()
            except queue.Empty:
                break
            self._acked[mid] = ok
        ready: list[str] = []
        for mid in list(self._acked):
            stations = self._subscribing.pop(mid, None)
            if stations is None:
                continue
            if self._acked.pop(mid):
                ready.extend(stations)
            else:
                log.error("broker refused the events of %s", ", ".join(stations))
        if ready:
            log.info("subscribed to the events of %s", ", ".join(ready))
        # A SUBACK may come before its mid is noted (a subscription made on paho's thread,
        # at a reconnect): kept for the next call. Those of the status and intake
        # subscriptions never match: only the latest few are kept.
        for mid in sorted(self._acked)[:-SUBACKS_KEPT]:
            del self._acked[mid]
        return [station for station in ready if station in self._owned]

    def last_status(self, station: str) -> Incoming | None:
        """The station's latest status seen (unacknowledged copy: applying it again is
        harmless), for a worker that has just taken the station over."""
        message = self._last_status.get(station)
        return None if message is None else Incoming(message.topic, message.payload, qos=0)

    def wake(self) -> None:
        """New outbox rows were committed."""
        self._wake.set()

    @property
    def holding(self) -> bool:
        """Paho's thread waits for room in `incoming` (`_hold`)."""
        return self._held_since is not None

    @property
    def connected(self) -> bool:
        """Connected, as far as anyone can tell: paho's thread held longer than the
        keepalive has sent no PINGREQ in that time, and the broker drops a client silent for
        one and a half keepalives, while paho notices only once the hold ends. So a link
        held that long says it is not (an ingest worker then gives its stations to the
        others, and /healthz names `broker`)."""
        held = self._held_since
        fresh = held is None or time.monotonic() - held < self.config.keepalive
        return self._connected and fresh

    def behind(self, conn: Connection, rows: int) -> bool:
        """More than `rows` outbox rows wait to be published (`conn`: the caller's own),
        and the caller may wait for them: not while the link holds its reading, when the
        outbox's PUBACKs wait unread behind what it holds (the rows wait on disk meanwhile).
        A worker that does not publish counts from the oldest row waiting."""
        if self.holding:
            return False
        if self._may_publish():
            return bool(store.outbox_read(conn, self._sent_up_to + rows, 1))
        first = store.outbox_first_id(conn)
        return bool(first) and bool(store.outbox_read(conn, first - 1 + rows, 1))

    def take_published(self) -> list[int]:
        """Outbox row ids the broker has PUBACKed since the last call: the writer deletes them."""
        done: list[int] = []
        while True:
            try:
                done.append(self._published.get_nowait())
            except queue.Empty:
                return done

    def take_failed(self) -> list[tuple[int, str]]:
        """(outbox row id, why) of rows that could not be published: the writer sets them
        aside."""
        failed: list[tuple[int, str]] = []
        while True:
            try:
                failed.append(self._failed.get_nowait())
            except queue.Empty:
                return failed

    # --- paho callbacks -----------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused the hub: %s", reason_code)
            return
        mqtt_client.no_delay(client)
        log.info("hub connected to %s:%s (session present: %s)", self.config.host,
                 self.config.port, flags.session_present)  # fmt: skip
        if not flags.session_present:
            with self._session_lock:
                self._session += 1
        if self._per_station:
            self._subscribing.clear()
            _result, self._main_mid = client.subscribe([
                (self.topics.all_station_status, 1),
                (f"$share/hub/{self.topics.order_intake}", 1),
                # From the central hub over the site's bridge: one worker answers a
                # resend; every worker keeps the bridge's state.
                (f"$share/hub/{self.topics.resend_movements}", 1),
                (f"$share/hub/{self.topics.centre_orders}", 1),
                (self.topics.centre_link, 1),
                (self.topics.transfer_order("+"), 1),
            ])  # fmt: skip
            if self._owned:
                self._subscribe_events(sorted(self._owned))
        else:
            _result, self._main_mid = client.subscribe([
                (self.topics.all_station_events, 1),
                (self.topics.all_station_status, 1),
                (self.topics.order_intake, 1),
                # From the central hub over the site's bridge, and the bridge's own state.
                (self.topics.resend_movements, 1),
                (self.topics.centre_orders, 1),
                (self.topics.centre_link, 1),
                (self.topics.transfer_order("+"), 1),
                *((topic, 1) for topic in self._more_subscriptions),
            ])  # fmt: skip
        self._announce(client)
        self._connected = True
        self._wake.set()

    def _announce(self, client: mqtt.Client) -> None:
        """hub/status online, retained (on paho's thread: its callbacks)."""
        client.publish(
            self.topics.hub_status, encode(HubStatus(state="online", ts=utc_now())), 1, True
        )

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = [str(code) for code in reason_codes if code.is_failure]
        self._subacks.put((mid, not refused))
        if mid != self._main_mid:
            # A worker's station events: said by `subscribed`, which knows their stations
            # (this SUBACK may come before the mid is noted: the subscription is made on
            # the ingest thread).
            return
        if refused:  # the broker's ACL: nothing from the stations will ever arrive
            log.error("broker refused the hub's subscriptions: %s", ", ".join(refused))
        else:
            log.info("hub subscribed to %s, order intake and the centre's topics",
                     "station status" if self._per_station else "station events, status")  # fmt: skip

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self._connected:
            log.warning("hub disconnected: %s", reason_code)
        self._connected = False
        self._wake.set()

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        # paho decodes the topic at each `.topic`; interned, the thousands of messages
        # `incoming` may hold share one string a topic.
        topic = sys.intern(message.topic)
        incoming = Incoming(topic, message.payload, message.mid, message.qos,
                            bool(message.retain), self._session)  # fmt: skip
        if topic == self.topics.centre_link and message.payload == b"1":
            # The bridge is connected now: what this hub said while it was connecting
            # may not have crossed (see the module's docstring); it says it again.
            self._announce(client)
        if self._per_station and topic.endswith("/status"):
            levels = self.topics.leaf(topic)
            if len(levels) == 3 and levels[0] == "station":
                self._last_status[levels[1]] = incoming
        self.incoming.put(incoming)
        if self.incoming.full():
            self._hold()

    def _hold(self) -> None:
        """Read nothing more of the broker's stream until the ingest has made room (paho's
        thread, in `on_message`): the broker and the kernel hold the rest meanwhile. An
        ingest stalled longer than the keepalive loses the connection here, and nothing
        else (`connected` says so from one keepalive on): the broker sends the
        unacknowledged again (a worker without a session asks its stations to resend)."""
        self._held_since = time.monotonic()
        try:
            while not self.incoming.has_room() and not self._stop.wait(0.005):
                pass
        finally:
            self._held_since = None

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._window.acked(mid)
        self._wake.set()

    # --- the outbox publisher -------------------------------------------------------
    def _publish_loop(self) -> None:
        conn = store.connect(self._db_path)
        failing = False  # the ledger failed the last turn(s)
        try:
            while not self._stop.is_set():
                self._wake.wait(0.5)
                self._wake.clear()
                try:
                    self._turn(conn)
                except store.db_errors() as exc:
                    # No heartbeat until a turn reads the outbox again: /healthz says the
                    # outbox stalled, and the ingest records the failure (hub.loop_alerts).
                    log.exception("outbox: the ledger failed; trying again")
                    if not failing:  # once a streak: the queue must not grow in an outage
                        self._failed.put((0, f"publisher cannot read the outbox: {exc!r}"))
                    failing = True
                    self._stop.wait(1.0)
                    conn = self._reconnect(conn)
                    continue
                except Exception as exc:  # noqa: BLE001 - a bug must not stop the publisher
                    log.exception("outbox publisher turn failed; going on")
                    self._failed.put((0, f"publisher turn failed: {exc!r}"))
                    self._stop.wait(1.0)
                failing = False
                self._beat()
        finally:
            conn.close()

    def _reconnect(self, conn: Connection) -> Connection:
        """A new connection for the publisher (a broken PostgreSQL connection stays broken);
        the old one while the database does not answer."""
        try:
            fresh = store.connect(self._db_path)
        except store.db_errors():
            return conn
        store.close_quietly(conn)
        return fresh

    def _turn(self, conn: Connection) -> None:
        self._drain_acks()
        if not self.connected or not self._may_publish():
            self._window.clear()
            self._sent_up_to = 0  # resend everything not yet acknowledged
            return
        self._fill(conn)

    def _drain_acks(self) -> None:
        for row in self._window.drain():
            self._published.put(row)

    def _fill(self, conn: Connection) -> None:
        room = OUTBOX_WINDOW - len(self._window)
        if room <= 0:
            return
        for row_id, topic, payload, retain in store.outbox_read(conn, self._sent_up_to, room):
            try:
                info = self.client.publish(topic, payload, qos=1, retain=retain)
            except (ValueError, TypeError) as exc:  # paho's verdict on this row alone
                log.error("outbox row %d on %r cannot be published: %s", row_id, topic, exc)
                self._failed.put((row_id, str(exc)))
                self._sent_up_to = row_id
                continue
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return
            self._window.sent(info.mid, row_id)
            self._sent_up_to = row_id
        self._drain_acks()
        if len(self._window) >= OUTBOX_WINDOW:
            return
        if store.outbox_read(conn, self._sent_up_to, 1):
            self._wake.set()  # more rows than one window: go on at once
