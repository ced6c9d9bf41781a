"""Talks to one open scale: sends polls and commands, reads, splits and decodes frames.

Shared by the supervised scale device and the technician's probe. Every frame comes
back either decoded or as the `ScaleError` explaining why it could not be, so garbage
is reported and the reading goes on.
"""

import queue

from station.drivers.scales.codecs import ScaleCodec
from station.drivers.scales.link import Link
from station.drivers.scales.reading import Reply, ScaleError


class ScaleSession:
    def __init__(self, link: Link, codec: ScaleCodec, poll_interval: float = 0.2) -> None:
        self.link = link
        self.codec = codec
        self.poll_interval = poll_interval
        self._buffer = bytearray()
        self._next_poll = float("-inf")
        self._commands: queue.SimpleQueue[bytes] = queue.SimpleQueue()

    def command(self, data: bytes) -> None:
        """Queue a command (zero, tare) from any thread; sent before the next poll."""
        self._commands.put(data)

    def exchange(self, now: float) -> list[tuple[bytes, Reply | ScaleError]]:
        """Send what is due, read what is there: (frame, reply or error) for each frame."""
        self._send_due(now)
        self._buffer += self.link.read()
        results: list[tuple[bytes, Reply | ScaleError]] = []
        for frame in self.codec.split(self._buffer):
            try:
                results.append((frame, self.codec.decode(frame)))
            except ScaleError as exc:
                results.append((frame, exc))
        return results

    def _send_due(self, now: float) -> None:
        while not self._commands.empty():
            self.link.write(self._commands.get())
        if self.codec.poll is not None and now >= self._next_poll:
            self.link.write(self.codec.poll)
            self._next_poll = now + self.poll_interval
