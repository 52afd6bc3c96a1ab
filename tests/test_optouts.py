"""The pool-wide opt-out list: by hand, and from imported logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smsctl.importing import ImportOptions, import_files
from smsctl.numbers import init_database
from smsctl.optouts import (
    add_optout,
    is_opted_out,
    list_optouts,
    opted_out_among,
    remove_optout,
)
from smsctl.store import open_store
from tests.twilio_export import utc

DATA = Path(__file__).parent / "data" / "picking"
NOW = utc("2026-12-04T12:00:00Z")
STOPPED = "+14155557777"  # texted " stop " on 2026-12-03 at 10:00
ASKED_NICELY = "+14155557778"  # texted a sentence with "Stop" in it
CARRIER_OPTED_OUT = "+14155557779"  # a text to it failed with error 21610


@pytest.fixture
def store(db_path):
    init_database(db_path, "+14155550100")
    opened = open_store(db_path)
    yield opened
    opened.close()


def import_export(store, name: str) -> None:
    results = import_files(store, [DATA / name], ImportOptions())
    assert [r.exit_code for r in results] == [0], results


def test_add_and_remove_by_hand(store):
    change = add_optout(store, "(415) 555-0199", NOW)
    assert (change.number, change.opted_out, change.was_opted_out) == (
        "+14155550199",
        True,
        False,
    )
    assert is_opted_out(store, "+14155550199")
    assert list_optouts(store) == [
        {"number": "+14155550199", "source": "manual", "at": "2026-12-04T12:00:00Z"}
    ]
    removed = remove_optout(store, "+14155550199", NOW)
    assert (removed.recorded, removed.was_opted_out) == (True, True)
    assert not is_opted_out(store, "+14155550199")
    assert list_optouts(store) == []


def test_removing_a_contact_not_on_the_list_records_nothing(store):
    change = remove_optout(store, "+14155550199", NOW)
    assert not change.recorded
    assert store.scalar("SELECT count(*) FROM optout_events") == 0


def test_adding_twice_says_it_already_was(store):
    add_optout(store, "+14155550199", NOW)
    assert add_optout(store, "+14155550199", NOW).was_opted_out


def test_stop_keyword_and_opted_out_outcome_opt_out(store):
    import_export(store, "stop_keyword.csv")
    import_export(store, "opted_out_outcome.csv")
    assert is_opted_out(store, STOPPED)
    assert not is_opted_out(store, ASKED_NICELY)
    assert is_opted_out(store, CARRIER_OPTED_OUT)
    assert list_optouts(store) == [
        {"number": STOPPED, "source": "keyword", "at": "2026-12-03T10:00:00Z"},
        {
            "number": CARRIER_OPTED_OUT,
            "source": "opted_out",
            "at": "2026-12-02T16:00:00Z",
        },
    ]
    assert opted_out_among(store, [STOPPED, ASKED_NICELY, CARRIER_OPTED_OUT]) == {
        STOPPED,
        CARRIER_OPTED_OUT,
    }


def test_start_after_stop_opts_back_in(store):
    import_export(store, "stop_keyword.csv")
    import_export(store, "start_keyword.csv")
    assert not is_opted_out(store, STOPPED)


def test_reimported_stop_does_not_undo_a_later_manual_remove(store):
    import_export(store, "stop_keyword.csv")
    remove_optout(store, STOPPED, NOW)
    assert not is_opted_out(store, STOPPED)
    import_export(store, "stop_keyword.csv")
    assert not is_opted_out(store, STOPPED)


def test_stop_imported_later_but_dated_earlier_does_not_undo_a_manual_add(store):
    add_optout(store, STOPPED, NOW)
    import_export(store, "stop_keyword.csv")
    import_export(store, "start_keyword.csv")  # dated before the manual add
    assert is_opted_out(store, STOPPED)


def test_latest_event_wins_even_when_imported_first(store):
    import_export(store, "start_keyword.csv")  # 18:00
    import_export(store, "stop_keyword.csv")  # 10:00, imported after
    assert not is_opted_out(store, STOPPED)


# --- the command ---------------------------------------------------------------


@pytest.fixture
def initialised(cli):
    cli.ok("init", "--main", "+14155550100")
    return cli


def test_optouts_add_remove_list(initialised):
    cli = initialised
    assert cli.ok("optouts", "add", "415-555-0199").stdout == (
        "+14155550199 is opted out.\n"
    )
    assert cli.ok("optouts", "add", "+14155550199").stdout == (
        "+14155550199 is opted out (it already was).\n"
    )
    listed = json.loads(cli.ok("optouts", "list", "--format", "json").stdout)
    assert listed == [
        {"number": "+14155550199", "source": "manual", "at": "2026-12-04T12:00:00Z"}
    ]
    assert cli.ok("optouts", "list", "--format", "csv").stdout == (
        "number,source,at\n+14155550199,manual,2026-12-04T12:00:00Z\n"
    )
    assert cli.ok("optouts", "remove", "+14155550199").stdout == (
        "+14155550199 is no longer opted out.\n"
    )
    assert cli.ok("optouts", "remove", "+14155550199").stdout == (
        "+14155550199 was not opted out; nothing changed.\n"
    )
    assert json.loads(cli.ok("optouts", "list", "--format", "json").stdout) == []
    assert cli.ok("optouts", "list", "--format", "csv").stdout == "number,source,at\n"


def test_optouts_list_as_a_table(initialised):
    initialised.ok("optouts", "add", "+14155550199")
    table = initialised.ok("optouts", "list").stdout
    assert "+14155550199" in table and "manual" in table


def test_optouts_add_of_an_invalid_number_exits_2(initialised):
    result = initialised("optouts", "add", "12")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: phone number '12' is not a valid phone")


def test_optouts_remove_after_imported_stop_lets_picks_through(initialised):
    cli = initialised
    cli.ok("logs", "import", "--quiet", str(DATA / "stop_keyword.csv"))
    assert cli("send-from", "pick", "--to", STOPPED).exit_code == 3
    cli.ok("optouts", "remove", STOPPED)
    cli.ok("logs", "import", "--quiet", str(DATA / "stop_keyword.csv"))
    assert cli("send-from", "pick", "--to", STOPPED).exit_code == 0
