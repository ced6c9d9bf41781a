"""Pick accuracy and pace per packer: pick scans judged, orders and lines packed, parcels
weighed."""

from hub.store.connection import Connection


def pick_scans_add(
    conn: Connection, rows: list[tuple[str, str, str, int, int, str, str]]
) -> None:
    """Pack scans: rows of (day, station, operator, picks, wrong, first_ts, last_ts), one
    statement for them all (a batch's, hub.tallies). `picks` counts the items judged ok or
    wrong; every pack scan, a prompt too, counts for the span worked."""
    conn.executemany(
        "INSERT INTO pick_stats (day, station, operator, picks, wrong, first_ts, last_ts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, station, operator) DO UPDATE SET "
        "picks = pick_stats.picks + excluded.picks, wrong = pick_stats.wrong + excluded.wrong, "
        "first_ts = least(pick_stats.first_ts, excluded.first_ts), "
        "last_ts = greatest(pick_stats.last_ts, excluded.last_ts)",
        rows,
    )


def pack_shipped_add(
    conn: Connection, day: str, station: str, operator: str, lines: int,
    weight_override: bool,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO pick_stats (day, station, operator, orders, lines, weight_overrides) "
        "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (day, station, operator) DO UPDATE SET "
        "orders = pick_stats.orders + 1, lines = pick_stats.lines + excluded.lines, "
        "weight_overrides = pick_stats.weight_overrides + excluded.weight_overrides",
        (day, station, operator, lines, int(weight_override)),
    )


def pick_stats_between(conn: Connection, since: str, until: str) -> list[tuple]:
    """(day, station, operator, picks, wrong, first_ts, last_ts, orders, lines, weight
    overrides) over days [since, until]."""
    return conn.execute(
        "SELECT day, station, operator, picks, wrong, first_ts, last_ts, orders, lines, "
        "weight_overrides FROM pick_stats WHERE day BETWEEN ? AND ? "
        "ORDER BY day, station, operator",
        (since, until),
    ).fetchall()


def pack_weighed_add(
    conn: Connection, day: str, station: str, operator: str, mismatches: int
) -> None:
    """A shipment whose weight was checked, after `mismatches` readings outside the
    tolerance (0: right at the first weighing)."""
    reweighed = 1 if mismatches else 0
    conn.execute(
        "INSERT INTO weigh_stats (day, station, operator, checked, reweighed, mismatches) "
        "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (day, station, operator) DO UPDATE SET "
        "checked = weigh_stats.checked + 1, "
        "reweighed = weigh_stats.reweighed + excluded.reweighed, "
        "mismatches = weigh_stats.mismatches + excluded.mismatches",
        (day, station, operator, reweighed, mismatches),
    )


def weigh_stats_between(conn: Connection, since: str, until: str) -> list[tuple]:
    """(day, station, operator, checked, reweighed, mismatches) over days [since, until]."""
    return conn.execute(
        "SELECT day, station, operator, checked, reweighed, mismatches FROM weigh_stats "
        "WHERE day BETWEEN ? AND ? ORDER BY day, station, operator",
        (since, until),
    ).fetchall()
