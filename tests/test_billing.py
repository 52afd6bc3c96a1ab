"""Billing periods, overage, number fees and the forecast, called directly."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from smsctl.billing import (
    billing_period,
    closing_date,
    fee_bearing_numbers,
    forecast_total,
    money,
    overage,
    overview_history,
    period_figures,
)
from smsctl.clock import local_midnight
from smsctl.errors import UsageError
from smsctl.numbers import add_number, init_database, remove_number
from smsctl.settings import store_setting
from smsctl.store import open_store

D = date.fromisoformat


@pytest.mark.parametrize(
    "day, closing_day, start, end",
    [
        # closing day 1: calendar months, year end included
        ("2026-12-04", 1, "2026-12-01", "2026-12-31"),
        ("2026-12-31", 1, "2026-12-01", "2026-12-31"),
        ("2027-01-01", 1, "2027-01-01", "2027-01-31"),
        ("2028-02-29", 1, "2028-02-01", "2028-02-29"),
        ("2027-02-28", 1, "2027-02-01", "2027-02-28"),
        # closing day 15, as in issue 5
        ("2026-12-04", 15, "2026-11-15", "2026-12-14"),
        ("2026-12-15", 15, "2026-12-15", "2027-01-14"),
        ("2027-01-14", 15, "2026-12-15", "2027-01-14"),
        # closing day 31: the last day of shorter months
        ("2027-01-31", 31, "2027-01-31", "2027-02-27"),
        ("2027-02-27", 31, "2027-01-31", "2027-02-27"),
        ("2027-02-28", 31, "2027-02-28", "2027-03-30"),
        ("2027-03-30", 31, "2027-02-28", "2027-03-30"),
        ("2027-03-31", 31, "2027-03-31", "2027-04-29"),
        ("2027-04-30", 31, "2027-04-30", "2027-05-30"),
        ("2028-02-28", 31, "2028-01-31", "2028-02-28"),
        ("2028-02-29", 31, "2028-02-29", "2028-03-30"),
        ("2026-12-31", 31, "2026-12-31", "2027-01-30"),
        ("2026-12-30", 31, "2026-11-30", "2026-12-30"),
        # closing days 29 and 30 in February
        ("2027-02-28", 29, "2027-02-28", "2027-03-28"),
        ("2027-02-27", 29, "2027-01-29", "2027-02-27"),
        ("2028-02-29", 29, "2028-02-29", "2028-03-28"),
        ("2028-02-28", 29, "2028-01-29", "2028-02-28"),
        ("2027-02-28", 30, "2027-02-28", "2027-03-29"),
        ("2028-02-29", 30, "2028-02-29", "2028-03-29"),
        ("2028-03-29", 30, "2028-02-29", "2028-03-29"),
        ("2028-03-30", 30, "2028-03-30", "2028-04-29"),
    ],
)
def test_billing_period_holding_a_day(day, closing_day, start, end):
    assert billing_period(D(day), closing_day) == (D(start), D(end))


@pytest.mark.parametrize(
    "year, month, closing_day, expected",
    [
        (2027, 2, 31, "2027-02-28"),
        (2028, 2, 31, "2028-02-29"),
        (2028, 2, 30, "2028-02-29"),
        (2027, 4, 31, "2027-04-30"),
        (2027, 12, 31, "2027-12-31"),
        (2027, 2, 28, "2027-02-28"),
    ],
)
def test_closing_date_past_the_month_end_is_its_last_day(
    year, month, closing_day, expected
):
    assert closing_date(year, month, closing_day) == D(expected)


def test_consecutive_periods_leave_no_gap_for_any_closing_day():
    for closing_day in range(1, 32):
        day = D("2026-11-01")
        end = billing_period(day, closing_day)[1]
        for _ in range(30):
            next_start, next_end = billing_period(end + timedelta(days=1), closing_day)
            assert next_start == end + timedelta(days=1)
            assert next_start <= next_end
            assert next_start.day == min(closing_day, _month_days(next_start))
            end = next_end


def _month_days(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


@pytest.mark.parametrize(
    "total, elapsed, length, expected",
    [
        (1234, 1_684_800, 2_592_000, 1898),  # issue 5: 19.5 of 30 days
        (100, 1, 2, 200),
        (1, 3, 10, 3),  # 3.33 -> 3
        (1, 2, 5, 3),  # 2.5 -> 3, half-up
        (3, 2, 5, 8),  # 7.5 -> 8
        (0, 1000, 2000, 0),
        (50, 2000, 2000, 50),  # the period is over: not extrapolated
        (50, 5000, 2000, 50),
        (0, 0, 2000, 0),  # not started
        (7, -10, 2000, 7),
    ],
)
def test_forecast_arithmetic(total, elapsed, length, expected):
    assert forecast_total(total, elapsed, length) == expected


@pytest.mark.parametrize(
    "amount, shown",
    [
        ("2.34", "2.34"),
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("0.025", "0.03"),  # half-up, not to even
        ("2.344999", "2.34"),
        ("0", "0.00"),
        ("8.98", "8.98"),
    ],
)
def test_money_is_rounded_half_up_to_the_cent(amount, shown):
    assert str(money(Decimal(amount))) == shown


def test_overage_is_never_negative():
    assert (overage(999, 1000), overage(1000, 1000), overage(1234, 1000)) == (0, 0, 234)


@pytest.fixture
def store(db_path):
    init_database(db_path, "+14155550100")
    opened = open_store(db_path)
    yield opened
    opened.close()


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).astimezone(timezone.utc).timestamp())


def test_number_fees_charge_every_number_but_the_main_line(store, monkeypatch):
    store_setting(store, "billing.number_fee", "1.5")
    monkeypatch.setenv("SMSCTL_NOW", "2026-11-10T08:00:00Z")
    add_number(store, "+14155550101")
    add_number(store, "+14155550102", available=False)  # unavailable: still charged
    monkeypatch.setenv("SMSCTL_NOW", "2026-11-20T08:00:00Z")
    remove_number(store, "+14155550102")  # removed mid-period: still charged
    monkeypatch.setenv("SMSCTL_NOW", "2026-12-04T12:00:00Z")
    add_number(store, "+14155550103")
    now = datetime(2026, 12, 4, 12, tzinfo=timezone.utc)

    november = period_figures(store, D("2026-11-15"), now)
    assert (november.fee_numbers, november.number_fee_total) == (2, Decimal("3.0"))
    assert november.as_dict()["number_fee_total"] == "3.00"
    december = period_figures(store, D("2026-12-04"), now)
    assert (december.fee_numbers, december.as_dict()["number_fee_total"]) == (2, "3.00")
    october = period_figures(store, D("2026-10-15"), now)
    assert (october.fee_numbers, october.as_dict()["number_fee_total"]) == (0, "0.00")


def test_a_number_that_left_and_came_back_is_charged_once(store, monkeypatch):
    monkeypatch.setenv("SMSCTL_NOW", "2026-12-01T08:00:00Z")
    add_number(store, "+14155550101")
    monkeypatch.setenv("SMSCTL_NOW", "2026-12-02T08:00:00Z")
    remove_number(store, "+14155550101")
    monkeypatch.setenv("SMSCTL_NOW", "2026-12-03T08:00:00Z")
    add_number(store, "+14155550101")
    assert (
        fee_bearing_numbers(
            store, at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z")
        )
        == 1
    )


def test_fee_window_edges(store, monkeypatch):
    monkeypatch.setenv("SMSCTL_NOW", "2026-11-30T23:59:59Z")
    add_number(store, "+14155550101")
    monkeypatch.setenv("SMSCTL_NOW", "2026-12-01T00:00:00Z")
    add_number(store, "+14155550102")
    remove_number(store, "+14155550101")
    november = (at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"))
    december = (at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))
    assert fee_bearing_numbers(store, *november) == 1  # 102 joined at December's start
    assert fee_bearing_numbers(store, *december) == 2  # 101 was there at 00:00:00


def test_period_bounds_follow_billing_timezone(store):
    store_setting(store, "billing.timezone", "America/Los_Angeles")
    now = datetime(2026, 12, 1, 6, tzinfo=timezone.utc)  # Nov 30, 22:00 in LA
    figures = period_figures(store, D("2026-11-30"), now)
    assert (figures.period_start, figures.period_end) == (
        D("2026-11-01"),
        D("2026-11-30"),
    )
    assert local_midnight(D("2026-11-01"), "America/Los_Angeles") == at(
        "2026-11-01T07:00:00Z"
    )


def test_forecast_uses_seconds_across_a_dst_change(store, tmp_path):
    """November in Los Angeles is 30 days and one hour long (it falls back);
    a quarter of it in seconds, with 10 texts sent, forecasts 40."""
    from smsctl.importing import ImportOptions, import_files
    from tests.twilio_export import spread, write_export

    store_setting(store, "billing.timezone", "America/Los_Angeles")
    store_setting(store, "billing.allotment", "25")
    add_number(store, "+14155550101")
    start, end = at("2026-11-01T07:00:00Z"), at("2026-12-01T08:00:00Z")
    assert end - start == 30 * 86400 + 3600
    now = datetime.fromtimestamp(start + (end - start) // 4, timezone.utc)
    texts = spread("+14155550101", 10, datetime.fromtimestamp(start, timezone.utc), now)
    import_files(store, [write_export(tmp_path / "n.csv", texts)], ImportOptions())
    figures = period_figures(store, D("2026-11-15"), now)
    assert (figures.total_sent, figures.projected_total) == (10, 40)
    assert (figures.projected_overage, figures.as_dict()["projected_charge"]) == (
        15,
        "0.15",
    )
    # one second later the quarter is passed: 10 × 4 × (1 − tiny) still rounds to 40
    later = datetime.fromtimestamp(now.timestamp() + 1, timezone.utc)
    assert period_figures(store, D("2026-11-15"), later).projected_total == 40


def test_history_needs_at_least_one_period(store):
    now = datetime(2026, 12, 4, 12, tzinfo=timezone.utc)
    with pytest.raises(UsageError, match=r"^--history must be from 1 to 600, not 0$"):
        overview_history(store, now, 0)
    assert len(overview_history(store, now, 600)) == 600
