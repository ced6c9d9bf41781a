"""The site's day: what a supervisor calls "today" starts at the site's midnight (the
`[web] timezone`), not at UTC's. A site far from UTC would otherwise see its day cut in
two: at UTC+14, "today" would roll over at 14:00 on the floor."""

from datetime import UTC, date, datetime, time, tzinfo
from functools import lru_cache

from protocol.envelope import utc_now


def today(zone: tzinfo, now: datetime | None = None) -> date:
    """The site's date at `now` (the hub's clock by default)."""
    return (now or utc_now()).astimezone(zone).date()


@lru_cache(maxsize=256)  # a batch's events share its receive time, and ask up to 3x each
def day_of(stamp: str, zone: tzinfo) -> str:
    """The site's date (ISO) of a hub time written as ISO text with its offset."""
    return datetime.fromisoformat(stamp).astimezone(zone).date().isoformat()


def day_start(day: date, zone: tzinfo) -> str:
    """The site's midnight starting `day`, as the hub's receive times are written (UTC ISO),
    so it compares with them as text."""
    return datetime.combine(day, time(0), zone).astimezone(UTC).isoformat()
