"""What the hub has received and not applied yet: a queue with a bound its link reads by.

The broker does not bound it: Mosquitto 2.0.11 holds a client to its receive window only
until the client's PUBACKs start to flow, then sends whatever it has (docs/performance.md,
"What bounds each figure", 6). After an outage that is the whole backlog it queued for the
hub's session, up to `max_queued_messages` (a million). So the hub's link stops reading
the broker's stream while the inbox is full and goes on once the ingest has taken a
quarter of it (`HubLink`): the rest waits in the kernel's socket buffers and the broker.

Put by paho's network thread (and by the ingest, re-queuing a station's last status);
taken by the ingest alone.
"""

import queue
import threading

from hub.ingest_batch import Incoming

# A few batches of the ingest's (max_batch 1,000) and, at most, some megabytes of payloads.
MAX_MESSAGES = 5000
MAX_BYTES = 16 * 1024 * 1024


class Inbox:
    def __init__(self, max_messages: int = MAX_MESSAGES, max_bytes: int = MAX_BYTES) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._queue: queue.SimpleQueue[Incoming] = queue.SimpleQueue()
        self._lock = threading.Lock()  # the byte count: two threads may put
        self._bytes = 0

    def put(self, message: Incoming) -> None:
        with self._lock:
            self._bytes += len(message.payload)
        self._queue.put(message)

    def get(self, timeout: float) -> Incoming:
        """The oldest message, waiting up to `timeout` seconds; queue.Empty if none came."""
        return self._taken(self._queue.get(timeout=timeout))

    def get_nowait(self) -> Incoming:
        return self._taken(self._queue.get_nowait())

    def _taken(self, message: Incoming) -> Incoming:
        with self._lock:
            self._bytes -= len(message.payload)
        return message

    def __len__(self) -> int:
        return self._queue.qsize()

    @property
    def bytes(self) -> int:
        return self._bytes

    def full(self) -> bool:
        return len(self) >= self.max_messages or self._bytes >= self.max_bytes

    def has_room(self) -> bool:
        """Below three quarters of both bounds: reading may go on."""
        return len(self) * 4 < self.max_messages * 3 and self._bytes * 4 < self.max_bytes * 3
