"""A version number that rises whenever the ledger changes, and the bounded waiting room
of the live pages' long polls on it.

The web server is a pool of threads (waitress), and a parked long poll holds one of them
until the ledger moves. So only so many polls may park at once, and only a few per
session: the rest are answered at once with the current version and a hint to ask again
later. The threads left over serve pages, the API and `/healthz` however many pages are
open (docs/web.md: live updates).
"""

import threading
from collections import Counter
from dataclasses import dataclass

# A parked poll answers after this long even when nothing changed (proxies and browsers
# give up on a request that stays silent for long).
POLL_WAIT_S = 25.0
# A browser's tabs share one session and at most 6 connections to the hub: with two
# parked polls per session, the other tabs of that browser still load their pages.
PARKED_PER_SESSION = 2
# A poll turned away asks again after about this long (the page adds jitter), so an
# update reaches it within a few seconds; 200 such pages cost the server about 40 small
# requests a second (docs/web.md measures what waitress serves).
RETRY_AFTER_S = 5


class ChangeFeed:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.version = 0

    def bump(self) -> None:
        with self._cond:
            self.version += 1
            self._cond.notify_all()

    def wait_newer(self, version: int, timeout: float) -> int:
        with self._cond:
            self._cond.wait_for(lambda: self.version > version, timeout)
            return self.version


@dataclass(frozen=True)
class PollAnswer:
    """The version now; `retry_after` (seconds) when the poll was not allowed to wait."""

    version: int
    retry_after: int | None = None


class LivePolls:
    """Long polls on a ChangeFeed, at most `limit` waiting at once and
    `per_session` of them for one session."""

    def __init__(
        self,
        feed: ChangeFeed,
        limit: int,
        per_session: int = PARKED_PER_SESSION,
        wait_s: float = POLL_WAIT_S,
    ) -> None:
        self.feed = feed
        self.limit = limit
        self.per_session = per_session
        self.wait_s = wait_s
        self._lock = threading.Lock()
        self._parked: Counter[str] = Counter()

    @property
    def parked(self) -> int:
        with self._lock:
            return self._parked.total()

    def poll(self, session: str, since: int) -> PollAnswer:
        """Answers when the feed is past `since`, or after `wait_s`; at once, with a retry
        hint, when the waiting room (or this session's share of it) is full."""
        version = self.feed.version
        if version > since:
            return PollAnswer(version)
        if not self._park(session):
            return PollAnswer(version, RETRY_AFTER_S)
        try:
            return PollAnswer(self.feed.wait_newer(since, self.wait_s))
        finally:
            self._leave(session)

    def _park(self, session: str) -> bool:
        with self._lock:
            if self._parked.total() >= self.limit or self._parked[session] >= self.per_session:
                return False
            self._parked[session] += 1
            return True

    def _leave(self, session: str) -> None:
        with self._lock:
            self._parked[session] -= 1
            if self._parked[session] <= 0:
                del self._parked[session]
