"""config list / get / set: the settings of DESIGN.md, checked before saving."""

from __future__ import annotations

import json
import sqlite3

import pytest

from smsctl.settings import SETTINGS, load_settings, store_setting
from smsctl.store import open_store


def test_config_list_shows_every_setting_with_defaults(pool):
    rows = json.loads(pool.ok("config", "list", "--format", "json").stdout)
    values = {row["key"]: row["value"] for row in rows}
    assert values == {
        "billing.closing_day": "1",
        "billing.allotment": "1000",
        "billing.overage_rate": "0.01",
        "billing.currency": "USD",
        "billing.number_fee": "0",
        "billing.timezone": "UTC",
        "health.window_days": "15",
        "pick.health_floor": "70",
        "pick.health_min_messages": "20",
        "pick.daily_cap": "150",
        "pick.quiet_hours": "21:00-08:00",
        "import.timezone": "UTC",
        "import.wait_seconds": "600",
    }
    assert all(row["help"] for row in rows)
    assert list(rows[0]) == ["key", "value", "default", "help"]


def test_init_sets_both_zones_to_the_machines(cli, monkeypatch):
    monkeypatch.setenv("TZ", "America/Chicago")
    cli.ok("init", "--main", "+14155550100")
    assert cli.ok("config", "get", "billing.timezone").stdout == "America/Chicago\n"
    assert cli.ok("config", "get", "import.timezone").stdout == "America/Chicago\n"


@pytest.mark.parametrize(
    "key, typed, stored",
    [
        ("billing.closing_day", "31", "31"),
        ("billing.allotment", " 2500 ", "2500"),
        ("billing.overage_rate", "0.0075", "0.0075"),
        ("billing.overage_rate", "1e-2", "0.01"),
        ("billing.currency", "eur", "EUR"),
        ("billing.number_fee", "1.15", "1.15"),
        ("billing.number_fee", "1E+1", "10"),
        ("billing.timezone", "America/New_York", "America/New_York"),
        ("health.window_days", "7", "7"),
        ("pick.health_floor", "62.5", "62.5"),
        ("pick.health_min_messages", "0", "0"),
        ("pick.daily_cap", "0", "0"),
        ("pick.quiet_hours", "20:30-07:45", "20:30-07:45"),
        ("import.timezone", "Europe/London", "Europe/London"),
    ],
)
def test_config_set_then_get(pool, key, typed, stored):
    assert pool.ok("config", "set", key, typed).stdout == f"{key} = {stored}\n"
    assert pool.ok("config", "get", key).stdout == f"{stored}\n"


@pytest.mark.parametrize(
    "key, typed, message",
    [
        ("billing.closing_day", "0", "a whole number from 1 to 31, not '0'"),
        ("billing.closing_day", "32", "a whole number from 1 to 31, not '32'"),
        ("billing.closing_day", "last", "a whole number, not 'last'"),
        ("billing.allotment", "-1", "a whole number 0 or more, not '-1'"),
        ("billing.allotment", "1.5", "a whole number, not '1.5'"),
        (
            "billing.overage_rate",
            "a cent",
            "a decimal number such as 0.01, not 'a cent'",
        ),
        ("billing.overage_rate", "-0.01", "a decimal number 0 or more, not '-0.01'"),
        ("billing.overage_rate", "NaN", "a decimal number 0 or more, not 'NaN'"),
        (
            "billing.number_fee",
            "Infinity",
            "a decimal number 0 or more, not 'Infinity'",
        ),
        (
            "billing.currency",
            "dollars",
            "a three-letter currency code such as USD, not 'dollars'",
        ),
        (
            "billing.timezone",
            "Mars/Olympus",
            "an IANA time zone such as America/New_York, not 'Mars/Olympus'",
        ),
        ("health.window_days", "0", "a whole number from 1 to 366, not '0'"),
        ("pick.health_floor", "101", "a decimal number from 0 to 100, not '101'"),
        ("pick.health_min_messages", "many", "a whole number, not 'many'"),
        ("pick.daily_cap", "-5", "a whole number 0 or more, not '-5'"),
        (
            "pick.quiet_hours",
            "9pm-8am",
            "a span HH:MM-HH:MM such as 21:00-08:00, not '9pm-8am'",
        ),
        (
            "pick.quiet_hours",
            "24:00-08:00",
            "a span HH:MM-HH:MM such as 21:00-08:00, not '24:00-08:00'",
        ),
    ],
)
def test_config_set_refuses_bad_values_in_one_line(pool, key, typed, message):
    result = pool("config", "set", key, typed)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {key} must be {message}\n"
    assert pool.ok("config", "get", key).stdout == f"{SETTINGS[key].default}\n"


