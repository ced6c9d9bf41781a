"""Pick accuracy and pace per packer, from the pack stations' scans and shipments.

A **pick scan** is a pack-mode scan of an item that the bench judged: `ok`, or one of
`WRONG` (the packer picked the wrong thing). Everything else a bench says is a prompt
(`no_order`, `nothing_to_undo`, `lot_required`, ...) or concerns badges, orders and
commands: it is no pick, right or wrong. Receiving, counting and moving are never picks.
Weight mismatches are counted apart from picks: the parcels whose weight was checked,
those weighed outside the tolerance at least once before they left (the shipment says how
many times: `weight_mismatches`, each a re-weigh or the supervisor's override), and those
that left under a supervisor's weight override. A parcel weighed wrong and then put aside
(the order cancelled at the bench) ships nothing and is not counted.
The span a packer worked is the first to the last of their pack scans of a day at a
station, by the station's clock (a wrong clock shifts both ends alike).
"""

from dataclasses import dataclass
from datetime import datetime

from hub import store
from hub.store.connection import Connection
from hub.tallies import Tallies
from protocol.events import Scan, Shipment

WRONG = frozenset({"not_in_order", "too_many", "wrong_lot", "expired_lot", "duplicate_serial"})


def scanned(tally: Tallies, day: str, station: str, scan: Scan, ts: str) -> None:
    """A pack scan, counted in the change's tallies (written at its end)."""
    judged = scan.sku is not None and (scan.verdict == "ok" or scan.verdict in WRONG)
    tally.pick(day, station, scan.operator or "", ts, judged, judged and scan.verdict in WRONG)


def shipped(conn: Connection, day: str, station: str, shipment: Shipment) -> None:
    lines = sum(1 for line in shipment.lines if line.qty > 0)
    operator = shipment.operator or ""
    store.pack_shipped_add(conn, day, station, operator, lines, shipment.weight_override)
    if shipment.expected_weight_g is not None:  # the weight was checked
        store.pack_weighed_add(conn, day, station, operator, shipment.weight_mismatches)


@dataclass
class Packer:
    picks: int = 0
    wrong: int = 0
    hours: float = 0.0
    orders: int = 0
    lines: int = 0
    weight_overrides: int = 0
    parcels_weighed: int = 0  # shipments whose weight was checked
    parcels_reweighed: int = 0  # of them, weighed outside the tolerance at least once
    weight_mismatches: int = 0  # readings outside the tolerance

    def add(
        self, picks: int, wrong: int, first_ts: str | None, last_ts: str | None, orders: int,
        lines: int, overrides: int,
    ) -> None:  # fmt: skip
        self.picks += picks
        self.wrong += wrong
        if first_ts and last_ts:
            span = datetime.fromisoformat(last_ts) - datetime.fromisoformat(first_ts)
            self.hours += span.total_seconds() / 3600
        self.orders += orders
        self.lines += lines
        self.weight_overrides += overrides

    def weighed(self, checked: int, reweighed: int, mismatches: int) -> None:
        self.parcels_weighed += checked
        self.parcels_reweighed += reweighed
        self.weight_mismatches += mismatches


def packers(conn: Connection, since: str, until: str) -> dict[str, Packer]:
    """Operator ('' when the station sent none) -> their figures over days [since, until]."""
    found: dict[str, Packer] = {}
    for _day, _station, operator, *figures in store.pick_stats_between(conn, since, until):
        found.setdefault(operator, Packer()).add(*figures)
    for _day, _station, operator, *figures in store.weigh_stats_between(conn, since, until):
        found.setdefault(operator, Packer()).weighed(*figures)
    return found


def kpi_rows(conn: Connection, since: str, until: str) -> list[tuple]:
    """(kpi, scope, value) rows: overall and per `operator:<name>` (`-` for none)."""
    by_operator = packers(conn, since, until)
    total = Packer()
    for p in by_operator.values():
        total.picks += p.picks
        total.wrong += p.wrong
        total.weight_overrides += p.weight_overrides
        total.weighed(p.parcels_weighed, p.parcels_reweighed, p.weight_mismatches)
    rows = _accuracy_rows("", total)
    for operator, p in sorted(by_operator.items()):
        scope = f"operator:{operator or '-'}"
        rows += _accuracy_rows(scope, p)
        rows += [
            ("orders_packed", scope, p.orders),
            ("lines_packed", scope, p.lines),
            ("hours_packing", scope, round(p.hours, 4)),
            ("orders_per_hour", scope, _per_hour(p.orders, p.hours)),
            ("lines_per_hour", scope, _per_hour(p.lines, p.hours)),
        ]
    return rows


def _accuracy_rows(scope: str, p: Packer) -> list[tuple]:
    return [
        ("pick_scans", scope, p.picks),
        ("pick_errors", scope, p.wrong),
        ("pick_errors_per_1000", scope, round(1000 * p.wrong / p.picks, 2) if p.picks else None),
        ("pick_accuracy", scope, round(1 - p.wrong / p.picks, 4) if p.picks else None),
        ("weight_overrides", scope, p.weight_overrides),
        ("parcels_weighed", scope, p.parcels_weighed),
        ("parcels_reweighed", scope, p.parcels_reweighed),
        ("weight_mismatches", scope, p.weight_mismatches),
        ("weight_accuracy", scope,
         round(1 - p.parcels_reweighed / p.parcels_weighed, 4) if p.parcels_weighed else None),
    ]


def _per_hour(count: int, hours: float) -> float | None:
    return round(count / hours, 2) if hours > 0 else None
