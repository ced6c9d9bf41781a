"""A private Mosquitto for tests: the real binary, a generated secured config, a free port."""

import os
import queue
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from hub import brokerconf
from kit import children
from kit.ports import free_port, wait_for_port


@dataclass
class Broker:
    layout: brokerconf.BrokerLayout
    process: subprocess.Popen | None = None
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.layout.port

    def start(self) -> "Broker":
        log = open(self.layout.dir / "mosquitto.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = children.start(["mosquitto", "-c", str(self.layout.conf)], stdout=log,
                                      stderr=log)  # fmt: skip
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def reload(self) -> None:
        """Re-read the password and ACL files (what provisioning does)."""
        if self.process:
            os.kill(self.process.pid, signal.SIGHUP)

    def add_user(self, name: str, password: str, role: brokerconf.Role) -> None:
        brokerconf.add_user(self.layout, name, password, role)
        self.passwords[name] = password

    def __enter__(self) -> "Broker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_broker(
    dir: Path, users: dict[str, tuple[str, brokerconf.Role]], site: str = "test"
) -> Broker:
    """Start mosquitto for `site` with `users` ({name: (password, role)}) on a free port."""
    layout = brokerconf.BrokerLayout(dir=dir, port=free_port(), site=site)
    brokerconf.write_config(layout, run_as_root=os.geteuid() == 0)
    broker = Broker(layout)
    for name, (password, role) in users.items():
        broker.add_user(name, password, role)
    return broker.start()


@dataclass
class Probe:
    """A paho 2.x client for ACL tests: connects as one user, records what it receives."""

    client: object
    connect_reason: object
    messages: "queue.SimpleQueue[tuple[str, bytes]]"

    @property
    def connected(self) -> bool:
        return not self.connect_reason.is_failure

    def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> None:
        """Publish and wait for the broker's PUBACK (a denied publish is acked too)."""
        self.client.publish(topic, payload, qos=qos).wait_for_publish(10)

    def publish_reason(self, topic: str, payload: bytes = b"probe") -> int:
        """Publish at QoS 1 and return the PUBACK's reason code (135: not authorized)."""
        acked: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.client.on_publish = lambda _c, _u, _mid, reason, _props: acked.put(reason.value)
        self.client.publish(topic, payload, qos=1)
        try:
            return acked.get(timeout=10)
        finally:
            self.client.on_publish = None

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *args: done.set()
        self.client.subscribe(topic, qos=1)
        if not done.wait(10):
            raise TimeoutError(f"no SUBACK for {topic}")

    def next_message(self, timeout: float = 10.0) -> tuple[str, bytes]:
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect(
    port: int, username: str | None, password: str | None, *, tls_ca: Path | None = None
) -> Probe:
    """Connect to 127.0.0.1:`port` (or localhost with TLS) and wait for the CONNACK."""
    from paho.mqtt import client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=username or "",
                         protocol=mqtt.MQTTv5)  # fmt: skip
    if username is not None:
        client.username_pw_set(username, password)
    if tls_ca is not None:
        client.tls_set(ca_certs=str(tls_ca))
    messages: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
    answered = threading.Event()
    reason: list[object] = []

    def on_connect(_c, _u, _flags, reason_code, _props):
        reason.append(reason_code)
        answered.set()

    client.on_connect = on_connect
    client.on_message = lambda _c, _u, msg: messages.put((msg.topic, msg.payload))
    client.connect("localhost" if tls_ca else "127.0.0.1", port, keepalive=30)
    client.loop_start()
    if not answered.wait(10):
        client.loop_stop()
        raise TimeoutError("no CONNACK")
    if reason[0].is_failure:
        client.loop_stop()
    return Probe(client, reason[0], messages)
