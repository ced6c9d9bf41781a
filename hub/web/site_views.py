"""What a central hub shows of its sites, for its API and its page: each site's link and
lag, and stock per SKU with each site's part and the company's total."""

import sqlite3
from datetime import datetime

from hub import store
from hub.money import text


def site_rows(conn: sqlite3.Connection, sites: list[str], now: datetime) -> list[dict]:
    return [_site_row(conn, link, now) for link in store.site_links(conn) if link.site in sites]


def _site_row(conn: sqlite3.Connection, link: store.SiteLink, now: datetime) -> dict:
    lag_s = 0.0
    if link.behind_since is not None:
        lag_s = max(0.0, (now - datetime.fromisoformat(link.behind_since)).total_seconds())
    return {
        "site": link.site,
        "link": link.link,
        "link_changed": link.link_changed,
        "hub": link.hub_state,
        "applied": link.applied,
        "last_applied": link.last_applied,
        "known": link.known,
        "lag_movements": link.known - link.applied,
        "lag_s": round(lag_s, 1),
        "held": store.site_pending_count(conn, link.site),
        **store.site_feed_counts(conn, link.site),
    }


def stock_rows(
    conn: sqlite3.Connection, site: str | None, sku: str | None, limit: int, after: str
) -> list[dict]:
    """Per SKU: the total over the sites (or the one `site`), and each site's part."""
    items: dict[str, dict] = {}
    for row_site, row_sku, qty, value in store.site_stock(conn, site, sku, limit, after):
        item = items.setdefault(row_sku, {"sku": row_sku, "on_hand": 0, "micros": 0,
                                          "sites": []})  # fmt: skip
        item["on_hand"] += qty
        item["micros"] += value
        item["sites"].append({"site": row_site, "on_hand": qty, "value": text(value)})
    return [{"sku": i["sku"], "on_hand": i["on_hand"], "value": text(i["micros"]),
             "sites": i["sites"]} for i in items.values()]  # fmt: skip
