"""smsctl drips: adding, listing, pausing, resuming and ending campaigns."""

from __future__ import annotations

import json

import pytest

from smsctl.drips import add_drip, change_drip_status, list_drips
from smsctl.errors import RuleError, UsageError
from smsctl.store import open_store


def drips(cli) -> list[dict]:
    return json.loads(cli.ok("drips", "list", "--format", "json").stdout)


def test_drip_lifecycle(pool):
    assert pool.ok(
        "drips", "add", "Spring open house", "--from", "415-555-0101"
    ).stdout == ("Drip #1 'Spring open house' is active on +14155550101.\n")
    assert drips(pool) == [
        {
            "id": 1,
            "name": "Spring open house",
            "number": "+14155550101",
            "status": "active",
            "created_at": "2026-12-04T12:00:00Z",
        }
    ]
    assert pool.ok("drips", "pause", "1").stdout == (
        "Drip #1 'Spring open house' is paused.\n"
    )
    assert pool.ok("drips", "resume", "1").stdout == (
        "Drip #1 'Spring open house' is active.\n"
    )
    assert pool.ok("drips", "pause", "1").stdout.endswith("is paused.\n")
    assert (
        pool.ok("drips", "end", "1").stdout == "Drip #1 'Spring open house' is ended.\n"
    )
    assert drips(pool)[0]["status"] == "ended"


@pytest.mark.parametrize(
    "steps, verb, message",
    [
        (
            [],
            "resume",
            "drip #1 'Spring' is active; only a drip that is paused can be resumed",
        ),
        (
            ["pause"],
            "pause",
            "drip #1 'Spring' is paused; only a drip that is active can be paused",
        ),
        (
            ["end"],
            "resume",
            "drip #1 'Spring' is ended; only a drip that is paused can be resumed",
        ),
        (
            ["end"],
            "pause",
            "drip #1 'Spring' is ended; only a drip that is active can be paused",
        ),
        (
            ["end"],
            "end",
            "drip #1 'Spring' is ended; "
            "only a drip that is active or paused can be ended",
        ),
    ],
)
def test_invalid_transitions_are_refused_with_exit_1(pool, steps, verb, message):
    pool.ok("drips", "add", "Spring", "--from", "+14155550101")
    for step in steps:
        pool.ok("drips", step, "1")
    before = drips(pool)
    result = pool("drips", verb, "1")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"
    assert drips(pool) == before


@pytest.mark.parametrize("verb", ["pause", "resume", "end"])
@pytest.mark.parametrize("drip_id", ["7", "0", "99999999999999999999"])
def test_unknown_drip_id_is_bad_usage(pool, verb, drip_id):
    pool.ok("drips", "add", "Spring", "--from", "+14155550101")
    result = pool("drips", verb, drip_id)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: no drip with id {drip_id}; 'smsctl drips list' shows them\n"
    )


def test_drip_id_must_be_a_number(pool):
    result = pool("drips", "pause", "spring")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: Invalid value for 'ID': Input should be a valid integer, unable to "
        "parse string as an integer (see 'smsctl drips pause --help')\n"
    )


def test_drip_needs_a_pool_number(pool):
    result = pool("drips", "add", "Spring", "--from", "+14155550199")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: +14155550199 is not in the pool; add it with "
        "'smsctl numbers add +14155550199'\n"
    )
    pool.ok("numbers", "remove", "+14155550103")
    assert pool("drips", "add", "Spring", "--from", "+14155550103").exit_code == 1
    missing = pool("drips", "add", "Spring")
    assert missing.exit_code == 2
    assert missing.stderr == (
        "Error: Missing option '--from'. (see 'smsctl drips add --help')\n"
    )
    assert drips(pool) == []


def test_drip_on_an_unavailable_number_is_allowed(pool):
    pool.ok("numbers", "unavailable", "+14155550102")
    pool.ok("drips", "add", "Renewals", "--from", "+14155550102")
    assert drips(pool)[0]["number"] == "+14155550102"


def test_blank_drip_name_is_refused(pool):
    result = pool("drips", "add", "   ", "--from", "+14155550101")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: a drip needs a name, e.g. smsctl drips add 'Spring open house' "
        "--from PHONE\n"
    )


def test_drips_list_table_and_csv(pool):
    pool.ok("drips", "add", '=HYPERLINK("x")', "--from", "+14155550101")
    pool.ok("drips", "add", "Renewals", "--from", "+14155550102")
    table = pool.ok("drips", "list").stdout
    assert "Renewals" in table and "+14155550102" in table and "active" in table
    lines = pool.ok("drips", "list", "--format", "csv").stdout.splitlines()
    assert lines == [
        "id,name,number,status,created_at",
        '1,"\'=HYPERLINK(""x"")",+14155550101,active,2026-12-04T12:00:00Z',
        "2,Renewals,+14155550102,active,2026-12-04T12:00:00Z",
    ]
    assert drips(pool)[0]["name"] == '=HYPERLINK("x")'


def test_empty_drips_list_in_every_format(pool):
    assert drips(pool) == []
    assert pool.ok("drips", "list", "--format", "csv").stdout == (
        "id,name,number,status,created_at\n"
    )


def test_drips_domain_calls(pool, db_path):
    store = open_store(db_path)
    drip = add_drip(store, " Follow-up ", "+14155550103")
    assert (drip.name, drip.number, drip.status) == (
        "Follow-up",
        "+14155550103",
        "active",
    )
    assert change_drip_status(store, drip.id, "pause").status == "paused"
    with pytest.raises(RuleError):
        change_drip_status(store, drip.id, "pause")
    with pytest.raises(UsageError):
        change_drip_status(store, drip.id + 1, "end")
    assert [d.status for d in list_drips(store, "paused")] == ["paused"]
    assert list_drips(store, "active") == []
    store.close()
