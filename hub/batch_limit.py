"""How many messages an ingest worker's next batch takes (docs/scaling.md, "What bounds a
batch").

A worker's applying transaction closes at a deadline, so that its leases are renewed
before they can run out under it. But what a batch does before its first message (decode
every message, read ahead for all of them, check its stations' leases) grows with the
batch, not with what the deadline lets it apply: a batch of thousands of queued events, of
which the deadline let a few hundred apply, checked its leases more than a lease after
they were renewed, found them run out, and left its events unapplied (a station resends
them, but only when asked). So a worker's batch takes at most twice what the last one
applied when its deadline closed it, and twice as many as the last again, up to
`[ingest] max_batch`, while full batches end before their deadline."""

from dataclasses import dataclass

# A worker's first batch: small enough for its deadline on a slow machine; it doubles from
# there at each full batch that ends in time.
FIRST = 100
# However slow the last batch was, the next takes this many: each turn renews the leases.
LEAST = 10


@dataclass
class BatchLimit:
    most: int  # [ingest] max_batch
    size: int = 0  # what the next batch takes at most

    def __post_init__(self) -> None:
        self.size = min(self.most, FIRST)

    def closed(self, taken: int, size: int) -> None:
        """After a batch of `size` messages, of which the first `taken` were handled."""
        if taken < size:  # its deadline closed it
            self.size = min(self.most, max(LEAST, 2 * taken))
        elif size >= self.size:  # full, and in time: the next may take more
            self.size = min(self.most, 2 * self.size)
