"""Builds a station from its config and runs it until SIGTERM or Ctrl-C."""

import logging
import signal
import threading
import time
from pathlib import Path

from protocol import sdnotify
from protocol.topics import Topics
from station import config as station_config
from station.cache import Cache
from station.config import ConfigError, StationConfig
from station.core import Core
from station.ledger.journal import Journal, JournalError
from station.ledger.uplink import Uplink
from station.snapshot import SnapshotBoard
from station.workflows import bench

log = logging.getLogger(__name__)


def bench_settings(config: StationConfig) -> bench.BenchSettings:
    from_config = getattr(bench, "settings_from_config", None)
    if from_config is not None:
        return from_config(config)
    return bench.BenchSettings(
        station=config.station.id,
        mode=config.station.mode,
        dock_location=config.station.dock_location,
    )


class Station:
    """All the parts of one running station."""

    def __init__(self, config: StationConfig) -> None:
        self.config = config
        data = Path(config.station.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        self.topics = Topics(config.station.site)
        self.journal = Journal(data / "journal.db", config.station.id)
        self.cache = Cache(data / "cache.db", self.topics, config.station.id)
        self.board = SnapshotBoard()
        self.core = Core(bench_settings(config), self.journal, self.cache, self.topics, self.board)
        self.uplink = Uplink(
            config.mqtt,
            self.topics,
            config.station.id,
            self.journal.reader(),
            self.core.emit,
            lambda: self.core.status_fields,
        )
        self.core.uplink = self.uplink
        self.devices = self._build_devices()
        self.kiosk = self._build_kiosk()
        self._stop = threading.Event()

    def _build_devices(self) -> list:
        try:
            from station.drivers.build import build_input_devices
        except ImportError:  # drivers not built yet: serial scanners only
            return self._serial_scanners()
        return build_input_devices(self.config, self.core.emit)

    def _serial_scanners(self) -> list:
        from station.drivers.serial_scanner import SerialScanner

        devices = []
        for scanner in self.config.scanners:
            if scanner.kind != "serial" or not scanner.port:
                raise ConfigError(f"[scanners] {scanner.name}: only serial scanners with a port")
            devices.append(
                SerialScanner(
                    scanner.name,
                    self.core.emit,
                    scanner.port,
                    scanner.baudrate,
                    scanner.idle_gap_ms / 1000,
                )
            )
        return devices

    def _build_kiosk(self):
        try:
            from station.ui.server import KioskServer
        except ImportError:
            return None
        kiosk = self.config.kiosk
        return KioskServer(kiosk.host, kiosk.port, self.board, self.core.emit)

    def run(self) -> None:
        started = time.monotonic()
        for device in self.devices:
            device.start()
        if self.kiosk is not None:
            self.kiosk.start()
            log.info("kiosk at http://%s:%s/", self.config.kiosk.host, self.kiosk.port)
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
        self.uplink.stop()
        self.journal.close()
        self.cache.close()


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
