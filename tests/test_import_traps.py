"""What real exports do to data, one fixture and one test per trap."""

from __future__ import annotations

import csv
import itertools
import json
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsctl.importing import ImportOptions, import_files
from smsctl.store import open_store
from tests.conftest import DATA

FIXTURES = DATA / "import"
NOW = "2026-12-04T12:00:00Z"
S1, S2 = "+14155550101", "+14155550102"


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def sid(n: int) -> str:
    return f"SM{n:032x}"


def query(db_path, sql: str, params=()) -> list[tuple]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(sql, params).fetchall()


def stored(db_path) -> dict[str, tuple]:
    """message id -> (from, to, status, error code, detail, sent_at, time source)."""
    return {
        row[0]: row[1:]
        for row in query(
            db_path,
            "SELECT message_id, from_number, to_number, status, error_code, "
            "detail, sent_at, time_source FROM messages",
        )
    }


def listing(cli) -> list[dict]:
    return json.loads(
        cli.ok("numbers", "list", "--all-time", "--format", "json").stdout
    )


def read_rejects(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_byte_order_mark_is_skipped_and_the_header_recognised(pool, db_path):
    result = pool.ok("logs", "import", "--quiet", str(FIXTURES / "bom.csv"))
    assert ": Twilio console CSV, 2 read, 2 added," in result.stdout
    assert set(stored(db_path)) == {sid(201), sid(202)}


def test_crlf_line_ends_are_read_like_lf(pool, db_path):
    pool.ok("logs", "import", "--quiet", str(FIXTURES / "crlf.csv"))
    assert stored(db_path)[sid(202)] == (
        S1,
        "+12125550111",
        "delivered",
        "",
        "delivered",
        at("2026-12-01T10:01:00Z"),
        "sent",
    )
    again = pool.ok("logs", "import", "--quiet", str(FIXTURES / "bom.csv"))
    assert "2 read, 0 added, 0 updated, 2 unchanged" in again.stdout


def test_line_breaks_in_quoted_bodies_keep_physical_line_numbers(
    pool, db_path, tmp_path
):
    rejects = tmp_path / "rejects.csv"
    result = pool(
        "logs",
        "import",
        "--quiet",
        "--rejects",
        str(rejects),
        str(FIXTURES / "quoted_line_breaks.csv"),
    )
    assert result.exit_code == 1
    # The rejected record starts on line 7: the header is line 1, the first
    # record spans lines 2-4 and the second lines 5-6.
    assert result.stderr == (
        f"{FIXTURES / 'quoted_line_breaks.csv'}:7: rejected: " "unknown status 'lost'\n"
    )
    assert read_rejects(rejects) == [
        {
            "file": str(FIXTURES / "quoted_line_breaks.csv"),
            "line": "7",
            "reason": "unknown status 'lost'",
            "raw": '\'+14155550101,+12125550114,"Broken\nrecord",lost,'
            "2026-12-01T10:02:00Z,2010-04-01,1,,AC11111111111111111111111111111111,"
            f"{sid(213)},outbound-api,-0.00790,USD",
        }
    ]
    assert set(stored(db_path)) == {sid(211), sid(212), sid(214)}


def test_windows_1252_file_is_read_as_windows_1252(pool, db_path, tmp_path):
    raw_bytes = (FIXTURES / "cp1252.csv").read_bytes()
    assert "“".encode("cp1252") in raw_bytes and b"\xe2\x80\x9c" not in raw_bytes
    rejects = tmp_path / "rejects.csv"
    result = pool(
        "logs",
        "import",
        "--quiet",
        "--rejects",
        str(rejects),
        str(FIXTURES / "cp1252.csv"),
    )
    assert result.exit_code == 1
    assert set(stored(db_path)) == {sid(221), sid(223)}
    [rejected] = read_rejects(rejects)
    assert rejected["line"] == "3"
    assert ",Résumé “reçu”,lost," in rejected["raw"]


def test_row_with_invalid_utf8_is_rejected_alone(pool, db_path, tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = pool(
        "logs",
        "import",
        "--quiet",
        "--rejects",
        str(rejects),
        str(FIXTURES / "invalid_utf8_row.csv"),
    )
    assert result.exit_code == 1
    assert (
        ": Twilio console CSV, 262 read, 261 added, 0 updated, 0 unchanged, "
        "1 rejected" in result.stdout
    )
    [rejected] = read_rejects(rejects)
    assert (rejected["line"], rejected["reason"]) == (
        "262",
        "holds bytes that are not valid UTF-8",
    )
    assert ",caf\\xe9 \\xff\\xfe,delivered," in rejected["raw"]
    found = stored(db_path)
    assert sid(3600) not in found and sid(3601) in found
    # The rows around it were read as UTF-8, not as Windows-1252.
    assert query(db_path, "SELECT count(*) FROM messages")[0][0] == 261


def test_spreadsheet_mangled_numbers_are_recovered_when_every_digit_survived(
    pool, db_path
):
    result = pool(
        "logs", "import", "--quiet", str(FIXTURES / "spreadsheet_numbers.csv")
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"{FIXTURES / 'spreadsheet_numbers.csv'}:6: rejected: number '1.41556E+10' "
        "lost digits to a spreadsheet's scientific notation\n"
    )
    numbers = {key: value[:2] for key, value in stored(db_path).items()}
    assert numbers == {
        sid(401): (S1, "+12125550120"),  # "+" dropped
        sid(402): (S2, "+12125550121"),  # (415) 555-0102
        sid(403): ("+14155550103", "+12125550122"),  # 415.555.0103, 212-555-0122
        sid(404): (S1, "+12125550123"),  # 1.4155550101E+10
        sid(406): (S2, "+12125550125"),  # ten digits
    }


@pytest.mark.parametrize(
    "settings_, tz, local",
    [
        ([], [], "2026-11-28T09:15:00+00:00"),
        (["America/Los_Angeles"], [], "2026-11-28T09:15:00-08:00"),
        (
            ["America/Los_Angeles"],
            ["--tz", "Asia/Kolkata"],
            "2026-11-28T09:15:00+05:30",
        ),
    ],
)
def test_dates_in_every_form_and_zoneless_ones_in_the_import_zone(
    pool, db_path, settings_, tz, local
):
    for zone_name in settings_:
        pool.ok("config", "set", "import.timezone", zone_name)
    result = pool("logs", "import", "--quiet", *tz, str(FIXTURES / "dates.csv"))
    assert result.exit_code == 1  # 28/11/2026 is no month of any year
    assert result.stderr == (
        f"{FIXTURES / 'dates.csv'}:8: rejected: sent time "
        "'28/11/2026 9:15' is not a time\n"
    )
    times = {key: value[5] for key, value in stored(db_path).items()}
    assert times == {
        sid(501): at("2026-11-30T18:00:00Z"),  # -08:00
        sid(502): at("2026-11-30T18:00:00Z"),  # Z
        sid(503): at("2026-11-30T18:00:00Z"),  # Z with milliseconds
        sid(504): at("2026-11-30T04:30:00Z"),  # a space, +05:30
        sid(505): at("2026-11-30T17:02:11Z"),  # RFC 2822
        sid(506): at(local),  # 11/28/2026 9:15, no zone
    }


OVERLAP = ["overlap_early.csv", "overlap_late.csv", "overlap_other.csv"]
OVERLAP_RESULT = {
    sid(701): (
        S1,
        "+12125550150",
        "delivered",
        "",
        "delivered",
        at("2026-12-01T10:00:00Z"),
        "sent",
    ),
    sid(702): (
        S1,
        "+12125550151",
        "undelivered",
        "30007",
        "blocked_spam",
        at("2026-12-01T10:01:00Z"),
        "sent",
    ),
    sid(703): (
        S2,
        "+12125550152",
        "delivered",
        "",
        "delivered",
        at("2026-12-01T10:02:00Z"),
        "sent",
    ),
    sid(704): (
        S2,
        "+12125550153",
        "delivered",
        "",
        "delivered",
        at("2026-12-01T10:03:00Z"),
        "sent",
    ),
    sid(705): (
        S2,
        "+12125550154",
        "delivered",
        "",
        "delivered",
        at("2026-12-01T10:04:00Z"),
        "sent",
    ),
    sid(706): (
        S1,
        "+12125550155",
        "undelivered",
        "30006",
        "provider_not_found",
        at("2026-12-01T10:05:00Z"),
        "sent",
    ),
}


@pytest.mark.parametrize("order", list(itertools.permutations(OVERLAP)))
def test_same_message_in_several_files_and_statuses_out_of_order(pool, db_path, order):
    for name in order:
        pool("logs", "import", "--quiet", str(FIXTURES / name))
    assert stored(db_path) == OVERLAP_RESULT
    rows = {row["number"]: row for row in listing(pool)}
    assert (
        rows[S1]["delivered"],
        rows[S1]["blocked"],
        rows[S1]["undelivered_detail"]["provider_not_found"],
        rows[S1]["total_sent"],
    ) == (1, 1, 1, 3)
    assert (rows[S2]["delivered"], rows[S2]["total_sent"]) == (3, 3)


def test_a_later_file_updates_pending_and_sent_but_never_a_final_outcome(pool):
    pool.ok("logs", "import", "--quiet", str(FIXTURES / "overlap_early.csv"))
    late = pool.ok("logs", "import", "--quiet", str(FIXTURES / "overlap_late.csv"))
    # 701 queued -> delivered, 702 sent -> undelivered: updated; 703 delivered
    # stays delivered against a later "queued"; 705 is new.
    assert "4 read, 1 added, 2 updated, 1 unchanged, 0 rejected" in late.stdout


def test_a_record_without_an_update_time_stores_none_added_or_merged(pool, db_path):
    # Twilio's console export has no update time; the later file's records of
    # 2bd and 2be win their merges.
    pool.ok("logs", "import", "--quiet", str(FIXTURES / "overlap_early.csv"))
    pool.ok("logs", "import", "--quiet", str(FIXTURES / "overlap_late.csv"))
    assert query(
        db_path,
        "SELECT substr(message_id, -3), status, typeof(updated_at) FROM messages "
        "ORDER BY message_id",
    ) == [
        ("2bd", "delivered", "null"),
        ("2be", "undelivered", "null"),
        ("2bf", "delivered", "null"),
        ("2c0", "sending", "null"),
        ("2c1", "delivered", "null"),
    ]


@pytest.mark.parametrize(
    "order",
    [
        ("telnyx_newer.csv", "telnyx_older.csv"),
        ("telnyx_older.csv", "telnyx_newer.csv"),
    ],
)
def test_between_final_records_the_newer_provider_update_wins(pool, db_path, order):
    for name in order:
        pool.ok("logs", "import", "--quiet", str(FIXTURES / name))
    assert query(
        db_path, "SELECT status, error_code, detail, updated_at FROM " "messages"
    ) == [("delivery_failed", "40002", "blocked_spam", at("2026-12-01T10:05:00Z"))]


ORDER_FILES = [
    *OVERLAP,
    "telnyx_newer.csv",
    "telnyx_older.csv",
    "twilio_console.csv",
    "dates.csv",
    "optouts.csv",
]


def state_after(db: Path, names: list[str]) -> tuple:
    """Import ``names`` in turn into a fresh pool at ``db``; what it then holds."""
    from smsctl.numbers import add_number, init_database

    init_database(db, "+14155550100")
    store = open_store(db)
    for number in (S1, S2, "+14155550103"):
        add_number(store, number)
    for name in names:
        import_files(store, [FIXTURES / name], ImportOptions())
    store.close()
    messages = query(
        db,
        "SELECT provider, message_id, from_number, to_number, "
        "outbound, status, error_code, detail, rank, sent_at, "
        "time_source, local_day, updated_at FROM messages "
        "ORDER BY provider, message_id",
    )
    tallies = query(
        db, "SELECT number, day, detail, n FROM tallies WHERE n > 0 " "ORDER BY 1, 2, 3"
    )
    events = query(
        db,
        "SELECT contact, opted_out, at, source, provider, message_id "
        "FROM optout_events ORDER BY provider, message_id",
    )
    return messages, tallies, events


@pytest.fixture
def reference(tmp_path_factory) -> tuple:
    """The state after importing each file once, in the listed order."""
    db = tmp_path_factory.mktemp("reference") / "smsctl.db"
    return state_after(db, ORDER_FILES)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    order=st.permutations(ORDER_FILES),
    repeats=st.lists(st.sampled_from(ORDER_FILES), max_size=4),
    where=st.integers(min_value=0, max_value=len(ORDER_FILES)),
)
def test_files_in_any_order_any_number_of_times_give_one_result(
    tmp_path_factory, reference, order, repeats, where
):
    names = [*order[:where], *repeats, *order[where:]]
    db = tmp_path_factory.mktemp("order") / "smsctl.db"
    assert state_after(db, names) == reference


def test_order_and_repetition_give_the_same_numbers_listing(cli, tmp_path, monkeypatch):
    listings = []
    for run, names in enumerate(
        [ORDER_FILES, ORDER_FILES[::-1], ORDER_FILES + ORDER_FILES[2::2]]
    ):
        monkeypatch.setenv("SMSCTL_DB", str(tmp_path / f"run{run}.db"))
        cli.ok("init", "--main", "+14155550100")
        for number in (S1, S2, "+14155550103"):
            cli.ok("numbers", "add", number)
        for name in names:
            cli("logs", "import", "--quiet", str(FIXTURES / name))
        listings.append(listing(cli))
    assert listings[0] == listings[1] == listings[2]


def test_one_text_from_outside_the_pool_is_reported_as_one(pool, tmp_path):
    lines = (FIXTURES / "outside_pool.csv").read_text().splitlines()
    outside = [line for line in lines[1:] if line.startswith("+14155550199")]
    export = tmp_path / "one_outside.csv"
    export.write_text("\n".join([lines[0], outside[0]]) + "\n")
    result = pool.ok("logs", "import", "--quiet", str(export))
    assert result.stdout.splitlines()[1] == (
        "  1 text from a number outside the pool was kept and counts once the "
        "number joins: +14155550199"
    )


def test_a_text_from_outside_the_pool_is_reported_beside_repeated_records(
    pool, tmp_path
):
    # The pool's text 323 is listed twice: its second record is stored after
    # the file's other texts, and must not hide the one from outside.
    lines = (FIXTURES / "outside_pool.csv").read_text().splitlines()
    ours = next(line for line in lines if line.startswith(S1))
    export = tmp_path / "outside_and_repeat.csv"
    export.write_text("\n".join([lines[0], lines[1], ours, ours]) + "\n")
    result = pool.ok("logs", "import", "--quiet", str(export))
    assert result.stdout.splitlines() == [
        f"{export}: Twilio console CSV, 3 read, 2 added, 0 updated, 1 unchanged, "
        "0 rejected",
        "  1 text from a number outside the pool was kept and counts once the "
        "number joins: +14155550199",
    ]


def test_texts_from_outside_the_pool_are_kept_reported_and_counted_on_joining(
    pool, db_path
):
    result = pool.ok("logs", "import", "--quiet", str(FIXTURES / "outside_pool.csv"))
    assert result.stdout.splitlines()[1] == (
        "  2 texts from numbers outside the pool were kept and count once the "
        "number joins: +14155550199"
    )
    assert "+14155550199" not in {row["number"] for row in listing(pool)}
    assert len(stored(db_path)) == 4
    pool.ok("numbers", "add", "+14155550199")
    row = {row["number"]: row for row in listing(pool)}["+14155550199"]
    assert (row["delivered"], row["blocked"], row["total_sent"], row["health"]) == (
        1,
        1,
        2,
        50.0,
    )


OPTED_OUT = [
    "+12125551002",
    "+12125551003",
    "+12125551004",
    "+12125551005",
    "+12125551006",
    "+12125551007",
    "+12125551020",
]


def test_opt_out_words_and_outcomes_opt_out_and_start_undoes(pool, db_path):
    pool.ok("logs", "import", "--quiet", str(FIXTURES / "optouts.csv"))
    listed = json.loads(pool.ok("optouts", "list", "--format", "json").stdout)
    assert [row["number"] for row in listed] == OPTED_OUT
    # STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT in any case
    # and with spaces around; "STOP please" and "stopp" are not the word.
    assert query(
        db_path,
        "SELECT contact, opted_out, source FROM optout_events " "ORDER BY at, contact",
    ) == [
        ("+12125551000", 1, "keyword"),
        ("+12125551001", 1, "keyword"),
        ("+12125551002", 1, "keyword"),
        ("+12125551003", 1, "keyword"),
        ("+12125551004", 1, "keyword"),
        ("+12125551005", 1, "keyword"),
        ("+12125551006", 1, "keyword"),
        ("+12125551007", 1, "keyword"),
        ("+12125551020", 1, "opted_out"),
        ("+12125551000", 0, "keyword"),
        ("+12125551001", 0, "keyword"),
    ]


def test_each_imported_event_applies_once_so_a_manual_removal_stands(pool, db_path):
    pool.ok("logs", "import", "--quiet", str(FIXTURES / "optouts.csv"))
    pool.ok("optouts", "remove", "+12125551002")
    events = query(db_path, "SELECT count(*) FROM optout_events")[0][0]
    pool.ok("logs", "import", "--quiet", str(FIXTURES / "optouts.csv"))
    assert query(db_path, "SELECT count(*) FROM optout_events")[0][0] == events
    listed = json.loads(pool.ok("optouts", "list", "--format", "json").stdout)
    assert [row["number"] for row in listed] == OPTED_OUT[1:]


def test_contacts_stick_to_the_pool_number_of_their_earliest_text(pool, db_path):
    pool.ok("logs", "import", "--quiet", str(FIXTURES / "sticky_first.csv"))
    sticky = query(
        db_path,
        "SELECT contact, number, since, source FROM contacts " "ORDER BY contact",
    )
    assert sticky == [
        # the earliest text, even an undelivered one, wherever it is in the file
        ("+12125552000", S1, at("2026-12-01T08:00:00Z"), "import"),
        # the earliest from a pool number: +14155550199 is not in it
        ("+12125552001", "+14155550103", at("2026-12-01T10:00:00Z"), "import"),
        # two texts at the same second: the lower number
        ("+12125552002", S1, at("2026-12-01T09:00:00Z"), "import"),
    ]
    # A later import never changes a contact's number, even with an earlier
    # text; a contact it sees first (one who had only texted in) it makes sticky.
    pool.ok("logs", "import", "--quiet", str(FIXTURES / "sticky_later.csv"))
    assert query(db_path, "SELECT contact, number FROM contacts ORDER BY contact") == [
        ("+12125552000", S1),
        ("+12125552001", "+14155550103"),
        ("+12125552002", S1),
        ("+12125552003", S2),
    ]


def test_a_contact_sticks_to_its_earliest_text_before_1970_too(pool, db_path, tmp_path):
    export = tmp_path / "old_texts.csv"
    rows = [
        ("+14155550103", "1965-01-01T00:00:00Z", "SM01"),
        ("+14155550102", "1960-01-01T00:00:00Z", "SM02"),
        ("+14155550101", "1960-01-01T00:00:01Z", "SM03"),
    ]
    export.write_text(
        "From,To,Body,Status,SentDate,ApiVersion,NumSegments,ErrorCode,"
        "AccountSid,Sid,Direction,Price,PriceUnit\n"
        + "".join(
            f"{sender},+12123000100,Hi,delivered,{sent},2010-04-01,1,,"
            f"AC{'1' * 32},{sid},outbound-api,-0.00790,USD\n"
            for sender, sent, sid in rows
        )
    )
    pool.ok("logs", "import", "--quiet", str(export))
    assert query(db_path, "SELECT contact, number, since, source FROM contacts") == [
        ("+12123000100", S2, at("1960-01-01T00:00:00+00:00"), "import")
    ]
