"""The MQTT uplink: drains the journal to the broker and brings the hub's messages in.

Exactly-once is built at the ends, not by MQTT: the station keeps every event until the
hub's retained `applied` ack covers it, and sends again from `applied + 1` after every
(re)connect, when the hub asks (`cmd/resync`), and when `applied` stops moving while
events are outstanding. A PUBACK only means the broker has the message.

Threads: paho's network thread runs the callbacks, which only hand things over; one
publisher thread owns the send window (mid -> seq). `on_publish` runs while paho holds an
internal lock, so it only puts the mid on a queue: holding a lock of ours across
`publish()` while `on_publish` takes it would deadlock.
"""

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec
import paho.mqtt.client as mqtt

from protocol import mqtt_client
from protocol.envelope import encode, utc_now
from protocol.messages import Applied, Resync, StationStatus
from protocol.topics import Topics
from station.config import MqttSection
from station.inputs import Emit, HubMessage
from station.ledger.journal import JournalReader

log = logging.getLogger(__name__)

# The saved ack only spares a restarted station re-sending what the hub already has (the
# retained `applied` says the same a moment after connecting). Each save is a durable
# commit on the journal's file, and a journal append that meets it waits in SQLite's busy
# handler (sleeps of 1, 2, 5 ... 100 ms): so it is saved at most this often.
SAVE_APPLIED_EVERY_S = 1.0


