"""The hub's inventory policy (thresholds, cut-offs, frequencies), stored in the database
so a supervisor can change it through the API without a restart."""

from typing import Annotated

import msgspec
from msgspec import Meta

from hub import store
from hub.store.connection import Connection
from protocol import limits
from protocol.types import StationId

Days = Annotated[int, Meta(ge=1, le=3650)]
Fraction = Annotated[float, Meta(ge=0, le=1)]


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # A count whose |variance| exceeds max(units, pct x |book|) waits for a supervisor.
    count_approval_units: Annotated[int, Meta(ge=0, le=limits.QTY_MAX)] = 5
    count_approval_pct: Fraction = 0.05
    # ABC: classes by cumulative share of annual consumption value.
    abc_a_share: Fraction = 0.80
    abc_b_share: Fraction = 0.95
    # Cycle-count frequency, days between counts of a product.
    count_days_a: Days = 30
    count_days_b: Days = 90
    count_days_c: Days = 365
    count_days_high_risk: Days = 7
    # Planning.
    service_level_z: Annotated[float, Meta(ge=0, le=5)] = 1.65  # about 95 %
    demand_window_days: Days = 90
    default_lead_time_days: Days = 14
    dead_stock_days: Days = 180
    surplus_days: Days = 180
    expiry_warning_days: Days = 30
    # Pick errors: an alert when a station's error rate today passes this, after min scans.
    pick_error_rate: Fraction = 0.05
    pick_error_min_scans: Annotated[int, Meta(ge=1, le=limits.QTY_MAX)] = 20
    station_offline_alert: bool = True
    # Cycle counts: the hub issues due count tasks to these stations, round-robin, daily.
    count_stations: Annotated[list[StationId], Meta(max_length=1000)] = []
    count_tasks_per_day: Annotated[int, Meta(ge=0, le=100_000)] = 50
    # Customer returns: how long after it closed an order may come back without an RMA
    # (its returnable/{order} message is emptied then; an RMA publishes it again).
    return_window_days: Days = 60


_KEY = "settings"


def load(conn: Connection) -> Settings:
    raw = store.meta_get(conn, _KEY)
    return msgspec.json.decode(raw, type=Settings) if raw else Settings()


def save(conn: Connection, settings: Settings) -> None:
    """Inside the caller's transaction."""
    _check(settings)
    store.meta_set(conn, _KEY, msgspec.json.encode(settings).decode())


def _check(settings: Settings) -> None:
    if settings.abc_a_share > settings.abc_b_share:
        raise ValueError("`abc_a_share` must not exceed `abc_b_share`")
