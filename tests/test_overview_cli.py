"""smsctl overview: the period's total, overage, fees, forecast and history."""

from __future__ import annotations

import json

import pytest

from tests.twilio_export import Text, spread, utc, write_export

SENDERS = ("+14155550101", "+14155550102", "+14155550103")


def load(cli, *args, env=None):
    result = cli(*args, "--format", "json", env=env)
    assert result.exit_code == 0, (result.output, result.stderr)
    return json.loads(result.stdout)


def texts_between(count: int, first: str, last: str) -> list[Text]:
    """``count`` texts spread over the three senders and distinct recipients."""
    texts = spread(SENDERS[0], count, utc(first), utc(last))
    return [
        Text(SENDERS[i % 3], f"+1212555{i:04d}", text.sent_at, text.detail)
        for i, text in enumerate(texts)
    ]


def import_texts(cli, tmp_path, texts, batch=0):
    path = write_export(tmp_path / f"export{batch}.csv", texts, batch)
    cli.ok("logs", "import", "--quiet", str(path))


@pytest.fixture
def issue_5(pool, tmp_path):
    """Closing day 15, allotment 1,000, rate 0.01, 1,234 texts sent from
    2026-11-15 to 2026-12-04."""
    pool.ok("config", "set", "billing.closing_day", "15")
    pool.ok("config", "set", "billing.allotment", "1000")
    pool.ok("config", "set", "billing.overage_rate", "0.01")
    texts = texts_between(1234, "2026-11-15T00:00:00Z", "2026-12-04T11:00:00Z")
    texts.append(Text(SENDERS[0], "+13105550001", utc("2026-11-14T23:59:59Z")))
    import_texts(pool, tmp_path, texts)
    return pool


def test_issue_5_example(issue_5):
    overview = load(issue_5, "overview", env={"SMSCTL_NOW": "2026-12-04T12:00:00Z"})
    assert overview == {
        "period_start": "2026-11-15",
        "period_end": "2026-12-14",
        "total_sent": 1234,
        "allotment": 1000,
        "overage": 234,
        "overage_charge": "2.34",
        "currency": "USD",
        "number_fee_total": "0.00",
        # 1,234 × 30 days ÷ 19.5 days = 1,898.46
        "projected_total": 1898,
        "projected_overage": 898,
        "projected_charge": "8.98",
    }


def test_overview_table_shows_each_line(issue_5):
    table = issue_5.ok("overview").stdout
    lines = [" ".join(line.split()) for line in table.splitlines()]
    for expected in [
        "Sent SMS Messages Overview",
        "Billing Period 2026-11-15 to 2026-12-14",
        "Total Messages Sent 1,234 of 1,000",
        "Overage 234",
        "Overage Charge 2.34 USD",
        "Number Fees 0.00 USD",
        "Projected Total 1,898",
        "Projected Overage 898",
        "Projected Charge 8.98 USD",
    ]:
        assert expected in lines
    assert "\x1b[" not in table


def test_number_fees_show_as_their_own_line(issue_5):
    issue_5.ok("config", "set", "billing.number_fee", "2")
    table = issue_5.ok("overview").stdout
    lines = [" ".join(line.split()) for line in table.splitlines()]
    assert "Number Fees 6.00 USD (3 numbers × 2.00)" in lines
    assert load(issue_5, "overview")["number_fee_total"] == "6.00"


def test_money_rounds_half_up_only_when_shown(issue_5):
    issue_5.ok("config", "set", "billing.overage_rate", "0.0125")
    overview = load(issue_5, "overview")
    assert overview["overage_charge"] == "2.93"  # 234 × 0.0125 = 2.925
    assert overview["projected_charge"] == "11.23"  # 898 × 0.0125 = 11.225
    issue_5.ok("config", "set", "billing.number_fee", "0.335")
    assert load(issue_5, "overview")["number_fee_total"] == "1.01"  # 3 × 0.335


def test_period_option_shows_a_past_period_without_forecast(issue_5):
    past = load(issue_5, "overview", "--period", "2026-11-14")
    assert (past["period_start"], past["period_end"]) == ("2026-10-15", "2026-11-14")
    assert (past["total_sent"], past["projected_total"]) == (1, 1)