@pytest.mark.parametrize(
    "args", [["get", "billing.allotmnet"], ["set", "pick.cap", "5"]]
)
def test_unknown_keys_are_refused_listing_the_known_ones(pool, args):
    result = pool("config", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"Error: unknown setting {args[1]!r}; known settings: "
    )
    assert "billing.closing_day, billing.allotment" in result.stderr
    assert result.stderr.count("\n") == 1


def test_config_set_without_a_value_is_a_one_line_usage_error(pool):
    result = pool("config", "set", "billing.allotment")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: Missing argument 'VALUE'. (see 'smsctl config set --help')\n"
    )


def test_settings_are_typed_on_reading(pool, db_path):
    pool.ok("config", "set", "billing.overage_rate", "0.015")
    settings = load_settings(open_store(db_path))
    assert str(settings["billing.overage_rate"]) == "0.015"
    assert settings["billing.closing_day"] == 1


def _tallies_match_messages(db_path) -> bool:
    conn = sqlite3.connect(db_path)
    tallies = sorted(conn.execute("SELECT number, day, detail, n FROM tallies"))
    grouped = sorted(
        conn.execute(
            "SELECT from_number, local_day, detail, count(*) FROM messages "
            "WHERE outbound = 1 GROUP BY 1, 2, 3"
        )
    )
    conn.close()
    return tallies == grouped


def test_changing_billing_timezone_re_dates_tallies(pool, db_path, tmp_path):
    from tests.twilio_export import Text, utc, write_export

    texts = [
        # 2026-12-03 23:30 in New York, 2026-12-04 in UTC
        Text("+14155550101", "+12125550001", utc("2026-12-04T04:30:00Z")),
        Text("+14155550101", "+12125550002", utc("2026-12-04T05:30:00Z")),
        Text(
            "+14155550102", "+12125550003", utc("2026-12-04T04:59:59Z"), "blocked_spam"
        ),
        Text("+14155550102", "+12125550004", utc("2026-12-02T12:00:00Z"), "failed"),
    ]
    pool.ok("logs", "import", "--quiet", str(write_export(tmp_path / "d.csv", texts)))
    since = ["numbers", "list", "--since", "2026-12-04", "--format", "json"]

    def sent_since_dec_4() -> dict:
        rows = json.loads(pool.ok(*since).stdout)
        return {row["number"]: row["total_sent"] for row in rows}

    assert sent_since_dec_4()["+14155550101"] == 2
    assert sent_since_dec_4()["+14155550102"] == 1
    pool.ok("config", "set", "billing.timezone", "America/New_York")
    assert _tallies_match_messages(db_path)
    assert sent_since_dec_4()["+14155550101"] == 1
    assert sent_since_dec_4()["+14155550102"] == 0
    pool.ok("config", "set", "billing.timezone", "Asia/Tokyo")
    assert _tallies_match_messages(db_path)
    pool.ok("config", "set", "billing.timezone", "UTC")
    assert _tallies_match_messages(db_path)
    assert sent_since_dec_4() == {
        "+14155550100": 0,
        "+14155550101": 2,
        "+14155550102": 1,
        "+14155550103": 0,
    }


def test_timezone_change_returns_how_many_messages_moved(pool, db_path, tmp_path):
    from tests.twilio_export import Text, utc, write_export

    texts = [Text("+14155550101", "+12125550001", utc("2026-12-04T04:30:00Z"))]
    pool.ok("logs", "import", "--quiet", str(write_export(tmp_path / "d.csv", texts)))
    store = open_store(db_path)
    from smsctl.tallies import rebuild_local_days

    with store.transaction() as conn:
        assert rebuild_local_days(conn, "America/New_York") == 1
        assert rebuild_local_days(conn, "America/Chicago") == 0
    store.close()
    assert store_setting(open_store(db_path), "billing.timezone", "UTC") == "UTC"
    assert _tallies_match_messages(db_path)


def test_timezone_change_waits_for_a_running_import(pool, db_path):
    from smsctl.importing.lock import import_lock

    pool.ok("config", "set", "import.wait_seconds", "0")
    with import_lock(db_path, 0, "smsctl logs import big.csv"):
        result = pool("config", "set", "billing.timezone", "America/New_York")
        other = pool("config", "set", "billing.allotment", "900")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: another import holds {db_path}.import-lock"
    )
    assert pool.ok("config", "get", "billing.timezone").stdout == "UTC\n"
    assert other.exit_code == 0  # other settings do not wait
