"""What an ingest batch carries: the messages taken from the broker, what the batch's
transaction has read and must write once at its end, and the count of what it did.

Shared by the station ingest (hub.ingest), the site hub's other inbound messages
(hub.site_inbox) and the central hub (hub.central)."""

import logging
from dataclasses import dataclass, field
from typing import Protocol

from hub import ledger, store
from hub.store.connection import Connection
from protocol.envelope import Event
from protocol.topics import Topics

log = logging.getLogger(__name__)

# Mosquitto's bridge notification payloads.
LINK_STATES = {b"1": "up", b"0": "down"}


class Fence(Protocol):
    """Which stations this process applies, when several share the database
    (hub.ownership); a single hub has none and applies every station."""

    def fence(self, conn: Connection, station: str) -> bool:
        """Inside the applying transaction: whether the lease row names this process."""

    def fence_all(self, conn: Connection, stations: list[str]) -> set[str]:
        """`fence` of several stations at once: those whose lease row names this process."""

    def owns(self, station: str) -> bool:
        """This process's view between transactions (for gaps and skips to look at)."""


@dataclass(frozen=True, slots=True)  # small: the hub's inbox holds thousands
class Incoming:
    topic: str
    payload: bytes
    mid: int = 0
    qos: int = 1
    retained: bool = False
    # Which broker session it came in (HubLink): its mid names it in that session only.
    session: int = 0


@dataclass
class BatchResult:
    applied: int = 0  # events applied to the ledger
    duplicates: int = 0
    held: int = 0
    dead: int = 0
    orders: int = 0  # sales orders taken from the intake topic
    not_mine: int = 0  # messages of stations another worker owns: left to it
    taken: int = 0  # messages of the batch handled (the first ones): the rest wait
    stations: set[str] = field(default_factory=set)
    skus: set[str] = field(default_factory=set)


@dataclass
class Batch:
    """What one batch's transaction knows, so each station's rows are read once per batch
    and its cursor written once, not per event (a dozen statements per event before)."""

    now: str
    result: BatchResult = field(default_factory=BatchResult)
    effects: ledger.Effects = field(default_factory=ledger.Effects)
    touched: dict[str, str] = field(default_factory=dict)  # station -> epoch to acknowledge
    epochs: dict[str, str | None] = field(default_factory=dict)  # station -> current epoch
    cursors: dict[tuple[str, str], int] = field(default_factory=dict)  # read at first use
    moved: dict[tuple[str, str], int] = field(default_factory=dict)  # applied, to write
    held: set[tuple[str, str]] = field(default_factory=set)  # (station, epoch) with held rows
    looked: set[tuple[str, str]] = field(default_factory=set)  # held rows looked for
    failures: bool = False  # some events wait behind a failed one (read once per batch)
    mine: dict[str, bool] = field(default_factory=dict)  # station -> this worker owns it
    decoded: dict[int, Event] = field(default_factory=dict)  # id(message) -> its event

    def owned(self, conn: Connection, station: str, fence: Fence) -> bool:
        if station not in self.mine:
            self.mine[station] = fence.fence(conn, station)
        return self.mine[station]

    def read_ahead(self, conn: Connection, journals: dict[str, set[str]],
                   fence: Fence | None) -> None:  # fmt: skip
        """What the batch's events ask of their stations, read at its start in one
        statement each for all of them (a statement each per station before, on
        PostgreSQL a wait each, most of a small batch's): which of them this process
        applies, their current epochs (noting them heard from now, as `station_epoch`
        does), and of their `journals` (station -> epochs) the applied cursors and
        which hold events. What the batch then changes it keeps here, as after a read
        at first use."""
        stations = sorted(journals)
        if fence is not None:
            owned = fence.fence_all(conn, stations)
            self.mine.update({station: station in owned for station in stations})
            stations = [station for station in stations if station in owned]
        if not stations:
            return
        self.epochs.update(store.stations_seen(conn, stations, self.now))
        applied = store.cursors_of(conn, stations)
        holding = store.pending_journals(conn, stations)
        for key in ((station, epoch) for station in stations for epoch in journals[station]):
            self.cursors[key] = applied.get(key, 0)
            self.looked.add(key)
            if key in holding:
                self.held.add(key)

    def station_epoch(self, conn: Connection, station: str) -> str | None:
        if station not in self.epochs:
            self.epochs[station] = store.station_seen(conn, station, self.now)
        return self.epochs[station]

    def applied(self, conn: Connection, station: str, epoch: str) -> int:
        key = (station, epoch)
        if key in self.moved:
            return self.moved[key]
        if key not in self.cursors:
            self.cursors[key] = store.cursor_get(conn, station, epoch)
        return self.cursors[key]

    def has_held(self, conn: Connection, station: str, epoch: str) -> bool:
        key = (station, epoch)
        if key not in self.looked:
            self.looked.add(key)
            if store.pending_any(conn, station, epoch):
                self.held.add(key)
        return key in self.held


def dead(conn: Connection, topics: Topics, message: Incoming, reason: str,
         work: Batch) -> None:  # fmt: skip
    """A message the hub cannot take: kept as a dead letter, counted in the batch."""
    log.warning("dead letter on %s: %s", message.topic, reason)
    store.dead_letter(conn, message.topic, message.payload, reason, work.now,
                      source(topics, message.topic))  # fmt: skip
    work.result.dead += 1


def source(topics: Topics, topic: str) -> str:
    """Whose dead letter it is, for the caps: the station, else the topic's first level."""
    levels = topics.leaf(topic)
    if len(levels) >= 2 and levels[0] == "station":
        return levels[1][:64]
    return levels[0][:64] if levels else "other"
