"""Frames a byte stream into codes: on a terminator, or on an idle gap.

Some scanners send no suffix unless programmed to, so a pause after the last byte ends
a frame too. Pure: feed bytes as they are read; call `flush_idle` when the line has been
seen quiet. Only the reader can tell silence from its own absence: bytes read late may
have arrived long ago (a reader thread not scheduled on a busy machine), so `feed` never
ends a frame on time, and the reader calls `flush_idle` only after a read found nothing.
"""

from dataclasses import dataclass, field

DEFAULT_TERMINATORS = (b"\r\n", b"\r", b"\n")


@dataclass
class LineFramer:
    terminators: tuple[bytes, ...] = DEFAULT_TERMINATORS
    idle_gap: float = 0.1  # seconds of silence that end an unterminated frame
    max_length: int = 4096  # longer than any barcode: a runaway stream is cut, not buffered
    _buffer: bytearray = field(default_factory=bytearray)
    _last: float = 0.0

    def feed(self, data: bytes, now: float) -> list[bytes]:
        frames: list[bytes] = []
        self._buffer += data
        self._last = now
        while True:
            cut = self._first_terminator()
            if cut is None:
                break
            end, length = cut
            frame = bytes(self._buffer[:end])
            del self._buffer[: end + length]
            if frame:
                frames.append(frame)
        if len(self._buffer) > self.max_length:
            frames.append(bytes(self._buffer))
            self._buffer.clear()
        return frames

    def flush_idle(self, now: float) -> list[bytes]:
        """The pending bytes as a frame, if the line has been quiet for `idle_gap` (the
        caller has just seen it quiet: a read that found nothing, nothing waiting)."""
        if self._buffer and now - self._last >= self.idle_gap:
            frame = bytes(self._buffer)
            self._buffer.clear()
            return [frame]
        return []

    def _first_terminator(self) -> tuple[int, int] | None:
        best: tuple[int, int] | None = None
        for term in self.terminators:
            at = self._buffer.find(term)
            if at < 0:
                continue
            # The earliest terminator wins; at the same place the longer one (CR LF, not CR).
            if best is None or (at, -len(term)) < (best[0], -best[1]):
                best = (at, len(term))
        return best
