"""The kiosk's web server: the Flask app under waitress, in a thread of the station process."""

import logging
import threading

from waitress import wasyncore
from waitress.server import create_server

from station.inputs import Emit
from station.snapshot import SnapshotBoard
from station.ui.web import LOOPBACK_NAMES, create_app

log = logging.getLogger(__name__)

# Each open page holds one thread for its event stream; a bench has one or two screens.
THREADS = 8


class KioskServer:
    def __init__(
        self, host: str, port: int, board: SnapshotBoard, emit: Emit, names: tuple[str, ...] = ()
    ) -> None:
        """`names`: more host names the page is opened by (besides the loopback's and
        `host` itself), e.g. the bench's name on the LAN when another screen shows it."""
        self._stopping = threading.Event()
        self._closing = threading.Lock()
        hosts = LOOPBACK_NAMES | {n.lower() for n in names}
        if host not in ("", "0.0.0.0", "::"):
            hosts |= {host.lower()}
        app = create_app(board, emit, self._stopping, frozenset(hosts))
        # waitress 3 sends every write at once (send_bytes=1), which an event stream needs.
        self._server = create_server(app, host=host, port=port, threads=THREADS, ident="kiosk")
        self._thread = threading.Thread(target=self._server.run, name="kiosk", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    @property
    def url(self) -> str:
        return f"http://{self._server.effective_host}:{self.port}/"

    def start(self) -> None:
        self._thread.start()
        log.info("kiosk on %s", self.url)

    def stop(self) -> None:
        """End the event streams, close every connection, and wait for the loop to end."""
        self._stopping.set()
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        if self._thread.ident is None:
            wasyncore.close_all(self._server._map)
            return
        # The sockets are closed in the loop's own thread, between two polls: closed from
        # here, one could be closed under the loop's select(), which then fails in the
        # kiosk thread with "Bad file descriptor". The lock keeps the loop (woken by another
        # pull) from closing the trigger before this pull has written to it.
        with self._closing:
            self._server.trigger.pull_trigger(self._close_all)
        self._thread.join(timeout=5)

    def _close_all(self) -> None:
        """In the loop's thread; the loop ends once its map is empty."""
        with self._closing:
            wasyncore.close_all(self._server._map)
