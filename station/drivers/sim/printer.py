"""A loopback TCP printer for the demo and the tests, and a tokenizer for what it received.

`PrinterTwin` listens on 127.0.0.1 on a free port, keeps every byte of every connection,
answers ESC/POS `DLE EOT n` and ZPL `~HS` status queries from its simulated state, and
can be switched off (connections refused), switched on again on the same port, or told
to drop the connection in the middle of the next job, as a printer losing power would.

`tokenize_escpos` turns the ESC/POS subset the station emits back into text lines,
barcodes and cuts, so tests can assert on what a label says.
"""

import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

ESC, GS, DLE = 0x1B, 0x1D, 0x10


@dataclass
class Connection:
    received: bytearray = field(default_factory=bytearray)  # everything, queries included
    printed: bytearray = field(default_factory=bytearray)  # what would reach the paper
    dropped: bool = False
    closed: bool = False
    _pending: bytes = b""  # the start of a status query split across reads


class PrinterTwin:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.online = True
        self.paper_out = False
        self.head_open = False
        self.answer_status = True  # False: stay silent, as Zebra firmware does on media out
        self.connections: list[Connection] = []
        self._drop_after: int | None = None
        self._want_on = True
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._applied = threading.Event()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._clients: dict[socket.socket, Connection] = {}
        self._selector = selectors.DefaultSelector()
        self._thread: threading.Thread | None = None

    # --- control ------------------------------------------------------------------
    def start(self) -> "PrinterTwin":
        self._listen()
        self._thread = threading.Thread(target=self._serve, name="printer-twin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._close_all()
        self._selector.close()

    def __enter__(self) -> "PrinterTwin":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def power_off(self) -> None:
        """Drop every connection and refuse new ones until `power_on()`."""
        self._set_power(False)

    def power_on(self) -> None:
        self._set_power(True)

    def drop_next_job(self, after_bytes: int) -> None:
        """Cut the first connection that sends more than `after_bytes` bytes to print."""
        with self._lock:
            self._drop_after = after_bytes

    def jobs(self) -> list[bytes]:
        """What each connection that printed anything sent to the paper, in order."""
        with self._lock:
            return [bytes(c.printed) for c in self.connections if c.printed]

    def wait_for_jobs(self, count: int, timeout: float = 10.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                jobs = [bytes(c.printed) for c in self.connections if c.printed]
                finished = [c for c in self.connections if c.printed and c.closed]
                if len(finished) >= count or time.monotonic() >= deadline:
                    return jobs
                self._changed.wait(deadline - time.monotonic())

    def _set_power(self, on: bool) -> None:
        self._applied.clear()
        self._want_on = on
        if not self._applied.wait(5):
            raise TimeoutError("the printer twin did not switch")

    # --- the server thread --------------------------------------------------------
    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(8)
        listener.setblocking(False)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ)

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._apply_power()
            for key, _ in self._selector.select(timeout=0.02):
                sock = key.fileobj
                if sock is self._listener:
                    self._accept()
                else:
                    self._read(sock)  # type: ignore[arg-type]

    def _apply_power(self) -> None:
        if self._applied.is_set():
            return
        if self._want_on and self._listener is None:
            self._listen()
        elif not self._want_on and self._listener is not None:
            self._close_all()
        self._applied.set()

    def _close_all(self) -> None:
        if self._listener is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None
        for sock in list(self._clients):
            self._disconnect(sock, abort=True)

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            sock, _ = self._listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        conn = Connection()
        with self._changed:
            self.connections.append(conn)
        self._clients[sock] = conn
        self._selector.register(sock, selectors.EVENT_READ)

    def _read(self, sock: socket.socket) -> None:
        conn = self._clients[sock]
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._disconnect(sock)
            return
        with self._changed:
            conn.received += data
            replies = self._take(conn, data)
            drop = self._drop_after is not None and len(conn.printed) > self._drop_after
            if drop:
                del conn.printed[self._drop_after :]
                conn.dropped = True
                self._drop_after = None
            self._changed.notify_all()
        if drop:
            self._disconnect(sock, abort=True)
            return
        if replies:
            try:
                sock.sendall(replies)
            except OSError:
                self._disconnect(sock)

    def _disconnect(self, sock: socket.socket, abort: bool = False) -> None:
        if abort:
            # SO_LINGER 0: close with a reset, the way a connection to a printer that
            # lost power ends for the sender.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._selector.unregister(sock)
        sock.close()
        conn = self._clients.pop(sock)
        with self._changed:
            conn.closed = True
            self._changed.notify_all()

    # --- the printer's view of the bytes -----------------------------------------
    def _take(self, conn: Connection, data: bytes) -> bytes:
        """Split `data` into printed bytes and status queries; return the replies."""
        buf = conn._pending + data
        conn._pending = b""
        replies = bytearray()
        i = 0
        while i < len(buf):
            rest = buf[i:]
            if len(rest) < 3 and (b"\x10\x04".startswith(rest) or b"~HS".startswith(rest)):
                conn._pending = bytes(rest)  # wait for the rest of a possible query
                break
            if rest[:2] == b"\x10\x04" and len(rest) >= 3 and rest[2] in (1, 2, 3, 4):
                replies += self._escpos_status(rest[2])
                i += 3
            elif rest[:3] == b"~HS":
                replies += self._zpl_host_status()
                i += 3
            else:
                conn.printed.append(rest[0])
                i += 1
        return bytes(replies) if self.answer_status else b""

    def _escpos_status(self, n: int) -> bytes:
        base = 0x12  # the fixed bits 0xx1xx10
        if n == 1:
            offline = not self.online or self.paper_out or self.head_open
            return bytes([base | (0x08 if offline else 0)])
        if n == 2:
            return bytes([base | (0x04 if self.head_open else 0) | (0x20 if self.paper_out else 0)])
        if n == 4:
            return bytes([base | (0x6C if self.paper_out else 0)])
        return bytes([base])

    def _zpl_host_status(self) -> bytes:
        paper, paused, head = (int(x) for x in (self.paper_out, not self.online, self.head_open))
        return (
            f"\x02030,{paper},{paused},1218,000,0,0,0,000,0,0,0\x03\r\n"
            f"\x02001,0,{head},0,0,2,6,0,00000000,1,000\x03\r\n"
            "\x021234,0\x03\r\n"
        ).encode("ascii")


# --- ESC/POS back to elements ----------------------------------------------------


@dataclass(frozen=True)
class TextLine:
    text: str
    bold: bool = False
    large: bool = False


@dataclass(frozen=True)
class BarcodeMark:
    symbology: str
    data: str


@dataclass(frozen=True)
class Cut:
    pass


Token = TextLine | BarcodeMark | Cut

CODE_PAGES = {0: "cp437", 2: "cp850", 16: "cp1252", 19: "cp858"}
# Commands with a fixed number of parameter bytes that change nothing we assert on.
_ESC_SKIP = {
    ord("@"): 0,
    ord("a"): 1,
    ord("d"): 1,
    ord("-"): 1,
    ord("M"): 1,
    ord("{"): 1,
    ord("2"): 0,
    ord("3"): 1,
    ord("G"): 1,
}
_GS_SKIP = {ord("h"): 1, ord("w"): 1, ord("f"): 1, ord("H"): 1, ord("B"): 1, ord("b"): 1}
_GS_K_TYPES = {4: "CODE39", 2: "EAN13", 67: "EAN13", 69: "CODE39", 73: "CODE128", 74: "GS1-128"}


@dataclass
class _Style:
    bold: bool = False
    large: bool = False
    codec: str = "cp437"


def tokenize_escpos(data: bytes) -> list[Token]:
    """The text lines, barcodes and cuts in `data`; raises ValueError on a command it
    does not know, so a test never silently skips bytes."""
    tokens: list[Token] = []
    style = _Style()
    line = bytearray()
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == 0x0A:
            if line:
                tokens.append(TextLine(line.decode(style.codec), style.bold, style.large))
                line.clear()
            i += 1
        elif byte == ESC:
            i = _esc(data, i, style)
        elif byte == GS:
            i = _gs(data, i, style, tokens)
        elif byte < 0x20:
            raise ValueError(f"unknown control byte {byte:#04x} at {i}")
        else:
            line.append(byte)
            i += 1
    if line:
        tokens.append(TextLine(line.decode(style.codec), style.bold, style.large))
    return tokens


def _esc(data: bytes, i: int, style: _Style) -> int:
    command, arg = data[i + 1], data[i + 2] if i + 2 < len(data) else 0
    if command == ord("E"):
        style.bold = bool(arg & 1)
    elif command == ord("!"):
        style.large = bool(arg & 0x30)
        style.bold = bool(arg & 0x08) or style.bold
    elif command == ord("t"):
        style.codec = CODE_PAGES.get(arg, "cp437")
    elif command in _ESC_SKIP:
        return i + 2 + _ESC_SKIP[command]
    else:
        raise ValueError(f"unknown ESC command {command:#04x} at {i}")
    return i + 3


def _gs(data: bytes, i: int, style: _Style, tokens: list[Token]) -> int:
    command = data[i + 1]
    if command == ord("V"):
        tokens.append(Cut())
        return i + (4 if data[i + 2] in (65, 66) else 3)
    if command == ord("!"):
        style.large = bool(data[i + 2])
        return i + 3
    if command == ord("k"):
        return _barcode(data, i, tokens)
    if command in _GS_SKIP:
        return i + 2 + _GS_SKIP[command]
    raise ValueError(f"unknown GS command {command:#04x} at {i}")


def _barcode(data: bytes, i: int, tokens: list[Token]) -> int:
    kind = data[i + 2]
    if kind <= 6:  # function A: NUL-terminated
        end = data.index(0, i + 3)
        payload, after = data[i + 3 : end], end + 1
    else:  # function B: a length byte
        length = data[i + 3]
        payload, after = data[i + 4 : i + 4 + length], i + 4 + length
    text = payload.decode("ascii")
    symbology = _GS_K_TYPES.get(kind, f"type {kind}")
    if symbology in ("CODE128", "GS1-128") and text[:1] == "{":
        text = text[2:].replace("{{", "{")
    tokens.append(BarcodeMark(symbology, text))
    return after
