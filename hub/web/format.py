"""How the pages write times, numbers, money and column names for people: the site's time
zone, to the second at most, relative where it helps; thousands separators; words instead
of field names. One place, used as Jinja filters (static/format.js does the same for the
live updates)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from markupsafe import Markup

from hub import siteday

# Field names the pages show, in words. Anything not listed reads as its name with
# spaces and a capital ("lead_time_days" -> "Lead time days").
WORDS = {
    "sku": "SKU", "gtin": "GTIN", "qty": "Qty", "po": "PO", "id": "#", "abc": "Class",
    "on_hand": "On hand", "own_qty": "Own stock", "consigned_qty": "Consigned",
    "unit_cost": "Unit cost", "annual_value": "Annual value",
    "cumulative_share": "Cumulative share", "mean_daily_demand": "Mean daily demand",
    "demand_sd": "Demand spread (σ/day)", "lead_time_days": "Lead time",
    "lead_time_source": "Lead time from", "demand_over_lead_time": "Demand over lead time",
    "safety_stock": "Safety stock", "reorder_point": "Reorder point",
    "par_level": "Par level", "due": "Due", "order_qty": "Order qty", "order_by": "Order by",
    "position": "Position", "committed": "Committed", "on_order": "On order",
    "last_outbound": "Last shipped", "daily_demand": "Daily demand",
    "days_of_supply": "Days of supply", "surplus_qty": "Surplus", "kpi": "KPI",
    "ts": "When", "hub_ts": "Applied", "cleared": "Cleared", "window_days": "Demand window",
    "days": "Days", "computed": "Computed", "since": "Since", "until": "Until",
    "total_value": "Total value", "cogs": "Cost of goods sold",
    "average_inventory_value": "Average inventory value",
    "inventory_turnover": "Inventory turnover", "days_on_hand": "Days on hand",
    "fill_rate": "Fill rate", "orders_closed": "Orders closed",
    "order_cycle_hours": "Order cycle (hours)", "count_accuracy": "Count accuracy",
    "receiving_accuracy": "Receiving accuracy", "scans": "Scans",
    "scan_errors_per_1000": "Scan errors per 1,000 scans",
    "consignment_owed": "Consignment owed", "consignment_units_sold": "Consignment units sold",
    "negative_stock": "Below zero", "unknown_sku": "Unknown SKU", "low_stock": "Low stock",
    "expiring_lot": "Expiring lot", "station_offline": "Station offline",
    "count_variance": "Count variance", "pick_errors": "Scan errors",
    "conflicting_event": "Conflicting event", "unknown_po": "Unknown PO",
    "not_on_po": "Not on the PO", "closed_po": "Closed PO", "not_in_order": "Not in the order",
}  # fmt: skip


def words(name: object) -> str:
    """A field name, a kind or a verdict in words: `mean_daily_demand` -> "Mean daily demand"."""
    text = str(name or "")
    if text in WORDS:
        return WORDS[text]
    spaced = text.replace("_", " ").replace("-", " ").strip()
    return spaced[:1].upper() + spaced[1:]


def number(value: object, decimals: int | None = None) -> str:
    """1234567 -> "1,234,567"; 0.12345 -> "0.12" (up to two decimals unless told)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if decimals is None:
        decimals = 0 if amount == amount.to_integral_value() else 2
    text = f"{amount:,.{decimals}f}"
    return text.replace("-", "−") if amount < 0 else text


def signed(value: int | float | None) -> str:
    """A change of stock: "+3", "−3", "0"."""
    if value is None:
        return ""
    return ("+" if value > 0 else "") + number(value)


def percent(fraction: object, decimals: int = 1) -> str:
    """0.9512 -> "95.1 %"."""
    if fraction is None or fraction == "":
        return ""
    return f"{number(Decimal(str(fraction)) * 100, decimals)} %"


