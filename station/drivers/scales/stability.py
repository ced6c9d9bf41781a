"""Which weight readings become `Weighed` inputs: one capture per placement, plus a live feed.

Pure: feed readings with the time they arrived. A capture (`stable=True`) needs the
scale's own motion flag clear for `stable_readings` readings in a row that agree within
`tolerance_grams` (a certified indicator's motion detection is the legally relevant one;
the count guards against a single still frame during a bounce), and at least
`min_grams`. After a capture the filter is disarmed until the weight returns near zero
(below `min_grams`), so a parcel left on the scale is captured once. Everything else is
passed on as `stable=False` for the kiosk display, at most once per `live_interval`.
"""

from dataclasses import dataclass
from decimal import Decimal

from station.drivers.scales.reading import Reading
from station.inputs import Weighed


@dataclass
class StabilityFilter:
    device: str = "scale"
    stable_readings: int = 3
    min_grams: Decimal = Decimal(5)
    tolerance_grams: Decimal = Decimal(1)
    live_interval: float = 0.25
    _steady: int = 0
    _last: Decimal | None = None
    _armed: bool = True
    _live_at: float = float("-inf")
    _live: Decimal | None = None

    def feed(self, reading: Reading, now: float) -> list[Weighed]:
        grams = reading.grams
        self._count_steady(reading)
        if abs(grams) < self.min_grams:
            self._armed = True
        if self._armed and self._steady >= self.stable_readings and grams >= self.min_grams:
            self._armed = False
            self._live, self._live_at = grams, now
            return [Weighed(grams, True, self.device)]
        if grams != self._live and now - self._live_at >= self.live_interval:
            self._live, self._live_at = grams, now
            return [Weighed(grams, False, self.device)]
        return []

    def interrupt(self) -> None:
        """The scale reported motion without a weight, or an error: steadiness starts over."""
        self._steady = 0
        self._last = None

    def _count_steady(self, reading: Reading) -> None:
        if not reading.stable:
            self.interrupt()
            return
        if self._last is not None and abs(reading.grams - self._last) <= self.tolerance_grams:
            self._steady += 1
        else:
            self._steady = 1
        self._last = reading.grams
