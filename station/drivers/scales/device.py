"""A scale as a supervised station device: reads it, filters, emits `Weighed` inputs.

Besides "ready" / "missing" from the supervisor, a scale reports "offline" when the
port is there but no valid frame came for `offline_after` seconds (a scale switched off
behind its USB-serial adapter), and "fault: <what the scale says>" (overload, under
zero...) until its next good frame.
"""

import logging
import time
from decimal import Decimal

from station.drivers.scales.codecs import ScaleCodec, make_codec, serial_settings
from station.drivers.scales.link import Link, open_link
from station.drivers.scales.reading import Ack, Reading, Reply, ScaleError, ScaleFault
from station.drivers.scales.session import ScaleSession
from station.drivers.scales.stability import StabilityFilter
from station.drivers.supervisor import Supervised
from station.inputs import Emit

log = logging.getLogger(__name__)


class ScaleDevice(Supervised):
    def __init__(
        self,
        name: str,
        emit: Emit,
        protocol: str,
        port: str,
        *,
        baudrate: int = 9600,
        unit: str | None = None,
        poll_interval: float = 0.2,
        stable_readings: int = 3,
        min_grams: Decimal = Decimal(5),
        offline_after: float = 2.0,
    ) -> None:
        super().__init__(name, emit)
        self.protocol = protocol
        self.port = port
        self.baudrate = baudrate
        self.codec: ScaleCodec = make_codec(protocol, unit)
        self.poll_interval = poll_interval
        self.stable_readings = stable_readings
        self.min_grams = min_grams
        self.offline_after = offline_after
        self._session: ScaleSession | None = None
        self._garbage = 0

    def open(self) -> Link:
        return open_link(self.protocol, self.port, self.baudrate, serial_settings(self.codec))

    def run(self, link: Link) -> None:
        session = self._session = ScaleSession(link, self.codec, self.poll_interval)
        stability = StabilityFilter(self.name, self.stable_readings, self.min_grams)
        heard = time.monotonic()
        while not self.stopping:
            now = time.monotonic()
            for frame, result in session.exchange(now):
                if self._handle(frame, result, stability, now):
                    heard = now
            if now - heard > self.offline_after:
                self._report("offline")

    def close(self, link: Link) -> None:
        self._session = None
        link.close()

    def zero(self) -> None:
        self._command(self.codec.zero, "zero")

    def tare(self) -> None:
        self._command(self.codec.tare, "tare")

    def _command(self, data: bytes | None, what: str) -> None:
        if data is None:
            raise ValueError(f"the {self.protocol} protocol has no {what} command")
        session = self._session
        if session is None:
            raise RuntimeError(f"scale {self.name} is not connected")
        session.command(data)

    def _handle(
        self, frame: bytes, result: Reply | ScaleError, stability: StabilityFilter, now: float
    ) -> bool:
        """Act on one frame; True if the scale spoke sense (it is online)."""
        if isinstance(result, ScaleFault):
            stability.interrupt()
            self._report(f"fault: {result}")
            return True
        if isinstance(result, ScaleError):
            self._garbage += 1
            if self._garbage in (1, 10) or self._garbage % 1000 == 0:  # a noisy line: log a few
                log.warning("scale %s: %s (%d bad frames so far)", self.name, result, self._garbage)
            return False
        self._report("ready")
        if isinstance(result, Reading):
            for weighed in stability.feed(result, now):
                self.emit(weighed)
        elif isinstance(result, Ack):
            log.info("scale %s: %s done", self.name, result.command)
        elif result.motion:
            stability.interrupt()
        return True
