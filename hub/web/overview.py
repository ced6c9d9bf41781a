"""What the overview shows a supervisor to act on: today's orders and packs (per station
and per packer), the receipts due, what the hub has not applied yet and how far behind it
is, the stations with their devices (what to do about one that is not ready) and the
open alerts, and a site's link to its company's centre. Shared by the page and
`GET /api/overview`."""

import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from time import time as unix_now

from hub import siteday, store
from hub.central_transfers import in_transit, transfer_dict, transit_of
from hub.health import LoopState
from hub.ownership import stream_site
from hub.store.connection import Connection
from hub.web import views
from hub.web.devices import advice, station_advice
from hub.web.links import alert_fix
from protocol.envelope import utc_now

RECEIPTS_SHOWN = 10


def overview(
    conn: Connection,
    version: int,
    loops: Iterable[LoopState],
    zone: tzinfo = UTC,
    now: datetime | None = None,
    workers_stale_s: float = 5.0,
    site: str | None = None,
) -> dict:
    """The overview at `now` (the hub's clock). "Today" is the site's day in `zone` (the
    `[web] timezone`): a site far from UTC would otherwise see its day cut in two.
    `loops`: the hub's heartbeats (none when the web app runs without the hub, as in some
    tests). A hub
    process silent for `workers_stale_s` is not among the `workers`. `site`: the hub's own,
    whose transfers in transit (out of it and on their way to it) are summed."""
    now = now or utc_now()
    today = siteday.today(zone, now)
    since = siteday.day_start(today, zone)
    stations = [_with_advice(row) for row in views.station_rows(conn)]
    return {
        "version": version,
        "today": today.isoformat(),
        "stations": stations,
        "movements": store.movements_latest(conn, 25),
        "alerts": [{**a, "fix": alert_fix(a)} for a in store.alerts_open(conn, 20)],
        "kpis": views.kpis_since(conn, since),
        "orders": _orders(conn),
        "packs": packs(conn, now, since),
        "receipts_due": store.pos_expected_by(conn, today.isoformat(), RECEIPTS_SHOWN),
        "backlog": backlog(conn, stations, list(loops)),
        "centre": centre_link(conn),
        "workers": workers(conn, workers_stale_s),
        "transfers": [transfer_dict(row) for row in store.transfers_unfinished(conn, 50)],
        "in_transit": transit_of(in_transit(conn), site) if site else None,
    }


def centre_link(conn: Connection) -> dict | None:
    """A site of a company: its broker's bridge to the centre, up or down and since when
    (Mosquitto's notification, kept by the ingest); None until one is heard of."""
    found = store.meta_get(conn, "centre_link")
    return json.loads(found) if found else None


def workers(conn: Connection, stale_s: float) -> list[dict]:
    """The hub's processes when it runs as several (none for the single process): each
    one's role, and for an ingest worker how many stations (at a central hub: sites) it
    applies and its duties."""
    now = unix_now()
    live = store.workers_live(conn, now - stale_s)
    if not live:
        return []
    held = [(stream, w) for stream, w, expires in store.station_leases(conn) if expires >= now]
    stations = Counter(w for stream, w in held if stream_site(stream) is None)
    sites = Counter(w for stream, w in held if stream_site(stream) is not None)
    duties: dict[str, list[str]] = {}
    for duty, worker, expires in store.duty_leases(conn):
        if expires >= now:
            duties.setdefault(worker, []).append(duty)
    return [{"id": w.id, "role": w.role, "host": w.host, "pid": w.pid,
             "stations": stations[w.id], "sites": sites[w.id],
             "duties": duties.get(w.id, [])}
            for w in live]  # fmt: skip


def _orders(conn: Connection) -> dict:
    by_status = store.orders_in_status(conn, ("open", "packing"))
    return {"waiting": by_status["open"], "packing": by_status["packing"]}


def packs(conn: Connection, now: datetime, since: str) -> dict:
    """Shipments today (since `since`, the site's midnight) per station and per packer:
    today's total, the last hour's, and the rate per hour since the first of the day (over
    one hour at least, so the first pack of the morning does not read as 60 an hour)."""
    rows = store.packs_since(conn, since, (now - timedelta(hours=1)).isoformat())
    by_station: dict[str, list] = {}
    by_packer: dict[str, list] = {}
    for station, operator, total, last_hour, first in rows:
        for key, groups in ((station, by_station), (operator, by_packer)):
            group = groups.setdefault(key, [0, 0, first])
            group[0] += total
            group[1] += last_hour
            group[2] = min(group[2], first)
    return {
        "stations": [_rate(name, *g, now) for name, g in sorted(by_station.items())],
        "packers": [_rate(name, *g, now) for name, g in sorted(by_packer.items())],
    }


def _rate(name: str, today: int, last_hour: int, first: str, now: datetime) -> dict:
    hours = max(1.0, (now - datetime.fromisoformat(first)).total_seconds() / 3600)
    return {"name": name, "today": today, "last_hour": last_hour,
            "per_hour": round(today / hours, 1)}  # fmt: skip


def backlog(conn: Connection, stations: list[dict], loops: list[LoopState]) -> dict:
    """Events not yet applied (journaled at the stations and not yet acknowledged, held
    behind a gap, waiting for a supervisor's decision) and the hub's lag: how long ago its
    ingest loop last finished a turn, and which loops are stalled."""
    held, oldest_held, failed = store.held_summary(conn)
    ingest = next((loop for loop in loops if loop.name == "ingest"), None)
    return {
        "at_stations": sum(s["unacked"] for s in stations),
        "held": held,
        "oldest_held": oldest_held,
        "failed": failed,
        "ingest_lag_s": ingest.last_progress_s if ingest else None,
        "stalled": [loop.name for loop in loops if not loop.alive],
    }


def _with_advice(row: dict) -> dict:
    """The station with what to do about it and about each device that is not ready."""
    not_ready = [
        {"name": name, "state": state, "advice": advice(name, state)}
        for name, state in sorted((row.get("devices") or {}).items())
        if advice(name, state) is not None
    ]
    return {**row, "not_ready": not_ready, "advice": station_advice(row)}
