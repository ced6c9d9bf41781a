"""A loopback TCP proxy between an MQTT client and the broker that misbehaves on demand.

- `cut()`: every open connection is reset and new ones are refused until `restore()`
  (a cable pulled, a switch rebooting);
- `stall()`: connections stay open but nothing is forwarded (a half-dead Wi-Fi link);
- `slow(seconds)`: each chunk is delayed (a congested link);
- `reset()`: every open connection gets an RST now, new ones are accepted (a NAT timeout
  or a router restart in the middle of a publish).
One thread per connection forwards both directions with a short select timeout, so a
fault takes effect within a tenth of a second even on an idle connection.
"""

import contextlib
import selectors
import socket
import struct
import threading
import time

_TICK = 0.05


def _rst_close(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class _Pair:
    def __init__(self, proxy: "FaultProxy", client: socket.socket, upstream: socket.socket):
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.doomed = False  # set by reset/cut: the pair's thread sends RST and ends
        self.thread = threading.Thread(target=self._run, name="proxy-pair", daemon=True)

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.client, selectors.EVENT_READ, self.upstream)
        selector.register(self.upstream, selectors.EVENT_READ, self.client)
        try:
            while not self.doomed:
                if self.proxy.mode == "stall":
                    time.sleep(_TICK)
                    continue
                for key, _ in selector.select(_TICK):
                    if not self._forward(key.fileobj, key.data):
                        return
        finally:
            selector.close()
            _rst_close(self.client)
            _rst_close(self.upstream)
            self.proxy._forget(self)

    def _forward(self, source: socket.socket, target: socket.socket) -> bool:
        try:
            data = source.recv(65536)
            if not data:
                return False
            delay = self.proxy.delay
            if delay:
                time.sleep(delay)
            if self.doomed:
                return False
            target.sendall(data)
            return True
        except OSError:
            return False


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.mode = "pass"  # pass | cut | stall
        self.delay = 0.0
        self.connections = 0  # accepted while passing, for tests that want to see reconnects
        self._pairs: set[_Pair] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_TICK)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="proxy", daemon=True)

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    # --- faults ---------------------------------------------------------------------
    def cut(self) -> None:
        self.mode = "cut"
        self.reset()

    def stall(self) -> None:
        self.mode = "stall"

    def slow(self, seconds: float) -> None:
        self.delay = seconds

    def reset(self) -> None:
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            pair.doomed = True
        for pair in pairs:
            pair.thread.join(2)

    def restore(self) -> None:
        self.mode = "pass"
        self.delay = 0.0

    def close(self) -> None:
        self._closed = True
        self.reset()
        self._thread.join(2)
        self._listener.close()

    # --- plumbing -------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.mode == "cut":
                _rst_close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                _rst_close(client)
                continue
            client.setblocking(True)
            upstream.settimeout(None)
            pair = _Pair(self, client, upstream)
            with self._lock:  # started under the lock: reset() only ever joins started pairs
                self._pairs.add(pair)
                self.connections += 1
                pair.thread.start()

    def _forget(self, pair: _Pair) -> None:
        with self._lock:
            self._pairs.discard(pair)
