"""How both ends set up paho: one place, so a tuning made for the station's uplink reaches
the hub's link and the other way round.

What each end sends, and when, stays with it (`station.ledger.uplink`, `hub.link`); this
module knows neither. The traps it keeps in one place:
- MQTT 5 with paho's VERSION2 callbacks;
- Nagle's algorithm off on paho's socket, as the broker has it (`set_tcp_nodelay`);
- `on_publish` runs on paho's thread while paho holds an internal lock: it only hands the
  mid over (`SendWindow.acked`), the publisher thread matches it (`SendWindow.drain`);
- stopping publishes the retained "offline" first and waits for it a bounded time.
"""

import contextlib
import queue
import socket
from typing import Generic, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

T = TypeVar("T")

# How long a stopping client waits for the broker to take its last retained status.
GOODBYE_WAIT_S = 2.0


def make_client(
    client_id: str,
    *,
    credentials: tuple[str, str | None] | None,
    tls_ca: str | None,
    reconnect_max_s: float,
    max_inflight: int,
    manual_ack: bool = False,
) -> mqtt.Client:
    """An MQTT 5 client; callbacks, will and queue bounds are the caller's."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    if credentials is not None:
        client.username_pw_set(*credentials)
    if tls_ca:
        client.tls_set(ca_certs=tls_ca)
    client.reconnect_delay_set(0.5, reconnect_max_s)
    client.max_inflight_messages_set(max_inflight)
    return client


def connect_in_background(
    client: mqtt.Client,
    host: str,
    port: int,
    keepalive: int,
    *,
    session_expiry_s: int | None = None,
) -> None:
    """Connect and keep reconnecting on paho's network thread. With `session_expiry_s`
    the broker keeps the session (and queues for it) that long while the client is away;
    without, every connection starts clean."""
    properties = None
    if session_expiry_s is not None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = session_expiry_s
    client.connect_async(
        host,
        port,
        keepalive=keepalive,
        clean_start=session_expiry_s is None,
        properties=properties,
    )
    client.loop_start()


def no_delay(client: mqtt.Client) -> None:
    """Turn Nagle's algorithm off, as the broker does (`set_tcp_nodelay`): paho leaves it on,
    and a small PUBLISH or PUBACK then waits for the peer's delayed ACK (25-45 ms). Call it
    from `on_connect` (each connection has a new socket)."""
    sock = client.socket()
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def stop_client(client: mqtt.Client, connected: bool, status_topic: str, offline: bytes) -> None:
    """Publish the retained `offline` status (when connected), wait a bounded time for the
    broker to take it, then disconnect and stop paho's thread. The will is for deaths;
    a clean stop says so itself."""
    if connected:
        info = client.publish(status_topic, offline, qos=1, retain=True)
        with contextlib.suppress(RuntimeError, ValueError):  # paho's queue was full
            info.wait_for_publish(GOODBYE_WAIT_S)
    client.disconnect()
    client.loop_stop()


class SendWindow(Generic[T]):
    """What one publisher thread has sent and the broker has not PUBACKed yet: mid -> the
    caller's item (a journal seq, an outbox row id).

    `acked` is for `on_publish` (paho's thread, under paho's lock: it only queues the mid);
    everything else is for the one publisher thread that owns the window.
    """

    def __init__(self) -> None:
        self._acks: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._inflight: dict[int, T] = {}

    def acked(self, mid: int) -> None:
        self._acks.put(mid)

    def sent(self, mid: int, item: T) -> None:
        self._inflight[mid] = item

    def drain(self) -> list[T]:
        """The items PUBACKed since the last call, in the order the acks came."""
        done: list[T] = []
        while True:
            try:
                mid = self._acks.get_nowait()
            except queue.Empty:
                return done
            item = self._inflight.pop(mid, None)
            if item is not None:
                done.append(item)

    def clear(self) -> None:
        """Forget what is in flight (the connection is gone: it will be sent again)."""
        self._inflight.clear()

    def __len__(self) -> int:
        return len(self._inflight)
