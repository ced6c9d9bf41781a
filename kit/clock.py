"""A clock a test moves by hand (the ownership leases' wall clock, for one)."""


class Clock:
    """Reads `now`; the test sets or advances it."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
