"""A private Mosquitto for tests: the real binary, a generated secured config, a free port."""

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from hub import brokerconf


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


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
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.layout.conf)], stdout=log, stderr=log
        )
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


def start_broker(dir: Path, users: dict[str, tuple[str, brokerconf.Role]]) -> Broker:
    """Start mosquitto with `users` ({name: (password, role)}) on a free loopback port."""
    layout = brokerconf.BrokerLayout(dir=dir, port=free_port())
    brokerconf.write_config(layout, run_as_root=os.geteuid() == 0)
    broker = Broker(layout)
    for name, (password, role) in users.items():
        broker.add_user(name, password, role)
    return broker.start()
