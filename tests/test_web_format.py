"""How the pages write times, numbers, money and field names (hub/web/format.py)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from hub.web import format as fmt
from hub.web.format import SiteFormat

pytestmark = pytest.mark.hub

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 18, 15, 0, 0, tzinfo=UTC)  # a Wednesday, 16:00 in Berlin


def test_exact_time_is_in_the_site_zone_to_the_second():
    assert fmt.exact("2026-01-02T03:04:05.123456+00:00", BERLIN) == "2026-01-02 04:04:05 CET"
    assert fmt.exact("2026-07-02T03:04:05+00:00", BERLIN) == "2026-07-02 05:04:05 CEST"


def test_relative_times_read_as_people_say_them():
    def rel(iso: str) -> str:
        return fmt.relative(iso, BERLIN, NOW)

    assert rel("2026-03-18T14:59:48+00:00") == "12 s ago"
    assert rel("2026-03-18T14:55:00+00:00") == "5 min ago"
    assert rel("2026-03-18T08:03:00+00:00") == "today 09:03"
    assert rel("2026-03-17T13:03:00+00:00") == "yesterday 14:03"
    assert rel("2026-03-16T13:03:00+00:00") == "Mon 14:03"
    assert rel("2026-02-02T13:03:00+00:00") == "2 Feb 14:03"
    assert rel("2025-02-02T13:03:00+00:00") == "2 Feb 2025"


def test_a_day_just_after_midnight_in_the_site_zone_is_today_there():
    # 23:30 UTC on the 17th is 00:30 on the 18th in Berlin: today, not yesterday.
    assert fmt.relative("2026-03-17T23:30:00+00:00", BERLIN, NOW) == "today 00:30"


def test_a_station_clock_ahead_of_the_hub_reads_as_its_plain_time():
    assert fmt.relative("2026-03-18T15:10:00+00:00", BERLIN, NOW) == "today 16:10"


def test_days_without_a_time():
    today = date(2026, 3, 18)
    assert [fmt.day(d, today) for d in ("2026-03-18", "2026-03-19", "2026-03-17")] == [
        "today", "tomorrow", "yesterday"]  # fmt: skip
    assert fmt.day("2026-04-01", today) == "1 Apr"
    assert fmt.day("2025-12-31", today) == "31 Dec 2025"
    assert fmt.day(None, today) == ""


def test_numbers_have_thousands_separators_and_a_real_minus():
    assert fmt.number(1234567) == "1,234,567"
    assert fmt.number(-1200) == "−1,200"
    assert fmt.number(0.12345) == "0.12"
    assert fmt.number(2.0) == "2"
    assert fmt.number(None) == ""
    assert fmt.number(True) == "yes"
    assert fmt.signed(3) == "+3" and fmt.signed(-3) == "−3" and fmt.signed(0) == "0"


def test_money_carries_its_currency_and_shares_read_as_percent():
    assert fmt.money("1234.5", "EUR") == "1,234.50 EUR"
    assert fmt.money("0.125", "GBP") == "0.125 GBP"
    assert fmt.money(None, "EUR") == ""
    assert fmt.percent(0.9512) == "95.1 %"
    assert fmt.percent(None) == ""


def test_field_names_read_as_words():
    assert fmt.words("mean_daily_demand") == "Mean daily demand"
    assert fmt.words("sku") == "SKU"
    assert fmt.words("not_in_order") == "Not in the order"
    assert fmt.words("lead_time_source") == "Lead time from"
    assert fmt.words("some_new_field") == "Some new field"


class FixedClock(SiteFormat):
    def now(self) -> datetime:
        return NOW


def test_a_time_on_the_page_is_relative_with_the_exact_time_on_hover():
    site = FixedClock(BERLIN, "EUR")
    html = str(site.when("2026-03-18T14:59:48.5+00:00"))
    assert html == ('<time datetime="2026-03-18T14:59:48+00:00" '
                    'title="2026-03-18 15:59:48 CET" data-relative>11 s ago</time>')  # fmt: skip
    assert str(site.when(None)) == ""
    assert str(site.on_day("2026-03-19")) == '<time datetime="2026-03-19">tomorrow</time>'
    assert site.ago("2026-03-18T12:00:00+00:00") == "3 h ago"
    assert site.money("5") == "5.00 EUR"


def test_an_unknown_time_zone_in_the_config_is_one_clear_line(tmp_path):
    import pytest

    from hub.config import ConfigError, load

    path = tmp_path / "hub.toml"
    path.write_text('[web]\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError, match=r"\[web\] unknown time zone 'Mars/Olympus'"):
        load(path)
    path.write_text('[web]\ntimezone = "Europe/Berlin"\ncurrency = "GBP"\n')
    assert load(path).web.timezone == "Europe/Berlin"