def money(value: object, currency: str) -> str:
    """ "1234.5" -> "1,234.50 EUR": two decimals, more only where the value has them."""
    if value is None or value == "":
        return ""
    amount = Decimal(str(value))
    places = max(2, -amount.normalize().as_tuple().exponent)
    return f"{number(amount, min(places, 6))} {currency}"


def parse_time(value: str | datetime) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def exact(value: str | datetime, zone: ZoneInfo) -> str:
    """The exact time in the site's zone, to the second: "2026-01-02 04:04:05 CET"."""
    return parse_time(value).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def relative(value: str | datetime, zone: ZoneInfo, now: datetime) -> str:
    """ "12 s ago", "5 min ago", "today 14:03", "yesterday 14:03", "Mon 14:03", "2 Jan 14:03",
    "2 Jan 2025"; times ahead of now (a station's clock) read as the plain time."""
    moment = parse_time(value).astimezone(zone)
    here = now.astimezone(zone)
    seconds = (here - moment).total_seconds()
    if 0 <= seconds < 60:
        return f"{int(seconds)} s ago"
    if 0 <= seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    days = (here.date() - moment.date()).days
    clock = moment.strftime("%H:%M")
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"yesterday {clock}"
    if 1 < days < 7:
        return f"{moment.strftime('%a')} {clock}"
    if moment.year == here.year:
        return f"{moment.day} {moment.strftime('%b')} {clock}"
    return f"{moment.day} {moment.strftime('%b %Y')}"


def day(value: str | date | None, today: date) -> str:
    """A date without a time: "today", "tomorrow", "yesterday", "2 Jan", "2 Jan 2025"."""
    if not value:
        return ""
    when = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    names = {0: "today", 1: "tomorrow", -1: "yesterday"}
    offset = (when - today).days
    if offset in names:
        return names[offset]
    return f"{when.day} {when.strftime('%b')}" + ("" if when.year == today.year else
                                                  f" {when.year}")  # fmt: skip


@dataclass(frozen=True)
class SiteFormat:
    """The site's time zone and currency, and the clock the relative times read."""

    zone: ZoneInfo
    currency: str

    def now(self) -> datetime:
        return datetime.now(UTC)

    def when(self, value: str | datetime | None) -> Markup:
        """A <time> with the relative time, the exact one on hover (static/format.js keeps
        the relative part current)."""
        if not value:
            return Markup("")
        moment = parse_time(value)
        stamp = moment.astimezone(UTC).isoformat(timespec="seconds")
        return Markup('<time datetime="{}" title="{}" data-relative>{}</time>').format(
            stamp, exact(moment, self.zone), relative(moment, self.zone, self.now())
        )

    def on_day(self, value: str | date | None) -> Markup:
        if not value:
            return Markup("")
        today = siteday.today(self.zone, self.now())
        return Markup('<time datetime="{}">{}</time>').format(str(value)[:10], day(value, today))

    def money(self, value: object) -> str:
        return money(value, self.currency)

    def ago(self, value: str | datetime | None) -> str:
        """How long ago, in words, for sentences ("computed 3 h ago")."""
        if not value:
            return ""
        seconds = (self.now() - parse_time(value)).total_seconds()
        if seconds < 3600:
            return relative(value, self.zone, self.now())
        if seconds < 48 * 3600:
            return f"{int(seconds // 3600)} h ago"
        return f"{int(seconds // 86400)} days ago"


def install(app, site: SiteFormat) -> None:
    """Register the filters on a Flask app (and the zone and currency for format.js)."""
    filters = {
        "when": site.when, "on_day": site.on_day, "ago": site.ago, "money": site.money,
        "number": number, "signed": signed, "percent": percent, "words": words,
    }  # fmt: skip
    app.jinja_env.filters.update(filters)
    app.jinja_env.globals["site_format"] = site


__all__ = ["SiteFormat", "day", "exact", "install", "money", "number", "percent", "relative",
           "signed", "words"]  # fmt: skip
