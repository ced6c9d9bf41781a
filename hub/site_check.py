"""`python -m hub check --config FILE --site S` on a central hub: its replay of site S
(balance lines, and the FIFO value of the site's own stock per line) against the site's own
figures, read from the site hub's API ([[sites]] api and token). Prints every difference;
exit 1 if there is one. The site hub is the authority: a difference means the centre lags
(see `lag_movements`) or has applied something the site does not have."""

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal
from pathlib import Path

from hub import store
from hub.config import ConfigError, HubConfig, SiteEntry, load
from hub.money import from_micros

log = logging.getLogger(__name__)

Line = tuple[str, str, str, str]  # sku, location, lot, owner


class SiteApi:
    def __init__(self, entry: SiteEntry) -> None:
        self.base = entry.api.rstrip("/")
        self.token = entry.token

    def get(self, path: str, **params: str | int) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        request = urllib.request.Request(self.base + path + query)
        request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=30) as reply:
            return json.loads(reply.read())

    def lines(self) -> dict[Line, int]:
        """Every balance line the site has (its /api/stock, page by page)."""
        found: dict[Line, int] = {}
        after = ""
        while True:
            page = self.get("/api/stock", limit=1000, after=after)
            for item in page["stock"]:
                for line in item["locations"]:
                    key = (item["sku"], line["location"], line["lot"] or "", line["owner"] or "")
                    found[key] = line["qty"]
            if not page["next"]:
                return found
            after = page["next"]["after"]

    def values(self, sku: str) -> dict[tuple[str, str], Decimal]:
        """The FIFO value of the site's own stock of `sku` per (location, lot)."""
        found: dict[tuple[str, str], Decimal] = {}
        for layer in self.get(f"/api/products/{urllib.parse.quote(sku)}/layers")["layers"]:
            key = (layer["location"], layer["lot"] or "")
            found[key] = found.get(key, Decimal(0)) + Decimal(layer["value"])
        return found


def compare(conn, site: str, api: SiteApi) -> list[dict]:
    """Every difference between the centre's replay of `site` and the site's figures."""
    mine = {(sku, loc, lot, owner): (qty, value)
            for sku, loc, lot, owner, qty, value in store.site_lines(conn, site)}  # fmt: skip
    theirs = api.lines()
    differences = []
    for key in sorted(mine.keys() | theirs.keys()):
        centre, at_site = mine.get(key, (0, 0))[0], theirs.get(key, 0)
        if centre != at_site:
            differences.append({"what": "balance", "sku": key[0], "location": key[1],
                                "lot": key[2], "owner": key[3], "centre": centre,
                                "site": at_site})  # fmt: skip
    for sku in sorted({key[0] for key in mine.keys() | theirs.keys()}):
        at_site = api.values(sku)
        centre = {(loc, lot): from_micros(value) for (s, loc, lot, owner), (_q, value)
                  in mine.items() if s == sku and not owner}  # fmt: skip
        for loc, lot in sorted(centre.keys() | at_site.keys()):
            ours, theirs_value = centre.get((loc, lot), Decimal(0)), at_site.get((loc, lot),
                                                                                 Decimal(0))  # fmt: skip
            if ours != theirs_value:
                differences.append({"what": "value", "sku": sku, "location": loc, "lot": lot,
                                    "centre": str(ours), "site": str(theirs_value)})  # fmt: skip
    return differences


def main(config_path: str, site: str) -> int:
    try:
        config = load(config_path)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    entry = _entry(config, site)
    if entry is None:
        return 2
    # The central ledger where the hub keeps it: its SQLite file, or PostgreSQL.
    target = config.database.target(config.hub.data_dir)
    if config.database.url is None and not Path(target).exists():
        log.error("no ledger at %s", target)
        return 2
    conn = store.connect(target)
    try:
        differences = compare(conn, site, SiteApi(entry))
        link = store.site_link_get(conn, site)
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        log.error("cannot read site %s's figures at %s: %s", site, entry.api, exc)
        return 2
    finally:
        conn.close()
    report = {"ok": not differences, "site": site,
              "applied": link.applied if link else 0,
              "lag_movements": (link.known - link.applied) if link else 0,
              "differences": differences}  # fmt: skip
    print(json.dumps(report, indent=2))
    return 0 if not differences else 1


def _entry(config: HubConfig, site: str) -> SiteEntry | None:
    if config.hub.mode != "central":
        log.error('check --site runs on a central hub ([hub] mode = "central")')
        return None
    entry = next((s for s in config.sites if s.id == site), None)
    if entry is None:
        log.error("no [[sites]] entry with id %r", site)
        return None
    if not entry.api or not entry.token:
        log.error("[[sites]] %s: check --site needs its api and token", site)
        return None
    return entry
