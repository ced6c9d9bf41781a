"""Which weight readings become `Weighed` inputs: one capture per placement, plus a live feed.

Pure: feed readings with the time they arrived. A capture (`stable=True`) needs the
scale's own motion flag clear for `stable_readings` readings in a row that agree within
`tolerance_grams` (a certified indicator's motion detection is the legally relevant one;
the count guards against a single still frame during a bounce), and at least
`min_grams`. A capture is news: the first settled weight after the scale was near zero
(below `min_grams`), after the kiosk was shown the weight moving, or at least `min_grams`
away from the last capture. So a parcel left on the scale is captured once, while items
put into a tared tote, or the missing item put into a parcel whose weight was wrong, are
captured again without lifting anything. Everything else is passed on as `stable=False`
for the kiosk display, at most once per `live_interval`, except a still reading within
the tolerance of the capture: that is the captured weight, not news.
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
    _captured: Decimal | None = None
    _live_at: float = float("-inf")
    _live: Decimal | None = None

    def feed(self, reading: Reading, now: float) -> list[Weighed]:
        grams = reading.grams
        self._count_steady(reading)
        if abs(grams) < self.min_grams:
            self._armed = True
        steady = self._steady >= self.stable_readings and grams >= self.min_grams
        if steady and (self._armed or self._new_load(grams)):
            self._armed = False
            self._captured = grams
            self._live, self._live_at = grams, now
            return [Weighed(grams, True, self.device)]
        if self._is_captured(reading):
            return []
        if grams != self._live and now - self._live_at >= self.live_interval:
            self._live, self._live_at = grams, now
            self._armed = True  # the display moved: the next settled weight is news again
            return [Weighed(grams, False, self.device)]
        return []

    def _new_load(self, grams: Decimal) -> bool:
        return self._captured is not None and abs(grams - self._captured) >= self.min_grams

    def _is_captured(self, reading: Reading) -> bool:
        """Still, and within the tolerance of the capture: the same load, not news."""
        return (
            not self._armed
            and reading.stable
            and self._captured is not None
            and abs(reading.grams - self._captured) <= self.tolerance_grams
        )

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