class Uplink:
    def __init__(
        self,
        config: MqttSection,
        topics: Topics,
        station: str,
        reader: JournalReader,
        emit: Emit,
        status: Callable[[], dict[str, Any]],
    ) -> None:
        self.config = config
        self.topics = topics
        self.station = station
        self.reader = reader
        self.emit = emit
        self.status = status  # the core's current status fields (mode, devices, ...)
        self.epoch = reader.epoch
        self.applied = reader.applied()
        self.connected = False
        self._wake = threading.Event()
        # The core and paho's network thread both publish the status: building and sending
        # it under one lock keeps a stale status from overtaking a newer one to the broker.
        self._status_lock = threading.Lock()
        self._stop = threading.Event()
        self._control: queue.SimpleQueue[tuple[str, int]] = queue.SimpleQueue()
        self._window: mqtt_client.SendWindow[int] = mqtt_client.SendWindow()  # mid -> seq
        self._next = self.applied + 1
        self._applied_moved = time.monotonic()
        self._resend_wait = config.resend_after_s  # doubles after each stall resend
        self._applied_saved = 0.0
        self._conn = 0
        self.client = self._make_client()
        self._thread = threading.Thread(target=self._publisher, name="uplink", daemon=True)

    # --- lifecycle ----------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        config = self.config
        client = mqtt_client.make_client(
            self.station,
            credentials=(config.username, config.password) if config.username else None,
            tls_ca=config.tls_ca,
            reconnect_max_s=config.reconnect_max_s,
            max_inflight=config.max_inflight,
        )
        # paho's own queue is in memory and unbounded while offline; the journal is the
        # queue, so paho never holds more than one window.
        client.max_queued_messages_set(self.config.max_inflight * 2)
        client.on_pre_connect = self._on_pre_connect
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        return client

    def start(self) -> None:
        config = self.config
        mqtt_client.connect_in_background(self.client, config.host, config.port, config.keepalive)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        offline = encode(StationStatus(state="offline", conn=self._conn, ts=utc_now()))
        mqtt_client.stop_client(self.client, self.connected,
                                self.topics.station_status(self.station), offline)  # fmt: skip
        self._thread.join(5)
        if not self._thread.is_alive():
            self._save_applied()

    def notify(self) -> None:
        """New events are in the journal."""
        self._wake.set()

    @property
    def unacked(self) -> int:
        return max(0, self.reader.head() - self.applied)

    def publish_status(self) -> None:
        """Publish the retained status now (the core calls this when something changed)."""
        with self._status_lock:
            if self.connected:
                self.client.publish(
                    self.topics.station_status(self.station),
                    encode(self._status("online")),
                    qos=1,
                    retain=True,
                )

    def _status(self, state: str) -> StationStatus:
        fields = {k: v for k, v in self.status().items() if k in StationStatus.__struct_fields__}
        return StationStatus(
            state=state,
            conn=self._conn,
            ts=utc_now(),
            epoch=self.epoch,
            head=self.reader.head(),
            **fields,
        )

    # --- paho callbacks (network thread: hand over, never block) ------------------
    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        self._conn = self.reader.next_connection()
        client.will_set(
            self.topics.station_status(self.station),
            encode(StationStatus(state="offline", conn=self._conn)),
            qos=1,
            retain=True,
        )

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused the connection: %s", reason_code)
            return
        mqtt_client.no_delay(client)
        log.info("connected to %s:%s", self.config.host, self.config.port)
        client.subscribe([(topic, 1) for topic in self.topics.station_subscriptions(self.station)])
        self.connected = True
        self._control.put(("reconnected", 0))
        self._wake.set()
        self.publish_status()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected:
            log.warning("disconnected from broker: %s", reason_code)
        self.connected = False
        self._wake.set()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._window.acked(mid)
        self._wake.set()

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        topic = message.topic
        if topic == self.topics.applied(self.station):
            self._on_applied(message.payload)
        elif topic == self.topics.command(self.station, "resync"):
            self._on_resync(message.payload)
        self.emit(HubMessage(topic, message.payload, bool(message.retain)))

    def _on_applied(self, payload: bytes) -> None:
        try:
            applied = msgspec.json.decode(payload, type=Applied)
        # msgspec reports invalid UTF-8 in a key as UnicodeDecodeError, not DecodeError.
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            log.error("ignoring invalid applied ack: %s", exc)
            return
        # An ack of an older epoch (this station's previous journal) says nothing about ours.
        seq = applied.seq if applied.epoch == self.epoch else 0
        self._control.put(("applied", seq))
        self._wake.set()

    def _on_resync(self, payload: bytes) -> None:
        try:
            resync = msgspec.json.decode(payload, type=Resync)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            log.error("ignoring invalid resync command: %s", exc)
            return
        if resync.epoch is not None and resync.epoch != self.epoch:
            # Events of another journal (this station's previous one): not ours to resend.
            log.warning("ignoring a resync for epoch %s: this journal is %s", resync.epoch,
                        self.epoch)  # fmt: skip
            return
        self._control.put(("resync", resync.from_))
        self._wake.set()

    # --- the publisher thread -------------------------------------------------------
    def _publisher(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            try:
                self._publish_step()
            except Exception:  # noqa: BLE001 - the journal is still there: retry next turn
                log.exception("uplink step failed; retrying")
                self._stop.wait(1.0)

    def _publish_step(self) -> None:
        self._drain_control()
        self._window.drain()
        if not self.connected:
            self._window.clear()
            return
        self._resend_if_stalled()
        self._fill_window()

    def _drain_control(self) -> None:
        while True:
            try:
                what, seq = self._control.get_nowait()
            except queue.Empty:
                return
            if what == "applied":
                self._set_applied(seq)
            elif what == "resync":
                log.info("hub asked to resend from %d", seq)
                self._rewind(seq)
            elif what == "reconnected":
                self._window.clear()
                self._rewind(self.applied + 1)

    def _set_applied(self, seq: int) -> None:
        if seq != self.applied:
            self._applied_moved = time.monotonic()
        if seq < self.applied:
            # The hub went back (restored from a backup): it needs those events again.
            log.warning("hub's applied went back from %d to %d", self.applied, seq)
            self._rewind(seq + 1)
        self._next = max(self._next, seq + 1)
        if seq == self.applied:
            return
        self.applied = seq
        if time.monotonic() - self._applied_saved >= SAVE_APPLIED_EVERY_S:
            self._save_applied()

    def _save_applied(self) -> None:
        self._applied_saved = time.monotonic()
        try:
            self.reader.set_applied(self.applied)
        except sqlite3.Error as exc:
            # Only a hint for the next start (which would re-send a little more, and the hub
            # drops duplicates): a full or read-only card must not stop the sending.
            log.warning("cannot store the hub's ack %d: %s", self.applied, exc)

    def _rewind(self, seq: int) -> None:
        first = self.reader.first()
        if seq < first:
            # Only when the hub went back past what it had acknowledged (restored from a
            # backup older than the journal's retention): those events are gone here.
            log.error("the hub needs events from seq %d, the journal keeps them from %d on: "
                      "older ones were trimmed after the hub had applied them", seq, first)  # fmt: skip
        self._next = max(1, min(self._next, seq))

    def _resend_if_stalled(self) -> None:
        """Send again from applied + 1 when the ack has not moved for a while.

        A hub busy with a big backlog acknowledges late, not never: each resend there only
        doubles its work (and delays its acks further). So the wait doubles after each
        resend, up to 16 times the configured one, until the hub has caught up.
        """
        outstanding = self._next - 1 > self.applied
        if not outstanding:
            self._resend_wait = self.config.resend_after_s
            return
        quiet = time.monotonic() - self._applied_moved > self._resend_wait
        if quiet and not self._window:
            log.info("applied stuck at %d for %.0fs: resending", self.applied, self._resend_wait)
            self._rewind(self.applied + 1)
            self._applied_moved = time.monotonic()
            self._resend_wait = min(self._resend_wait * 2, self.config.resend_after_s * 16)

    def _fill_window(self) -> None:
        # Flow control by the hub's ack, not only the broker's PUBACKs: the broker acks at
        # once and would queue a whole backlog for the hub (memory it keeps), while the
        # station spent its CPU sending it all at once. The ack moving wakes us again.
        ahead = self.applied + self.config.max_ahead - (self._next - 1)
        room = min(self.config.max_inflight - len(self._window), ahead)
        if room <= 0:
            return
        topic = self.topics.events(self.station)
        for seq, payload in self.reader.read_from(self._next, room):
            info = self.client.publish(topic, payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return  # disconnected meanwhile: the reconnect rewinds
            self._window.sent(info.mid, seq)
            self._next = seq + 1
        self._window.drain()
