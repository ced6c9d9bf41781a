"""The master side of a pseudo-terminal, playing a serial device.

The station opens `path`, a symlink to the slave that stands where
/dev/serial/by-id/... would, so `unplug()` (close the pty, remove the link) and
`replug()` (a new pty behind the same link) look to the station like the real thing.
"""

import contextlib
import os
import select
import shutil
import tempfile
import threading
import time
import tty
from pathlib import Path
from typing import Self


class PtyDevice:
    tick_interval: float | None = None  # devices that send on their own do it every tick

    def __init__(self, path: str | Path | None = None) -> None:
        self._tmp = None if path is not None else tempfile.mkdtemp(prefix="sim-tty-")
        self.path = Path(path) if path is not None else Path(self._tmp, "tty")
        self._master: int | None = None
        self._slave: int | None = None
        self._lock = threading.Lock()
        self._wake_read, self._wake_write = os.pipe()
        self._closed = threading.Event()
        with self._lock:
            self._plug()
        self._thread = threading.Thread(target=self._loop, name="sim-pty", daemon=True)
        self._thread.start()

    # --- to implement -------------------------------------------------------------
    def on_receive(self, data: bytes) -> None:
        """Bytes the station wrote."""

    def on_tick(self) -> None:
        """Called every `tick_interval` seconds while plugged in."""

    # --- the device's API -----------------------------------------------------------
    def write(self, data: bytes) -> None:
        with self._lock:
            if self._master is None:
                return
            # Nobody reading and the line full: the bytes are lost, as on a wire.
            with contextlib.suppress(OSError):
                os.write(self._master, data)

    def unplug(self) -> None:
        with self._lock:
            self.path.unlink(missing_ok=True)
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None
        os.write(self._wake_write, b"\0")

    def replug(self) -> None:
        with self._lock:
            if self._master is None:
                self._plug()
        os.write(self._wake_write, b"\0")

    def close(self) -> None:
        self._closed.set()
        os.write(self._wake_write, b"\0")
        self._thread.join(2)
        self.unplug()
        os.close(self._wake_read)
        os.close(self._wake_write)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- inside ---------------------------------------------------------------------
    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing: bytes pass as they are
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.path.unlink(missing_ok=True)
        self.path.symlink_to(os.ttyname(slave))

    def _loop(self) -> None:
        next_tick = time.monotonic()
        while not self._closed.is_set():
            master = self._master
            fds = [self._wake_read] + ([master] if master is not None else [])
            timeout = None
            if self.tick_interval is not None:
                timeout = max(0.0, next_tick - time.monotonic())
            try:
                ready, _, _ = select.select(fds, [], [], timeout)
            except OSError:
                # Unplugged between reading `_master` and the select: its fd is closed.
                if master is not None and self._master != master:
                    continue
                raise
            if self._wake_read in ready:
                os.read(self._wake_read, 64)
            if master is not None and master in ready:
                data = self._read(master)
                if data:
                    self.on_receive(data)
            if self.tick_interval is not None and time.monotonic() >= next_tick:
                next_tick = time.monotonic() + self.tick_interval
                if self._master is not None:
                    self.on_tick()

    def _read(self, master: int) -> bytes:
        with self._lock:
            if self._master != master:  # unplugged meanwhile: the fd may be reused
                return b""
            try:
                return os.read(master, 1024)
            except (BlockingIOError, OSError):
                return b""
