"""Builds a station from its config and runs it until SIGTERM or Ctrl-C.

Every configured part is built here and meets the core: scanners and scales put their
readings on the core's queue, feedback (buzzer, LEDs, button) and the print spool (through
the label router) take its verdicts and labels, the kiosk reads its snapshots, the uplink
carries the journal and the hub's messages. Each part's state is in the station's retained
status under `devices` (`ready`, `missing`, `offline`, `fault: why`). A mistake in the
config stops the start with one line; a configured part that cannot start (GPIO busy, the
kiosk's port taken) is shown as `fault: why` and the rest of the bench works on.
"""

import logging
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from protocol import sdnotify
from protocol.topics import Topics
from station import config as station_config
from station.cache import Cache
from station.config import ConfigError, StationConfig
from station.core import Core
from station.drivers.build import build_input_devices
from station.drivers.feedback import Feedback
from station.drivers.printers.build import build_feedback, build_print_spool
from station.drivers.printers.spool import PrintSpool
from station.drivers.supervisor import Supervised
from station.inputs import DeviceState
from station.label_router import LabelRouter
from station.ledger.journal import Journal, JournalError
from station.ledger.uplink import Uplink
from station.snapshot import SnapshotBoard
from station.ui.server import KioskServer
from station.workflows import bench

log = logging.getLogger(__name__)

# Names of the station's own parts in the status; no device may take them.
FEEDBACK, KIOSK = "feedback", "kiosk"


class Station:
    """All the parts of one running station."""

    def __init__(self, config: StationConfig, pin_factory: Any = None) -> None:
        """`pin_factory`: a gpiozero pin factory instead of `[feedback] pin_factory`."""
        self.config = config
        _check_names(config)
        data = Path(config.station.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        self.topics = Topics(config.station.site)
        retention = timedelta(days=config.journal.retention_days)
        self.journal = Journal(data / "journal.db", config.station.id, retention)
        self.cache = Cache(data / "cache.db", self.topics, config.station.id)
        self.board = SnapshotBoard()
        settings = bench.settings_from_config(config)
        self.core = Core(settings, self.journal, self.cache, self.topics, self.board)
        self.uplink = Uplink(
            config.mqtt,
            self.topics,
            config.station.id,
            self.journal.reader(),
            self.core.emit,
            lambda: self.core.status_fields,
        )
        self.core.uplink = self.uplink
        self.devices: list[Supervised] = build_input_devices(config, self.core.emit)
        self.spool: PrintSpool | None = None
        if config.printers:
            # Its own file: a print job's writes never wait on the journal's commits.
            self.spool = build_print_spool(config, data / "spool.db", self.core.emit)
            self.core.labels = LabelRouter(config.printers, self.spool)
        self.feedback = self._build_feedback(pin_factory)
        self.core.feedback = self.feedback
        self.kiosk = self._build_kiosk()
        self._stop = threading.Event()

    def _build_feedback(self, pin_factory: Any) -> Feedback | None:
        if self.config.feedback.pin_factory == "none" and pin_factory is None:
            return None
        try:
            feedback = build_feedback(self.config, self.core.emit, pin_factory)
        except ConfigError as exc:
            log.error("feedback cannot start: %s", exc)
            self._seed(FEEDBACK, f"fault: {exc}")
            return None
        self._seed(FEEDBACK, "ready")
        return feedback

    def _build_kiosk(self) -> KioskServer | None:
        kiosk = self.config.kiosk
        try:
            server = KioskServer(kiosk.host, kiosk.port, self.board, self.core.emit)
        except OSError as exc:
            why = f"cannot listen on {kiosk.host}:{kiosk.port}: {exc.strerror or exc}"
            log.error("kiosk: %s", why)
            self._seed(KIOSK, f"fault: {why}")
            return None
        self._seed(KIOSK, "ready")
        return server

    def _seed(self, name: str, state: str) -> None:
        """A part's first state, queued before any reader can report a newer one."""
        self.core.emit(DeviceState(name, state))

    def run(self) -> None:
        started = time.monotonic()
        # Until a device answers it is missing: a scale unplugged at start shows as such.
        for device in self.devices:
            self._seed(device.name, device.state)
        for printer in self.config.printers:
            self._seed(printer.name, "missing")
        for device in self.devices:
            device.start()
        if self.spool is not None:
            self.spool.start()
        if self.kiosk is not None:
            self.kiosk.start()
        self.uplink.start()
        sdnotify.notify("READY=1")
        log.info(
            "station %s ready in %.2fs (epoch %s, journal head %d)",
            self.config.station.id,
            time.monotonic() - started,
            self.journal.epoch,
            self.journal.head,
        )
        watchdog = _Watchdog()
        self.core.run(self._stop, on_tick=watchdog.tick)
        self._shutdown()

    def stop(self) -> None:
        self._stop.set()

    def _shutdown(self) -> None:
        sdnotify.notify("STOPPING=1")
        for device in self.devices:
            device.stop()
        if self.kiosk is not None:
            self.kiosk.stop()
        if self.spool is not None:
            self.spool.stop()
        if self.feedback is not None:
            self.feedback.close()
        self.uplink.stop()
        self.journal.close()
        self.cache.close()


def _check_names(config: StationConfig) -> None:
    """Every part has its own name in the status: a clash would hide one of them."""
    seen = {FEEDBACK: "[feedback]", KIOSK: "[kiosk]"}
    named = [("scanners", s.name) for s in config.scanners]
    named += [("scales", s.name) for s in config.scales]
    named += [("printers", p.name) for p in config.printers]
    for section, name in named:
        if name in seen:
            raise ConfigError(
                f"[[{section}]] name = {name!r}: already the name of {seen[name]}; "
                "every scanner, scale and printer needs its own name"
            )
        seen[name] = f"[[{section}]]"


class _Watchdog:
    """Feeds systemd's watchdog from the core loop, so a stuck core gets restarted."""

    def __init__(self) -> None:
        self.interval = sdnotify.watchdog_interval()
        self.last = 0.0

    def tick(self) -> None:
        if self.interval and time.monotonic() - self.last >= self.interval:
            sdnotify.notify("WATCHDOG=1")
            self.last = time.monotonic()


def run_from_config(path: str) -> int:
    try:
        config = station_config.load(path)
        station = Station(config)
    except (ConfigError, JournalError) as exc:
        log.error("%s", exc)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: station.stop())
    signal.signal(signal.SIGINT, lambda *_: station.stop())
    station.run()
    return 0