def test_overview_csv_is_one_row(issue_5):
    lines = issue_5.ok("overview", "--format", "csv").stdout.splitlines()
    assert lines == [
        "period_start,period_end,total_sent,allotment,overage,overage_charge,currency,"
        "number_fee_total,projected_total,projected_overage,projected_charge",
        "2026-11-15,2026-12-14,1234,1000,234,2.34,USD,0.00,1898,898,8.98",
    ]


def test_history_across_closing_day_31_through_february(pool, tmp_path):
    pool.ok("config", "set", "billing.closing_day", "31")
    pool.ok("config", "set", "billing.allotment", "2")
    texts = [
        Text(SENDERS[0], "+12125550001", utc("2026-12-31T00:00:00Z")),
        Text(SENDERS[0], "+12125550002", utc("2027-01-30T23:59:59Z")),
        Text(SENDERS[1], "+12125550003", utc("2027-01-31T00:00:00Z")),
        Text(SENDERS[1], "+12125550004", utc("2027-02-27T12:00:00Z")),
        Text(SENDERS[1], "+12125550005", utc("2027-02-27T13:00:00Z")),
        Text(SENDERS[2], "+12125550006", utc("2027-02-28T00:00:00Z")),
        Text(SENDERS[2], "+12125550007", utc("2027-03-30T23:00:00Z")),
        Text(SENDERS[2], "+12125550008", utc("2027-03-31T00:00:00Z")),
    ]
    import_texts(pool, tmp_path, texts)
    history = load(
        pool, "overview", "--history", "4", env={"SMSCTL_NOW": "2027-03-31T12:00:00Z"}
    )
    assert [
        (h["period_start"], h["period_end"], h["total_sent"], h["overage"])
        for h in history
    ] == [
        ("2027-03-31", "2027-04-29", 1, 0),
        ("2027-02-28", "2027-03-30", 2, 0),
        ("2027-01-31", "2027-02-27", 3, 1),
        ("2026-12-31", "2027-01-30", 2, 0),
    ]
    assert [h["overage_charge"] for h in history] == ["0.00", "0.00", "0.01", "0.00"]
    # past periods are not extrapolated; the current one is (1 text in half a day)
    assert [h["projected_total"] for h in history] == [60, 2, 3, 2]


def test_history_across_a_year_end(pool, tmp_path):
    texts = texts_between(5, "2026-11-30T12:00:00Z", "2026-11-30T13:00:00Z")
    texts += [Text(SENDERS[0], "+13105550001", utc("2026-12-31T23:59:59Z"))]
    texts += [Text(SENDERS[1], "+13105550002", utc("2027-01-01T00:00:00Z"))]
    import_texts(pool, tmp_path, texts)
    env = {"SMSCTL_NOW": "2027-01-10T00:00:00Z"}
    history = load(pool, "overview", "--history", "3", env=env)
    assert [(h["period_start"], h["period_end"], h["total_sent"]) for h in history] == [
        ("2027-01-01", "2027-01-31", 1),
        ("2026-12-01", "2026-12-31", 1),
        ("2026-11-01", "2026-11-30", 5),
    ]
    table = pool("overview", "--history", "3", env=env).stdout
    rows = [line.split() for line in table.splitlines() if line.strip()[:2] == "20"]
    assert [row[:3] for row in rows] == [
        ["2027-01-01", "2027-01-31", "1"],
        ["2026-12-01", "2026-12-31", "1"],
        ["2026-11-01", "2026-11-30", "5"],
    ]
    csv_lines = pool("overview", "--history", "3", "--format", "csv", env=env).stdout
    assert csv_lines.splitlines()[1].startswith("2027-01-01,2027-01-31,1,1000,0,0.00,")


def test_history_with_period_ends_at_that_period(pool):
    history = load(pool, "overview", "--history", "2", "--period", "2026-03-10")
    assert [h["period_start"] for h in history] == ["2026-03-01", "2026-02-01"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--history", "0"], "--history must be from 1 to 600, not 0"),
        (["--history", "601"], "--history must be from 1 to 600, not 601"),
        (
            ["--period", "2026-02-30"],
            "--period '2026-02-30' is not a date; use YYYY-MM-DD",
        ),
        (
            ["--history", "two"],
            "Invalid value for '--history': Input should be a valid integer, unable "
            "to parse string as an integer (see 'smsctl overview --help')",
        ),
    ],
)
def test_overview_usage_errors(pool, args, message):
    result = pool("overview", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"
