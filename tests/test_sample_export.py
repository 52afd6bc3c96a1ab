"""The bundled Twilio export gives the figures its README lists."""

import json

import pytest

from tests.conftest import SAMPLE_EXPORT

EXPECTED = {
    # number: delivered, failed, opted_out, provider_not_found,
    #         line_deactivated, blocked, health
    "+14155550101": (5, 0, 1, 0, 1, 2, 66.7),
    "+14155550102": (5, 3, 1, 1, 0, 1, 80.0),
    "+14155550103": (4, 0, 0, 0, 0, 3, 50.0),
}


@pytest.fixture
def imported_twice(pool, monkeypatch):
    monkeypatch.setenv("SMSCTL_NOW", "2026-11-30T23:00:00Z")
    first = pool("logs", "import", "--quiet", str(SAMPLE_EXPORT))
    second = pool("logs", "import", "--quiet", str(SAMPLE_EXPORT))
    monkeypatch.setenv("SMSCTL_NOW", "2026-12-01T00:00:00Z")
    return pool, first, second


def test_sample_import_twice_gives_the_listed_figures(imported_twice):
    cli, first, second = imported_twice
    assert first.exit_code == 0 and second.exit_code == 0
    rows = json.loads(
        cli.ok("numbers", "list", "--all-time", "--format", "json").stdout
    )
    by_number = {row["number"]: row for row in rows}
    for number, expected in EXPECTED.items():
        row = by_number[number]
        detail = row["undelivered_detail"]
        got = (
            row["delivered"],
            detail["failed"],
            detail["opted_out"],
            detail["provider_not_found"],
            detail["line_deactivated"],
            row["blocked"],
            row["health"],
        )
        assert got == expected, number
        assert (
            row["total_sent"] == row["delivered"] + row["undelivered"] + row["blocked"]
        )


def test_second_import_of_sample_changes_nothing(imported_twice):
    _, first, second = imported_twice
    assert "31 read, 30 added, 0 updated, 1 unchanged, 0 rejected" in first.stdout
    assert "31 read, 0 added, 0 updated, 31 unchanged, 0 rejected" in second.stdout
