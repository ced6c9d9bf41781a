"""`python -m hub check`: the ledger's invariants, on any live hub (read-only)."""

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import msgspec

from hub import store
from hub.config import ConfigError, load
from protocol.messages import StationStatus

log = logging.getLogger(__name__)


@dataclass
class CheckReport:
    mismatches: list[dict] = field(default_factory=list)  # balance != sum of movements
    duplicates: int = 0  # events stored twice under one (station, epoch, seq)
    gaps: list[dict] = field(default_factory=list)  # applied seqs not exactly 1..n
    cursor_errors: list[dict] = field(default_factory=list)  # cursor != highest applied seq
    # Events waiting behind a gap, and station events that could not be applied and that
    # no supervisor has skipped: each holds its station's later events, so each is not ok.
    held: list[dict] = field(default_factory=list)
    failed_events: list[dict] = field(default_factory=list)
    # Dead letters per source (received, kept, dropped): reported, not an error by itself.
    dead_letters: list[dict] = field(default_factory=list)
    # ledger_seqs below the highest with no movement: none since movements are numbered
    # max+1; a PostgreSQL ledger of an older hub may have some. Reported, not an error by
    # itself, but a central hub fed by this site waits on each (docs/multi-site.md).
    ledger_seq_holes: int = 0
    # Stations that report they cannot record (e.g. a journal behind the hub's ack).
    station_faults: list[dict] = field(default_factory=list)
    # Our own stock whose FIFO cost layers do not add up to its balance (valuation is off).
    layer_mismatches: list[dict] = field(default_factory=list)
    # A central hub: a site's balance that is not the sum of its movements, or a site whose
    # applied movements are not exactly 1..applied (docs/multi-site.md).
    site_mismatches: list[dict] = field(default_factory=list)
    # A GTIN a product lists that scans as another product: stations may resolve it to
    # either (saved before the hub refused that; fix the products' GTINs).
    gtin_conflicts: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.mismatches or self.duplicates or self.gaps or self.cursor_errors
            or self.station_faults or self.layer_mismatches or self.held or self.failed_events
            or self.site_mismatches or self.gtin_conflicts
        )  # fmt: skip


def check(conn) -> CheckReport:
    report = CheckReport()
    report.mismatches = [asdict(m) for m in store.check_ledger(conn)]
    report.duplicates = store.duplicate_events(conn)
    report.gaps = [
        {"station": s, "epoch": e, "events": n, "max_seq": m}
        for s, e, n, m in store.event_gaps(conn)
    ]
    report.cursor_errors = _cursor_errors(conn)
    report.held = [asdict(g) for g in store.gaps(conn)]
    report.failed_events = [asdict(f) for f in store.event_failures(conn, undecided_only=True)]
    report.dead_letters = store.dead_letter_counts(conn)
    report.ledger_seq_holes = store.ledger_holes(conn)
    report.station_faults = _station_faults(store.station_list(conn))
    report.layer_mismatches = [
        {"sku": sku, "location": location, "lot": lot, "balance": balance, "layers": layers}
        for sku, location, lot, balance, layers in store.check_layers(conn)
    ]
    report.site_mismatches = store.check_sites(conn)
    report.gtin_conflicts = store.gtin_conflicts(conn)
    return report


def _cursor_errors(conn) -> list[dict]:
    """Each (station, epoch) cursor equals its highest applied seq, and every epoch with
    applied events has a cursor (without one, its events would be applied again)."""
    applied = {(s, e): m for s, e, _n, m in store.event_max_seqs(conn)}
    cursors = {(s, e): c for s, e, c in store.cursors(conn)}
    return [
        {"station": station, "epoch": epoch, "cursor": cursors.get((station, epoch)),
         "max_seq": applied.get((station, epoch), 0)}
        for station, epoch in sorted(applied.keys() | cursors.keys())
        if applied.get((station, epoch), 0) != cursors.get((station, epoch), 0)
    ]  # fmt: skip


def _station_faults(stations: list[dict]) -> list[dict]:
    faults = []
    for row in stations:
        try:
            status = msgspec.json.decode(row["status"] or b"null", type=StationStatus | None)
        except (msgspec.ValidationError, msgspec.DecodeError):
            continue  # ingest dead-letters bad statuses; they are not stored
        if status is not None and status.fault:
            faults.append({"station": row["station"], "epoch": row["epoch"],
                           "fault": status.fault})  # fmt: skip
    return faults


def main(config_path: str) -> int:
    try:
        config = load(config_path)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    target = config.database.target(config.hub.data_dir)
    if config.database.url is None and not Path(target).exists():
        log.error("no ledger at %s", target)
        return 2
    conn = store.connect(target)
    report = check(conn)
    print(json.dumps({"ok": report.ok, **asdict(report)}, indent=2))
    return 0 if report.ok else 1
