"""Where an alert's fix is: the page a supervisor acts on (approve the count, order more,
look at the station), for the alert lists and the overview."""

from flask import url_for

# Kinds fixed on a station's page; the rest on the product's, or where the kind says.
STATION_KINDS = frozenset({"station_offline", "pick_errors", "conflicting_event"})


def alert_fix(alert: dict) -> str:
    kind, key = alert["kind"], alert.get("dedupe") or ""
    if kind == "count_variance" and key.startswith("count_variance:"):
        return url_for("count_pages.counts", _anchor=f"variance-{key.split(':', 1)[1]}")
    if kind == "low_stock":
        return url_for("report_pages.report", name="reorder", _anchor="report")
    if kind in STATION_KINDS and alert.get("station"):
        return url_for("pages.station", station=alert["station"])
    if alert.get("sku"):
        return url_for("stock_pages.product", sku=alert["sku"])
    if alert.get("station"):
        return url_for("pages.station", station=alert["station"])
    return url_for("pages.alerts")


def install(app) -> None:
    app.jinja_env.globals["alert_fix"] = alert_fix
