"""Alerts: kept in the database and published on `alerts`; one open alert per dedupe key."""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import get_args

from hub import planning, store
from hub.settings import load as load_settings
from hub.sku_flags import SkuFlags
from hub.store.connection import Connection
from protocol.envelope import encode
from protocol.messages import Alert, AlertKind
from protocol.topics import Topics

ALERT_KINDS = frozenset(get_args(AlertKind))


def raise_(
    conn: Connection,
    topics: Topics,
    now: str,
    kind: str,
    severity: str,
    message: str,
    sku: str | None = None,
    station: str | None = None,
    dedupe: str | None = None,
) -> bool:
    """Record and publish an alert; False when the same `dedupe` alert is still open."""
    if kind not in ALERT_KINDS:  # the contract lists every kind: a new one goes there first
        raise ValueError(f"alert kind {kind!r} is not in protocol.messages.AlertKind")
    alert_id = store.alert_add(conn, kind, severity, message, now, sku, station, dedupe)
    if alert_id is None:
        return False
    alert = Alert(id=alert_id, kind=kind, severity=severity, message=message, sku=sku,
                  station=station, ts=datetime.fromisoformat(now))  # fmt: skip
    store.outbox_put(conn, topics.alerts, encode(alert), retain=False)
    return True


def announce(conn: Connection, topics: Topics, now: str, row: dict, message: str) -> None:
    """Announce the open alert `row` (store.alert_open) again with new figures (same id,
    state raised), so a subscriber keeping the latest per id sees them too."""
    alert = Alert(id=row["id"], kind=row["kind"], severity=row["severity"], message=message,
                  sku=row["sku"], station=row["station"],
                  ts=datetime.fromisoformat(now))  # fmt: skip
    store.outbox_put(conn, topics.alerts, encode(alert), retain=False)


def clear(conn: Connection, topics: Topics, dedupe: str, now: str) -> None:
    """Close the open alert with key `dedupe`, if any, and publish that it is cleared."""
    for row in store.alert_clear(conn, dedupe, now):
        alert = Alert(id=row["id"], kind=row["kind"], severity=row["severity"],
                      message=f"cleared: {row['message']}", state="cleared", sku=row["sku"],
                      station=row["station"], ts=datetime.fromisoformat(now))  # fmt: skip
        store.outbox_put(conn, topics.alerts, encode(alert), retain=False)


def publish_row(conn: Connection, topics: Topics, row: dict) -> None:
    """Say an alert again as it stands (a row of store.alerts_changed): raised with its
    current message, or cleared as `clear` announced it."""
    cleared = row["cleared"]
    message = row["message"] if cleared is None else f"cleared: {row['message']}"
    alert = Alert(id=row["id"], kind=row["kind"], severity=row["severity"], message=message,
                  state="raised" if cleared is None else "cleared", sku=row["sku"],
                  station=row["station"],
                  ts=datetime.fromisoformat(row["ts"] if cleared is None else cleared))  # fmt: skip
    store.outbox_put(conn, topics.alerts, encode(alert), retain=False)


def low_stock_key(sku: str) -> str:
    return f"low_stock:{sku}"


def unknown_sku_key(sku: str) -> str:
    return f"unknown_sku:{sku}"


def read_ahead(conn: Connection, skus: Iterable[str], unknown: Iterable[str]) -> None:
    """Whether the low-stock alerts of `skus` and the unknown-SKU alerts of `unknown` are
    open, in one statement for a batch (store.alerts_read_ahead): raising or clearing one
    of them then waits for nothing."""
    keys = [low_stock_key(sku) for sku in skus] + [unknown_sku_key(sku) for sku in unknown]
    store.alerts_read_ahead(conn, keys)


def check_low_stock(
    conn: Connection, topics: Topics, sku: str, available: int, now: str, flags: SkuFlags,
    policies: planning.Policies,
) -> None:  # fmt: skip
    """Alert when available stock falls to the reorder point; clear when it recovers (the
    flag noted in `flags`, which the caller writes; the product's policy and plan read in
    `policies`)."""
    point = planning.current_reorder_point(conn, sku, date.fromisoformat(now[:10]), policies)
    low = point is not None and available <= point  # no reorder point: never low
    if not flags.set_low(sku, low):
        return
    key = low_stock_key(sku)
    if low:
        raise_(
            conn,
            topics,
            now,
            "low_stock",
            "warning",
            f"{sku}: {available} available, reorder point {point}",
            sku=sku,
            dedupe=key,
        )
    else:
        clear(conn, topics, key, now)


def check_expiring(conn: Connection, topics: Topics, today: date, now: str) -> int:
    """Alert once for each lot in stock that expires within the warning window."""
    until = (today + timedelta(days=load_settings(conn).expiry_warning_days)).isoformat()
    lots = store.lots_expiring(conn, until)
    for sku, lot, expiry, qty in lots:
        raise_(conn, topics, now, "expiring_lot", "warning",
               f"{sku} lot {lot}: {qty} units expire on {expiry}", sku=sku,
               dedupe=f"expiring_lot:{sku}:{lot}")  # fmt: skip
        store.lot_mark_alerted(conn, sku, lot)
    return len(lots)


def station_offline(conn: Connection, topics: Topics, station: str, now: str) -> None:
    if load_settings(conn).station_offline_alert:
        raise_(conn, topics, now, "station_offline", "warning", f"station {station} is offline",
               station=station, dedupe=f"station_offline:{station}")  # fmt: skip


def station_online(conn: Connection, topics: Topics, station: str, now: str) -> None:
    clear(conn, topics, f"station_offline:{station}", now)
