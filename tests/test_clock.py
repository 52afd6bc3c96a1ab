"""The clock: SMSCTL_NOW stands in for now, and must carry an offset."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from smsctl.clock import LocalDays, local_midnight, now, parse_date
from smsctl.errors import UsageError


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-04T12:00:00Z", datetime(2026, 12, 4, 12, tzinfo=timezone.utc)),
        ("2026-12-04T04:00:00-08:00", datetime(2026, 12, 4, 12, tzinfo=timezone.utc)),
        ("2026-12-04 17:30:00+05:30", datetime(2026, 12, 4, 12, tzinfo=timezone.utc)),
    ],
)
def test_smsctl_now_stands_in_for_the_current_time(monkeypatch, text, expected):
    monkeypatch.setenv("SMSCTL_NOW", text)
    assert now() == expected


@pytest.mark.parametrize("text", ["2026-12-04T12:00:00", "2026-12-04", "tomorrow"])
def test_smsctl_now_without_an_offset_is_refused(monkeypatch, text):
    monkeypatch.setenv("SMSCTL_NOW", text)
    with pytest.raises(UsageError) as refused:
        now()
    assert str(refused.value) == (
        f"SMSCTL_NOW={text!r} is not an ISO 8601 time with an offset; "
        "use e.g. 2026-12-04T12:00:00Z"
    )


@pytest.mark.parametrize(
    "args",
    [["numbers", "list"], ["overview"], ["config", "list"], ["drips", "list"]],
)
def test_every_command_refuses_smsctl_now_without_offset(pool, args):
    result = pool(*args, env={"SMSCTL_NOW": "2026-12-04T12:00:00"})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: SMSCTL_NOW='2026-12-04T12:00:00' is not an ISO 8601 time with an "
        "offset; use e.g. 2026-12-04T12:00:00Z\n"
    )


def test_local_days_follow_the_zone_across_dst():
    day_of = LocalDays("America/Los_Angeles")
    # Los Angeles falls back from PDT to PST at 2026-11-01 09:00 UTC.
    assert day_of(
        int(datetime(2026, 11, 1, 7, 59, tzinfo=timezone.utc).timestamp())
    ) == ("2026-11-01")
    assert day_of(
        int(datetime(2026, 11, 1, 6, 59, tzinfo=timezone.utc).timestamp())
    ) == ("2026-10-31")
    assert day_of(
        int(datetime(2026, 11, 2, 7, 59, tzinfo=timezone.utc).timestamp())
    ) == ("2026-11-01")
    assert day_of(
        int(datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc).timestamp())
    ) == ("2026-11-02")


def test_local_midnight_is_in_the_zone():
    assert local_midnight(date(2026, 11, 15), "UTC") == 1794700800
    assert (
        local_midnight(date(2026, 11, 15), "America/New_York") == 1794700800 + 5 * 3600
    )


def test_parse_date_names_the_option():
    assert parse_date(" 2028-02-29 ", "--since") == date(2028, 2, 29)
    with pytest.raises(UsageError) as refused:
        parse_date("2027-02-29", "--since")
    assert str(refused.value) == "--since '2027-02-29' is not a date; use YYYY-MM-DD"
