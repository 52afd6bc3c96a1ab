"""smsctl numbers: the SMS Numbers table, one number's page, and the pool."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from tests.twilio_export import Text, spread, utc, write_export

NOW = utc("2026-12-04T12:00:00Z")  # conftest's SMSCTL_NOW


def load(cli, *args) -> list | dict:
    return json.loads(cli.ok(*args, "--format", "json").stdout)


def by_number(rows: list) -> dict:
    return {row["number"]: row for row in rows}


def import_texts(cli, tmp_path, texts, batch=0):
    path = write_export(tmp_path / f"export{batch}.csv", texts, batch)
    return cli.ok("logs", "import", "--quiet", str(path))


@pytest.fixture
def health_mix(pool, tmp_path):
    """101: 10 delivered, 15 blocked (unhealthy); 102: 25 delivered;
    103: 3 delivered, 2 blocked (too few texts to judge)."""
    day = NOW - timedelta(days=1)
    texts = spread("+14155550101", 10, day, day)
    texts += spread("+14155550101", 15, day, day, "blocked_spam")
    texts += spread("+14155550102", 25, day, day)
    texts += spread("+14155550103", 3, day, day)
    texts += spread("+14155550103", 2, day, day, "blocked_spam")
    # recipients repeat across senders; give each text its own recipient
    texts = [
        Text(t.sender, f"+1646555{i:04d}", t.sent_at, t.detail)
        for i, t in enumerate(texts)
    ]
    import_texts(pool, tmp_path, texts)
    return pool


def test_list_json_has_designs_fields(pool):
    rows = load(pool, "numbers", "list")
    assert rows[0] == {
        "number": "+14155550100",
        "is_main": True,
        "available": True,
        "removed": False,
        "health": None,
        "unhealthy": False,
        "state": "CA",
        "date_added": "2026-12-04",
        "active_drips": 0,
        "total_sent": 0,
        "delivered": 0,
        "undelivered": 0,
        "blocked": 0,
        "undelivered_detail": {
            "failed": 0,
            "opted_out": 0,
            "provider_not_found": 0,
            "line_deactivated": 0,
        },
    }
    assert [row["number"] for row in rows] == [
        "+14155550100",
        "+14155550101",
        "+14155550102",
        "+14155550103",
    ]


def test_list_marks_unhealthy_numbers(health_mix):
    rows = by_number(load(health_mix, "numbers", "list"))
    assert (rows["+14155550101"]["health"], rows["+14155550101"]["unhealthy"]) == (
        40.0,
        True,
    )
    assert (rows["+14155550102"]["health"], rows["+14155550102"]["unhealthy"]) == (
        100.0,
        False,
    )
    assert (rows["+14155550103"]["health"], rows["+14155550103"]["unhealthy"]) == (
        60.0,
        False,
    )
    table = health_mix.ok("numbers", "list").stdout
    lines = {
        number: line
        for line in table.splitlines()
        for number in re.findall(r"\+1415555010\d", line)
    }
    assert "40.0 !" in lines["+14155550101"]
    assert "!" not in lines["+14155550102"] and "!" not in lines["+14155550103"]
    assert "! = unhealthy (below 70 with 20+ delivered or blocked)" in table


def test_list_table_shows_the_columns_and_the_main_line(pool):
    table = pool.ok("numbers", "list").stdout
    header = next(line for line in table.splitlines() if "Available" in line)
    titles = [
        "Available",
        "Health",
        "SMS Number",
        "State/Prov.",
        "Date Added",
        "Active Drips",
        "Total Sent",
        "Delivered",
        "Undelivered",
        "Blocked",
    ]
    positions = [header.index(title) for title in titles]
    assert positions == sorted(positions)
    assert "+14155550100 (main)" in table
    assert "\x1b[" not in table


def test_counts_cover_the_billing_period_unless_widened(pool, tmp_path):
    texts = [
        Text("+14155550101", "+12125550001", utc("2026-12-01T00:00:00Z")),
        Text("+14155550101", "+12125550002", utc("2026-11-30T23:59:59Z")),
        Text("+14155550101", "+12125550003", utc("2026-10-15T12:00:00Z"), "failed"),
    ]
    import_texts(pool, tmp_path, texts)

    def sent(*args) -> int:
        return by_number(load(pool, "numbers", "list", *args))["+14155550101"][
            "total_sent"
        ]

    assert sent() == 1
    assert sent("--since", "2026-11-30") == 2
    assert sent("--all-time") == 3
    table = pool.ok("numbers", "list").stdout
    assert "Counts: 2026-12-01 to 2026-12-31." in table


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--since", "2026-11-01", "--all-time"],
            "use --since DATE or --all-time, not both",
        ),
        (
            ["--since", "2026-13-01"],
            "--since '2026-13-01' is not a date; use YYYY-MM-DD",
        ),
        (["--since", "2026-12-05"], "--since 2026-12-05 is after today (2026-12-04)"),
        (
            ["--format", "xml"],
            "Invalid value for '--format' / '-f': Value error, 'xml' is not one of "
            "'table', 'json', 'csv'. (see 'smsctl numbers list --help')",
        ),
        (
            ["--since"],
            "Option '--since' requires an argument. (see 'smsctl numbers list --help')",
        ),
        (["--bogus"], "No such option: --bogus (see 'smsctl numbers list --help')"),
    ],
)
def test_list_usage_errors_are_one_line_exit_2(pool, args, message):
    result = pool("numbers", "list", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"


def test_removed_number_is_listed_only_with_texts_in_range(pool, tmp_path):
    texts = [Text("+14155550102", "+12125550001", utc("2026-11-20T12:00:00Z"))]
    import_texts(pool, tmp_path, texts)
    pool.ok("numbers", "remove", "+14155550102")
    pool.ok("numbers", "remove", "+14155550103")
    listed = [row["number"] for row in load(pool, "numbers", "list")]
    assert listed == ["+14155550100", "+14155550101"]
    rows = by_number(load(pool, "numbers", "list", "--all-time"))
    assert list(rows) == ["+14155550100", "+14155550101", "+14155550102"]
    removed = rows["+14155550102"]
    assert (removed["removed"], removed["available"], removed["total_sent"]) == (
        True,
        False,
        1,
    )
    table = pool.ok("numbers", "list", "--all-time").stdout
    line = next(line for line in table.splitlines() if "+14155550102" in line)
    assert line.split()[0] == "removed"


def test_list_adds_up_to_the_overview(pool, tmp_path):
    texts = spread(
        "+14155550101", 7, utc("2026-12-01T00:00:00Z"), utc("2026-12-04T11:00:00Z")
    )
    texts += [
        Text("+14155550102", "+13105550001", utc("2026-12-02T00:00:00Z"), "failed"),
        Text("+14155550103", "+13105550002", utc("2026-12-02T00:00:00Z"), "pending"),
        Text("+16505550199", "+13105550003", utc("2026-12-02T00:00:00Z")),  # outside
    ]
    import_texts(pool, tmp_path, texts)
    pool.ok("numbers", "remove", "+14155550102")
    rows = load(pool, "numbers", "list")
    overview = load(pool, "overview")
    assert sum(row["total_sent"] for row in rows) == overview["total_sent"] == 8


def test_removal_keeps_history_and_re_adding_brings_it_back(
    pool, tmp_path, monkeypatch
):
    texts = [
        Text("+14155550101", "+12125550001", utc("2026-12-02T10:00:00Z")),
        Text(
            "+14155550101", "+12125550002", utc("2026-12-02T11:00:00Z"), "blocked_spam"
        ),
    ]
    import_texts(pool, tmp_path, texts)
    assert load(pool, "numbers", "show", "+14155550101")["contacts"] == 2
    pool.ok("numbers", "remove", "+14155550101")
    removed = by_number(load(pool, "numbers", "list", "--all-time"))["+14155550101"]
    assert (removed["removed"], removed["delivered"], removed["blocked"]) == (
        True,
        1,
        1,
    )

    monkeypatch.setenv("SMSCTL_NOW", "2026-12-06T09:00:00Z")
    pool.ok("numbers", "add", "+14155550101")
    back = load(pool, "numbers", "show", "+14155550101", "--all-time")
    assert back["removed"] is False and back["available"] is True
    assert back["date_added"] == "2026-12-06"
    assert (back["delivered"], back["blocked"], back["health"]) == (1, 1, 50.0)
    assert back["contacts"] == 0


def test_re_adding_in_the_same_second_keeps_history(pool, tmp_path):
    texts = [Text("+14155550101", "+12125550001", utc("2026-12-02T10:00:00Z"))]
    import_texts(pool, tmp_path, texts)
    pool.ok("numbers", "remove", "+14155550101")
    pool.ok("numbers", "add", "+14155550101")
    row = by_number(load(pool, "numbers", "list"))["+14155550101"]
    assert (row["removed"], row["total_sent"], row["date_added"]) == (
        False,
        1,
        "2026-12-04",
    )


def test_main_line_cannot_be_removed(pool):
    result = pool("numbers", "remove", "+14155550100")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: +14155550100 is the main line and cannot be removed\n"
    )


def test_unknown_number_is_refused(pool):
    result = pool("numbers", "show", "+14155550199")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: +14155550199 has never been in the pool; add it with "
        "'smsctl numbers add +14155550199'\n"
    )


def test_invalid_phone_is_bad_usage(pool):
    result = pool("numbers", "add", "555-0199")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: phone number '555-0199' is not a valid phone number; give it as "
        "+14155550123 or (415) 555-0123\n"
    )


def test_add_reports_state_and_availability(cli):
    cli.ok("init", "--main", "+14155550100")
    assert cli.ok("numbers", "add", "212 555 0101").stdout == (
        "Added +12125550101 (available).\n"
    )
    assert cli.ok("numbers", "add", "6045550101", "--unavailable").stdout == (
        "Added +16045550101 (unavailable).\n"
    )
    rows = by_number(load(cli, "numbers", "list"))
    assert rows["+12125550101"]["state"] == "NY"
    assert rows["+16045550101"]["state"] == "BC"
    assert rows["+16045550101"]["available"] is False
    result = cli("numbers", "add", "+12125550101")
    assert result.exit_code == 1
    assert result.stderr == "Error: +12125550101 is already in the pool\n"


def test_show_draws_the_trend(pool, tmp_path):
    texts = [
        Text("+14155550101", "+12125550001", utc("2026-11-19T12:00:00Z")),  # too old
        Text("+14155550101", "+12125550002", utc("2026-11-21T12:00:00Z")),
        Text(
            "+14155550101", "+12125550003", utc("2026-11-21T13:00:00Z"), "blocked_spam"
        ),
        Text(
            "+14155550101", "+12125550004", utc("2026-11-21T14:00:00Z"), "blocked_spam"
        ),
        Text("+14155550101", "+12125550005", utc("2026-11-21T15:00:00Z"), "failed"),
        Text("+14155550101", "+12125550006", utc("2026-12-04T11:00:00Z")),
        Text("+14155550101", "+12125550007", utc("2026-12-04T11:30:00Z"), "failed"),
    ]
    import_texts(pool, tmp_path, texts)
    detail = load(pool, "numbers", "show", "+14155550101")
    trend = detail["trend"]
    assert len(trend) == 15
    assert trend[0] == {"date": "2026-11-20", "sent": 0, "blocked": 0, "health": None}
    assert trend[1] == {"date": "2026-11-21", "sent": 4, "blocked": 2, "health": 33.3}
    assert trend[-1] == {"date": "2026-12-04", "sent": 2, "blocked": 0, "health": 100.0}
    assert detail["health"] == 50.0
    assert detail["contacts"] == 7

    table = pool.ok("numbers", "show", "+14155550101").stdout
    assert "\x1b[" not in table
    # Health by day: none, 33.3, ..., 100.
    assert "Health / day      |·▃············█|" in table
    assert "Sent / day        | █            ▅|" in table
    assert "Blocked / day     | █             |" in table
    day = next(
        line for line in table.splitlines() if line.strip().startswith("2026-11-21")
    )
    assert day.split()[1:] == ["4", "2", "33.3", "█" * 15 + "░" * 15]
    last = next(
        line for line in table.splitlines() if line.strip().startswith("2026-12-04")
    )
    assert last.split()[1:] == ["2", "0", "100.0", "█" * 15]
    assert "█ sent, ░ of which blocked" in table


def test_show_lists_drips_and_csv_flattens(pool):
    pool.ok("drips", "add", "Spring open house", "--from", "+14155550101")
    pool.ok("drips", "add", "Renewals", "--from", "+14155550101")
    pool.ok("drips", "end", "2")
    detail = load(pool, "numbers", "show", "+14155550101")
    assert detail["drips"] == [
        {"id": 1, "name": "Spring open house", "status": "active"},
        {"id": 2, "name": "Renewals", "status": "ended"},
    ]
    assert detail["active_drips"] == 1
    table = pool.ok("numbers", "show", "+14155550101").stdout
    assert "#1 Spring open house (active), #2 Renewals (ended)" in table
    csv_text = pool.ok("numbers", "show", "+14155550101", "--format", "csv").stdout
    header = csv_text.splitlines()[0].split(",")
    assert header[:3] == ["number", "is_main", "available"]
    assert "undelivered_failed" in header and "contacts" in header


def test_active_drips_column_counts_active_drips(pool):
    for name in ("A", "B", "C"):
        pool.ok("drips", "add", name, "--from", "+14155550101")
    pool.ok("drips", "add", "D", "--from", "+14155550102")
    pool.ok("drips", "pause", "2")
    pool.ok("drips", "end", "3")
    rows = by_number(load(pool, "numbers", "list"))
    assert {n: r["active_drips"] for n, r in rows.items()} == {
        "+14155550100": 0,
        "+14155550101": 1,
        "+14155550102": 1,
        "+14155550103": 0,
    }


def test_unavailable_number_keeps_its_drips(pool):
    pool.ok("drips", "add", "Spring", "--from", "+14155550101")
    assert pool.ok("numbers", "unavailable", "+14155550101").stdout == (
        "+14155550101 is unavailable; its contacts and drips keep it.\n"
    )
    row = by_number(load(pool, "numbers", "list"))["+14155550101"]
    assert (row["available"], row["active_drips"]) == (False, 1)
    line = next(
        line
        for line in pool.ok("numbers", "list").stdout.splitlines()
        if "+14155550101" in line
    )
    assert line.split()[0] == "[" and line.split()[1] == "]"
    assert pool.ok("numbers", "available", "+14155550101").stdout == (
        "+14155550101 is available.\n"
    )


def test_removal_with_active_drips_is_refused_with_their_list(pool):
    pool.ok("drips", "add", "Spring", "--from", "+14155550101")
    pool.ok("drips", "add", "Fall", "--from", "+14155550101")
    pool.ok("drips", "add", "Winter", "--from", "+14155550101")
    pool.ok("drips", "pause", "3")
    result = pool("numbers", "remove", "+14155550101")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: +14155550101 has active drips (#1 Spring, #2 Fall); end them or use "
        "--reassign-drips-to PHONE\n"
    )
    assert by_number(load(pool, "numbers", "list"))["+14155550101"]["removed"] is False


def test_reassign_drips_moves_them_then_removes(pool):
    pool.ok("drips", "add", "Spring", "--from", "+14155550101")
    pool.ok("drips", "add", "Winter", "--from", "+14155550101")
    pool.ok("drips", "pause", "2")
    result = pool.ok(
        "numbers", "remove", "+14155550101", "--reassign-drips-to", "(415) 555-0102"
    )
    assert result.stdout == (
        "Removed +14155550101; forgot 0 sticky contacts.\n"
        "Moved 2 drips to +14155550102.\n"
    )
    drips = load(pool, "drips", "list")
    assert [(d["number"], d["status"]) for d in drips] == [
        ("+14155550102", "active"),
        ("+14155550102", "paused"),
    ]
    rows = by_number(load(pool, "numbers", "list"))
    assert "+14155550101" not in rows
    assert rows["+14155550102"]["active_drips"] == 1


def test_reassign_to_a_number_outside_the_pool_is_refused(pool):
    pool.ok("drips", "add", "Spring", "--from", "+14155550101")
    result = pool(
        "numbers", "remove", "+14155550101", "--reassign-drips-to", "+14155550199"
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: +14155550199 is not in the pool; add it with "
        "'smsctl numbers add +14155550199'\n"
    )
    assert load(pool, "drips", "list")[0]["number"] == "+14155550101"
