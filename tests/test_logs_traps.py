"""What real exports do to data, and what `logs import` must make of it.

Byte-order marks, CRLF, line breaks inside quoted bodies, spreadsheet
re-saves (Windows-1252, mangled numbers), every date form, overlapping
files, statuses out of order, numbers outside the pool, opt-out keywords,
broken files and bad rows. Black-box, through the CLI only.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
from datetime import datetime
from pathlib import Path

import pytest

from bench.generate import HEADER
from tests.cli_reading import dump, history, opted_out

LOGS = Path(__file__).parent / "data" / "logs"
MAP = "id=MessageId,from=Sender,to=Recipient,status=State,sent_at=Time,direction=Way"
POOL = ("+14155550100", "+14155550101", "+14155550102", "+14155550103")

CONSOLE_HEADER = HEADER
ACCOUNT = "AC" + "5e1f" * 8


def sid(number: int) -> str:
    return f"SM{number:032x}"


def console_row(
    message: int,
    sender: str,
    recipient: str,
    status: str = "delivered",
    sent: str = "2026-11-28T17:00:00Z",
    error: str = "",
    body: str = "See you at the open house.",
    direction: str = "outbound-api",
) -> list[str]:
    return [
        sender,
        recipient,
        body,
        status,
        sent,
        "2010-04-01",
        "1",
        error,
        ACCOUNT,
        sid(message),
        direction,
        "-0.00790",
        "USD",
    ]


def console_bytes(rows: list[list[str]], newline: str = "\r\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(CONSOLE_HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_console(path: Path, rows: list[list[str]], newline: str = "\r\n") -> Path:
    path.write_bytes(console_bytes(rows, newline))
    return path


def listed(cli, *window: str) -> dict[str, dict]:
    window = window or ("--all-time",)
    result = cli.ok("numbers", "list", *window, "--format", "json")
    return {row["number"]: row for row in json.loads(result.stdout)}


def tally(row: dict) -> dict[str, int]:
    """The non-zero counts of one number, by detail; {} when nothing counted."""
    assert row["total_sent"] == row["delivered"] + row["undelivered"] + row["blocked"]
    counts = {
        "delivered": row["delivered"],
        "blocked_spam": row["blocked"],
        **row["undelivered_detail"],
    }
    return {detail: count for detail, count in counts.items() if count}


def tallies(cli) -> dict[str, dict[str, int]]:
    """Non-zero tallies of the numbers that sent anything, all time."""
    return {number: tally(row) for number, row in listed(cli).items() if tally(row)}


def import_(cli, *args: str, env: dict | None = None):
    return cli("logs", "import", "--quiet", *args, env=env)


def rejected_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if ": rejected: " in line]


# --- byte-order mark, CRLF, quoted line breaks ---------------------------------

BOM = b"\xef\xbb\xbf"
FIXTURES = [
    ("twilio_console.csv", []),
    ("twilio_page.json", []),
    ("twilio_lines.jsonl", []),
    ("telnyx_mdr.csv", []),
    ("plivo_records.csv", []),
    ("generic_mapped.csv", ["--map", MAP]),
]
FIXTURE_TALLIES = {
    "+14155550101": {"delivered": 2, "blocked_spam": 1, "opted_out": 1},
    "+14155550102": {"failed": 1, "provider_not_found": 1, "line_deactivated": 1},
    "+14155550103": {"delivered": 1},
}


@pytest.mark.parametrize("with_bom", [True, False], ids=["bom", "no-bom"])
@pytest.mark.parametrize(("fixture", "extra"), FIXTURES, ids=[f for f, _ in FIXTURES])
def test_byte_order_mark_is_read_past_in_every_format(
    pool, tmp_path, fixture, extra, with_bom
):
    content = (LOGS / fixture).read_bytes().removeprefix(BOM)
    path = tmp_path / fixture
    path.write_bytes(BOM + content if with_bom else content)

    result = import_(pool, str(path), *extra)

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert tallies(pool) == FIXTURE_TALLIES
    assert opted_out(pool) == ["+12125550143"]


@pytest.mark.parametrize("row_end", ["\r\n", "\n", "\r\n-everywhere"])
def test_crlf_and_lf_row_ends_import_alike(pool, tmp_path, row_end):
    content = (LOGS / "twilio_console.csv").read_bytes()
    lf = content.replace(b"\r\n", b"\n")
    content = {
        "\r\n": content,  # CRLF row ends, LF inside the quoted body
        "\n": lf,
        "\r\n-everywhere": lf.replace(b"\n", b"\r\n"),
    }[row_end]
    path = tmp_path / "console.csv"
    path.write_bytes(content)

    result = import_(pool, str(path))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert tallies(pool) == FIXTURE_TALLIES
    assert history(pool)[0]["rows_read"] == 10


QUOTED_BREAKS = [
    # physical line: content
    ",".join(CONSOLE_HEADER),  # 1
    f"+14155550101,+12125550140,Single line,delivered,2026-11-28T17:00:00Z,"
    f"2010-04-01,1,,{ACCOUNT},{sid(1)},outbound-api,-0.00790,USD",  # 2
    '+14155550101,+12125550141,"Line one',  # 3
    "line two, with a comma",  # 4
    f'line ""three""",delivered,2026-11-28T17:01:00Z,2010-04-01,1,,{ACCOUNT},'
    f"{sid(2)},outbound-api,-0.00790,USD",  # 5
    f"+14155550101,+12125550142,Bad status,exploded,2026-11-28T17:02:00Z,"
    f"2010-04-01,1,,{ACCOUNT},{sid(3)},outbound-api,-0.00790,USD",  # 6: rejected
    '+14155550102,+13105550150,"Two',  # 7
    f'lines",delivered,2026-11-28T17:03:00Z,2010-04-01,1,,{ACCOUNT},{sid(4)},'
    "outbound-api,-0.00790,USD",  # 8
    '+14155550102,+13105550151,"A bad record',  # 9: rejected, starts here
    'over two lines",exploded,2026-11-28T17:04:00Z,2010-04-01,1,,'
    f"{ACCOUNT},{sid(5)},outbound-api,-0.00790,USD",  # 10
    f"+14155550103,+16465550170,Last,undelivered,2026-11-28T17:05:00Z,"
    f"2010-04-01,1,30007,{ACCOUNT},{sid(6)},outbound-api,-0.00790,USD",  # 11
]


@pytest.mark.parametrize("row_end", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_reject_names_the_physical_line_where_a_multiline_record_starts(
    pool, tmp_path, row_end
):
    path = tmp_path / "breaks.csv"
    path.write_bytes((row_end.join(QUOTED_BREAKS) + row_end).encode("utf-8"))

    result = import_(pool, str(path))

    assert result.exit_code == 1
    assert [line.split(": rejected: ")[0] for line in rejected_lines(result)] == [
        f"{path}:6",
        f"{path}:9",
    ]
    assert tallies(pool) == {
        "+14155550101": {"delivered": 2},
        "+14155550102": {"delivered": 1},
        "+14155550103": {"blocked_spam": 1},
    }
    [entry] = history(pool)
    assert (entry["rows_read"], entry["added"], entry["rejected"]) == (6, 4, 2)


# --- files re-saved by a spreadsheet -------------------------------------------


def test_windows_1252_file_imports_whole(pool, tmp_path):
    invitation = "Café “Le Jardin” at 8"
    rows = [
        console_row(1, "+14155550101", "+12125550140", body=invitation),
        console_row(
            2, "+14155550101", "+12125550141", body="It’s confirmed – à bientôt"
        ),
        console_row(3, "+14155550102", "+13105550150", "undelivered", error="30007"),
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([CONSOLE_HEADER, *rows])
    path = tmp_path / "resaved.csv"
    path.write_bytes(buffer.getvalue().encode("cp1252"))

    result = import_(pool, str(path))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    assert tallies(pool) == {
        "+14155550101": {"delivered": 2},
        "+14155550102": {"blocked_spam": 1},
    }


def test_windows_1252_header_names_match_a_map(pool, tmp_path):
    export = (
        "Réf,Expéditeur,Destinataire,État,Date\r\n"
        "r-1,+14155550101,+12125550140,delivered,2026-11-28T17:00:00Z\r\n"
    )
    path = tmp_path / "crm.csv"
    path.write_bytes(export.encode("cp1252"))
    mapping = "id=Réf,from=Expéditeur,to=Destinataire,status=État,sent_at=Date"

    result = import_(pool, "--map", mapping, str(path))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert tallies(pool) == {"+14155550101": {"delivered": 1}}


KIB_64 = 64 * 1024


def utf8_then_bad_row(path: Path, straddle: bool) -> Path:
    """800 good UTF-8 rows (over 64 KiB), then one row holding Windows-1252
    bytes (line 802), then two good rows. With ``straddle``, an ``é`` sits
    across the 64 KiB mark; otherwise the only non-ASCII text is on line 2."""
    filler = "Filler text so that the first 64 KiB of the file are read. " * 2
    rows = [
        console_row(n, "+14155550101", f"+1212555{n:04d}", body=filler)
        for n in range(1, 801)
    ]
    rows[0][2] = "Première visite à 10h"
    head = console_bytes(rows)
    if straddle:
        for row in rows[1:]:
            row[2] = "é " + filler
        head = console_bytes(rows)
        last_inside = head.rindex("é".encode(), 0, KIB_64)
        rows[0][2] += "x" * (KIB_64 - 1 - last_inside)  # push that é across
        head = console_bytes(rows)
        assert head[KIB_64 - 1 : KIB_64 + 1] == "é".encode()
    assert len(head) > KIB_64
    bad = console_bytes([console_row(900, "+14155550102", "+13105550150")])
    bad = bad.split(b"\r\n", 1)[1].replace(b"See you", b"Caf\xe9 \x93you\x94")
    tail = console_bytes(
        [
            console_row(901, "+14155550103", "+16465550170"),
            console_row(902, "+14155550103", "+16465550171"),
        ]
    ).split(b"\r\n", 1)[1]
    path.write_bytes(head + bad + tail)
    return path


@pytest.mark.parametrize(
    "straddle", [False, True], ids=["ascii-at-64k", "multibyte-across-64k"]
)
def test_invalid_bytes_in_a_utf8_file_reject_that_row_alone(pool, tmp_path, straddle):
    path = utf8_then_bad_row(tmp_path / "mixed.csv", straddle)

    result = import_(pool, str(path))

    assert result.exit_code == 1
    [line] = rejected_lines(result)
    assert line.startswith(f"{path}:802: rejected: ")
    assert tallies(pool) == {
        "+14155550101": {"delivered": 800},
        "+14155550103": {"delivered": 2},
    }
    [entry] = history(pool)
    assert (entry["rows_read"], entry["added"], entry["rejected"]) == (803, 802, 1)


@pytest.mark.parametrize(
    ("sender", "recipient", "expected_sender"),
    [
        ("+14155550101", "+12125550140", "+14155550101"),
        ("14155550101", "12125550140", "+14155550101"),
        ("(415) 555-0103", "(212) 555-0140", "+14155550103"),
        ("415-555-0102", "2125550140", "+14155550102"),
        ("+1 (415) 555-0101", "+1 212 555 0140", "+14155550101"),
        ("1.4155550101E+10", "1.2125550140E+10", "+14155550101"),
        ("1.4155550103e+10", "12125550140", "+14155550103"),
    ],
)
def test_spreadsheet_mangled_numbers_are_recovered_when_all_digits_survive(
    pool, tmp_path, sender, recipient, expected_sender
):
    row = console_row(1, sender, recipient, "failed", error="21610")
    path = write_console(tmp_path / "resaved.csv", [row])

    result = import_(pool, str(path))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert tallies(pool) == {expected_sender: {"opted_out": 1}}
    assert opted_out(pool) == ["+12125550140"]


@pytest.mark.parametrize(
    ("sender", "recipient"),
    [
        ("1.41556E+10", "+12125550140"),
        ("+14155550101", "1.21256E+10"),
    ],
)
def test_spreadsheet_mangled_numbers_with_lost_digits_reject_the_row(
    pool, tmp_path, sender, recipient
):
    rows = [
        console_row(1, sender, recipient),
        console_row(2, "+14155550102", "+13105550150"),
    ]
    path = write_console(tmp_path / "resaved.csv", rows)

    result = import_(pool, str(path))

    assert result.exit_code == 1
    [line] = rejected_lines(result)
    assert line.startswith(f"{path}:2: rejected: ")
    assert tallies(pool) == {"+14155550102": {"delivered": 1}}


# --- dates ---------------------------------------------------------------------


def trend_days_with_texts(cli, number: str = "+14155550101") -> list[str]:
    shown = json.loads(cli.ok("numbers", "show", number, "--format", "json").stdout)
    return [day["date"] for day in shown["trend"] if day["sent"]]


@pytest.mark.parametrize(
    ("sent", "import_timezone", "tz", "day"),
    [
        ("2026-11-30T10:00:00.123Z", None, None, "2026-11-30"),
        ("2026-11-30T23:59:59.999Z", None, None, "2026-11-30"),
        ("2026-11-30T10:00:00+00:00", None, None, "2026-11-30"),
        ("2026-11-30 10:00:00+05:30", None, None, "2026-11-30"),
        ("2026-11-30 02:00:00+05:30", None, None, "2026-11-29"),
        ("2026-11-30 02:00:00+05:30", None, "America/Chicago", "2026-11-29"),
        ("2026-11-29T20:00:00-08:00", None, None, "2026-11-30"),
        ("Mon, 30 Nov 2026 10:00:00 +0000", None, None, "2026-11-30"),
        ("Mon, 30 Nov 2026 20:00:00 -0500", None, None, "2026-12-01"),
        ("11/28/2026 9:15", None, None, "2026-11-28"),
        ("11/28/2026 9:15", "Pacific/Auckland", None, "2026-11-27"),
        ("11/28/2026 19:15", None, "America/Chicago", "2026-11-29"),
        ("11/28/2026 19:15", "America/Chicago", None, "2026-11-29"),
        ("11/28/2026 9:15", "Pacific/Auckland", "America/Chicago", "2026-11-28"),
        ("2026-11-28 21:00:00", "America/Chicago", None, "2026-11-29"),
    ],
)
def test_dates_in_every_form_land_on_the_right_day(
    pool, tmp_path, sent, import_timezone, tz, day
):
    if import_timezone:
        pool.ok("config", "set", "import.timezone", import_timezone)
    path = write_console(
        tmp_path / "dated.csv",
        [console_row(1, "+14155550101", "+12125550140", sent=sent)],
    )
    extra = ["--tz", tz] if tz else []

    result = import_(pool, str(path), *extra)

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert trend_days_with_texts(pool) == [day]


@pytest.mark.parametrize(
    ("tz", "health"),
    [(None, None), ("America/Chicago", 100.0)],
    ids=["utc-just-outside-window", "chicago-just-inside-window"],
)
def test_zoneless_time_is_read_in_the_import_zone_to_the_hour(
    pool, tmp_path, tz, health
):
    # The health window is (2026-11-19T12:00Z, 2026-12-04T12:00Z]; 9:15 in
    # Chicago is 15:15Z, inside it; 9:15 UTC is outside.
    row = console_row(1, "+14155550101", "+12125550140", sent="11/19/2026 9:15")
    path = write_console(tmp_path / "edge.csv", [row])

    import_(pool, str(path), *(["--tz", tz] if tz else []))

    number = listed(pool)["+14155550101"]
    assert (number["delivered"], number["health"]) == (1, health)


@pytest.mark.parametrize(
    ("tz", "since_29th"), [(None, 0), ("America/Chicago", 1)], ids=["utc", "chicago"]
)
def test_zoneless_time_decides_which_days_count(pool, tmp_path, tz, since_29th):
    row = console_row(1, "+14155550101", "+12125550140", sent="11/28/2026 19:15")
    path = write_console(tmp_path / "evening.csv", [row])

    import_(pool, str(path), *(["--tz", tz] if tz else []))

    since = listed(pool, "--since", "2026-11-29")["+14155550101"]
    assert since["total_sent"] == since_29th
    assert listed(pool, "--since", "2026-11-28")["+14155550101"]["total_sent"] == 1


def test_unknown_tz_is_a_usage_error(pool, db_path):
    before = dump(db_path)

    result = import_(pool, "--tz", "Mars/Olympus", str(LOGS / "twilio_console.csv"))

    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert dump(db_path) == before


# --- overlapping files and statuses out of order -------------------------------


def test_same_message_in_two_files_is_counted_once(pool, tmp_path):
    first = LOGS / "twilio_console.csv"
    header, *records = first.read_bytes().removeprefix(BOM).split(b"\r\n")
    delivered, blocked, last = records[0], records[2], records[9]
    assert [sid(0xF00001), sid(0xF00003), sid(0xF00010)] == [
        record.split(b",")[9].decode() for record in (delivered, blocked, last)
    ]
    new = console_bytes([console_row(0xF00011, "+14155550103", "+16465550171")])
    second = tmp_path / "overlap.csv"
    second.write_bytes(
        b"\r\n".join([header, delivered, blocked, last])
        + b"\r\n"
        + new.split(b"\r\n", 1)[1]
    )

    pool.ok("logs", "import", "--quiet", str(first))
    result = import_(pool, str(second))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert tallies(pool) == {**FIXTURE_TALLIES, "+14155550103": {"delivered": 2}}
    last_import = history(pool)[-1]
    assert (
        last_import["rows_read"],
        last_import["added"],
        last_import["updated"],
        last_import["unchanged"],
    ) == (4, 1, 0, 3)


def records_in_files(tmp_path: Path, rows: list[list[str]], together: bool):
    """The rows as one file (in order), or as one file per row."""
    if together:
        return [write_console(tmp_path / "both.csv", rows)]
    return [
        write_console(tmp_path / f"part{index}.csv", [row])
        for index, row in enumerate(rows)
    ]


DELIVERED = console_row(1, "+14155550101", "+12125550140", "delivered")
QUEUED = console_row(1, "+14155550101", "+12125550140", "queued", sent="")
SENT = console_row(1, "+14155550101", "+12125550140", "sent")
BLOCKED = console_row(1, "+14155550101", "+12125550140", "undelivered", error="30007")


@pytest.mark.parametrize("together", [True, False], ids=["one-file", "two-files"])
@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([DELIVERED, QUEUED], {"delivered": 1}),
        ([QUEUED, DELIVERED], {"delivered": 1}),
        ([SENT, BLOCKED], {"blocked_spam": 1}),
        ([BLOCKED, SENT], {"blocked_spam": 1}),
        ([QUEUED, SENT], {"delivered": 1}),
        ([SENT, QUEUED], {"delivered": 1}),
    ],
    ids=[
        "delivered-then-queued",
        "queued-then-delivered",
        "sent-then-blocked",
        "blocked-then-sent",
        "queued-then-sent",
        "sent-then-queued",
    ],
)
def test_a_higher_ranked_status_wins_whatever_the_order(
    pool, tmp_path, records, expected, together
):
    for path in records_in_files(tmp_path, records, together):
        result = import_(pool, str(path))
        assert result.exit_code == 0, (result.stdout, result.stderr)

    assert tallies(pool) == {"+14155550101": expected}


def twilio_line(status: str, error_code: int | None, updated: str) -> str:
    return json.dumps(
        {
            "sid": sid(7),
            "from": "+14155550101",
            "to": "+12125550140",
            "body": "Your policy documents are attached.",
            "status": status,
            "error_code": error_code,
            "direction": "outbound-api",
            "date_created": "2026-11-28T16:59:58Z",
            "date_sent": "2026-11-28T17:00:00Z",
            "date_updated": updated,
        }
    )


def telnyx_mdr(status: str, errors: str, completed: str) -> str:
    return (
        "uuid,created_at,sent_at,completed_at,direction,cli,cld,status,errors\n"
        "0c9f5e1d-0000-4000-8000-0000000000e1,2026-11-28T16:59:58+00:00,"
        f"2026-11-28T17:00:00+00:00,{completed},outbound,+14155550101,"
        f"+12125550140,{status},{errors}\n"
    )


# Two final records of one message; the one updated later wins.
EQUAL_RANKS = {
    "twilio-failed-later": (
        [
            twilio_line("delivered", None, "2026-11-28T17:00:05Z"),
            twilio_line("undelivered", 30003, "2026-11-28T17:10:00Z"),
        ],
        "jsonl",
        {"failed": 1},
    ),
    "twilio-delivered-later": (
        [
            twilio_line("delivered", None, "2026-11-28T17:10:00Z"),
            twilio_line("undelivered", 30003, "2026-11-28T17:00:05Z"),
        ],
        "jsonl",
        {"delivered": 1},
    ),
    "telnyx-blocked-later": (
        [
            telnyx_mdr("delivered", "", "2026-11-28T17:00:05+00:00"),
            telnyx_mdr("delivery_failed", "40002", "2026-11-28T18:00:00+00:00"),
        ],
        "csv",
        {"blocked_spam": 1},
    ),
    "telnyx-delivered-later": (
        [
            telnyx_mdr("delivered", "", "2026-11-28T18:00:00+00:00"),
            telnyx_mdr("delivery_failed", "40002", "2026-11-28T17:00:05+00:00"),
        ],
        "csv",
        {"delivered": 1},
    ),
}


@pytest.mark.parametrize("reverse", [False, True], ids=["as-listed", "reversed"])
@pytest.mark.parametrize("case", list(EQUAL_RANKS))
def test_between_equal_ranks_the_newer_update_wins(pool, tmp_path, case, reverse):
    records, suffix, expected = EQUAL_RANKS[case]
    for index, record in enumerate(reversed(records) if reverse else records):
        path = tmp_path / f"update{index}.{suffix}"
        path.write_text(record + ("\n" if suffix == "jsonl" else ""), encoding="utf-8")
        result = import_(pool, str(path))
        assert result.exit_code == 0, (result.stdout, result.stderr)

    assert tallies(pool) == {"+14155550101": expected}


def fresh_pool(cli, db: Path) -> dict:
    env = {"SMSCTL_DB": str(db)}
    cli.ok("init", "--main", POOL[0], env=env)
    for number in POOL[1:]:
        cli.ok("numbers", "add", number, env=env)
    return env


def test_equal_ranks_without_update_times_give_one_answer_in_any_order(cli, tmp_path):
    delivered = console_row(1, "+14155550101", "+12125550140", "delivered")
    blocked = console_row(
        1, "+14155550101", "+12125550140", "undelivered", error="30007"
    )
    a = write_console(tmp_path / "a.csv", [delivered])
    b = write_console(tmp_path / "b.csv", [blocked])
    ab = write_console(tmp_path / "ab.csv", [delivered, blocked])
    ba = write_console(tmp_path / "ba.csv", [blocked, delivered])
    outcomes = []
    for order, paths in enumerate([(a, b), (b, a), (ab,), (ba,)]):
        env = fresh_pool(cli, tmp_path / f"order{order}.db")
        for path in paths:
            import_(cli, str(path), env=env)
        listing = cli.ok("numbers", "list", "--all-time", "--format", "json", env=env)
        outcomes.append(json.loads(listing.stdout))

    assert all(outcome == outcomes[0] for outcome in outcomes)
    assert tally({row["number"]: row for row in outcomes[0]}["+14155550101"]) in (
        {"delivered": 1},
        {"blocked_spam": 1},
    )


def rfc_2822(hh_mm: str) -> str:
    return f"Sat, 28 Nov 2026 {hh_mm}:00 +0000"


def iso_z(hh_mm: str) -> str:
    return f"2026-11-28T{hh_mm}:00Z"


def twilio_json(message: tuple, date) -> dict:
    """A Twilio REST message from (id, from, to, status, error_code, sent,
    updated), its times given as HH:MM on 2026-11-28 and written by ``date``."""
    number, sender, recipient, status, error_code, sent, updated = message
    return {
        "sid": sid(number),
        "from": sender,
        "to": recipient,
        "status": status,
        "error_code": error_code,
        "direction": "outbound-api",
        "date_created": date(sent or updated),
        "date_sent": sent and date(sent),
        "date_updated": date(updated),
    }


def permutation_files(tmp_path: Path) -> list[Path]:
    """One Twilio account's messages in three overlapping exports: console
    CSV (no update times), a JSON page and JSON Lines."""
    a, b, c = "+14155550101", "+14155550102", "+14155550103"
    console = write_console(
        tmp_path / "console.csv",
        [
            console_row(1, a, "+12125550141", "queued", sent=""),
            console_row(2, a, "+12125550142", "sent", sent=iso_z("10:02")),
            console_row(3, b, "+12125550143", sent=iso_z("10:03")),
            console_row(4, b, "+12125550144", "undelivered", iso_z("10:04"), "30007"),
            console_row(5, c, "+12125550145", sent=iso_z("10:05")),
        ],
    )
    page_messages = [
        (1, a, "+12125550141", "delivered", None, "10:01", "10:05"),
        (2, a, "+12125550142", "undelivered", 30007, "10:02", "10:06"),
        (6, a, "+12125550146", "delivered", None, "10:00", "10:00"),
        (7, c, "+12125550147", "undelivered", 30003, "10:07", "10:10"),
    ]
    line_messages = [
        (1, a, "+12125550141", "queued", None, None, "11:00"),  # later, lower rank
        (6, a, "+12125550146", "undelivered", 30005, "10:00", "10:30"),  # newer
        (7, c, "+12125550147", "delivered", None, "10:07", "10:01"),  # older
        (3, b, "+12125550143", "sent", None, "10:03", "10:02"),  # lower rank
        (8, b, "+12125550148", "delivered", None, "10:08", "10:08"),
    ]
    page = tmp_path / "page.json"
    page.write_text(
        json.dumps({"messages": [twilio_json(m, rfc_2822) for m in page_messages]}),
        encoding="utf-8",
    )
    lines = tmp_path / "lines.jsonl"
    lines.write_text(
        "".join(json.dumps(twilio_json(m, iso_z)) + "\n" for m in line_messages),
        encoding="utf-8",
    )
    return [console, page, lines]


PERMUTATION_TALLIES = {
    "+14155550101": {"delivered": 1, "blocked_spam": 1, "line_deactivated": 1},
    "+14155550102": {"delivered": 2, "blocked_spam": 1},
    "+14155550103": {"delivered": 1, "failed": 1},
}


def test_three_overlapping_files_give_one_listing_in_every_order(cli, tmp_path):
    files = permutation_files(tmp_path)
    listings = {}
    for order, paths in enumerate(itertools.permutations(files)):
        env = fresh_pool(cli, tmp_path / f"order{order}.db")
        for path in [*paths, *paths]:  # every order, imported twice over
            result = import_(cli, str(path), env=env)
            assert result.exit_code == 0, (paths, result.stdout, result.stderr)
        listing = cli.ok("numbers", "list", "--all-time", "--format", "json", env=env)
        listings[tuple(path.name for path in paths)] = json.loads(listing.stdout)

    first = next(iter(listings.values()))
    assert all(listing == first for listing in listings.values()), listings
    by_number = {row["number"]: row for row in first}
    assert {n: tally(row) for n, row in by_number.items() if tally(row)} == (
        PERMUTATION_TALLIES
    )
    assert [by_number[n]["health"] for n in POOL] == [None, 50.0, 66.7, 100.0]


# --- numbers outside the pool --------------------------------------------------


def test_texts_from_outside_the_pool_are_kept_and_count_once_it_joins(pool, tmp_path):
    outsider = "+14155550109"
    rows = [
        console_row(1, outsider, "+12125550140"),
        console_row(2, outsider, "+12125550141"),
        console_row(3, outsider, "+12125550142", "undelivered", error="30007"),
        console_row(4, "+14155550101", "+12125550143"),
    ]
    path = write_console(tmp_path / "with_outsider.csv", rows)

    result = import_(pool, str(path))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert outsider in result.stdout
    assert outsider not in listed(pool)
    assert tallies(pool) == {"+14155550101": {"delivered": 1}}
    assert history(pool)[0]["added"] == 4

    pool.ok("numbers", "add", outsider)

    assert tallies(pool) == {
        "+14155550101": {"delivered": 1},
        outsider: {"delivered": 2, "blocked_spam": 1},
    }


# --- opt-outs ------------------------------------------------------------------

CONTACT = "+13105550150"


def inbound(message: int, body: str, sent: str = "2026-11-30T15:00:00Z") -> list[str]:
    return console_row(
        message,
        CONTACT,
        "+14155550102",
        "received",
        sent,
        body=body,
        direction="inbound",
    )


@pytest.mark.parametrize(
    ("body", "opts_out"),
    [
        ("STOP", True),
        (" stop ", True),
        ("Stop", True),
        ("UNSUBSCRIBE", True),
        ("stopall", True),
        ("CANCEL", True),
        ("End", True),
        ("QUIT", True),
        ("revoke", True),
        ("OPTOUT", True),
        ("\tSTOP\r\n", True),
        ("stop texting me", False),
        ("Please STOP", False),
        ("Thanks, see you Friday", False),
        ("START", False),
    ],
)
def test_inbound_opt_out_keywords_add_the_sender_to_optouts(
    pool, tmp_path, body, opts_out
):
    path = write_console(tmp_path / "replies.csv", [inbound(1, body)])

    result = import_(pool, str(path))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert opted_out(pool) == ([CONTACT] if opts_out else [])
    assert tallies(pool) == {}  # inbound texts are not sent


def test_opt_out_entry_carries_the_time_of_the_stop(pool, tmp_path):
    path = write_console(tmp_path / "stop.csv", [inbound(1, "STOP")])

    import_(pool, str(path))

    [entry] = json.loads(pool.ok("optouts", "list", "--format", "json").stdout)
    assert entry["number"] == CONTACT
    assert datetime.fromisoformat(entry["at"]) == datetime.fromisoformat(
        "2026-11-30T15:00:00+00:00"
    )


@pytest.mark.parametrize(
    ("code", "status"), [("21610", "failed"), ("30004", "undelivered")]
)
def test_opted_out_outcome_adds_the_recipient_to_optouts(pool, tmp_path, code, status):
    row = console_row(1, "+14155550101", "+12125550149", status, error=code)
    path = write_console(tmp_path / "refused.csv", [row])

    import_(pool, str(path))

    assert opted_out(pool) == ["+12125550149"]


@pytest.mark.parametrize("together", [True, False], ids=["one-file", "two-files"])
@pytest.mark.parametrize(
    ("events", "listed_after"),
    [
        ([("STOP", "10:00"), ("START", "11:00")], False),
        ([("START", "11:00"), ("STOP", "10:00")], False),
        ([("STOP", "10:00"), ("UNSTOP", "11:00")], False),
        ([("START", "10:00"), ("STOP", "11:00")], True),
        ([("STOP", "11:00"), ("START", "10:00")], True),
        ([("STOP", "09:00"), ("START", "10:00"), ("QUIT", "11:00")], True),
    ],
    ids=[
        "stop-then-start",
        "start-listed-first-but-later",
        "stop-then-unstop",
        "start-then-stop",
        "stop-listed-first-but-later",
        "stop-start-quit",
    ],
)
def test_latest_keyword_by_time_decides(pool, tmp_path, events, listed_after, together):
    rows = [
        inbound(index + 1, body, f"2026-11-30T{time}:00Z")
        for index, (body, time) in enumerate(events)
    ]
    for path in records_in_files(tmp_path, rows, together):
        import_(pool, str(path))

    assert opted_out(pool) == ([CONTACT] if listed_after else [])


def test_reimporting_an_old_stop_does_not_undo_a_later_remove(
    pool, tmp_path, monkeypatch
):
    stop = write_console(tmp_path / "stop.csv", [inbound(1, "STOP")])
    import_(pool, str(stop))
    assert opted_out(pool) == [CONTACT]
    pool.ok("optouts", "remove", CONTACT)  # at 2026-12-04T12:00Z

    again = import_(pool, str(stop))
    elsewhere = write_console(tmp_path / "copy.csv", [inbound(1, "STOP")])
    import_(pool, str(elsewhere))
    older = write_console(tmp_path / "older.csv", [inbound(2, "STOP")])
    import_(pool, str(older))

    assert again.exit_code == 0
    assert opted_out(pool) == []

    monkeypatch.setenv("SMSCTL_NOW", "2026-12-06T12:00:00Z")
    newer = write_console(
        tmp_path / "newer.csv", [inbound(3, "STOP", "2026-12-05T09:00:00Z")]
    )
    import_(pool, str(newer))

    assert opted_out(pool) == [CONTACT]


# --- files that cannot be read at all ------------------------------------------


def junk_bytes() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8


UNREADABLE = {
    "no-recognisable-header": b"Sender;Recipient;State\n+14155550101;+1212;ok\n",
    "unknown-columns": b"hello,world\n1,2\n",
    "empty": b"",
    "blank-lines-only": b"\r\n\r\n  \r\n",
    "binary-junk": junk_bytes(),
    "gzip-compressed-export": gzip.compress(
        (LOGS / "twilio_console.csv").read_bytes(), mtime=0
    ),
}


@pytest.mark.parametrize("kind", [*UNREADABLE, "directory", "missing"])
def test_unreadable_file_exits_2_in_one_line_and_changes_nothing(
    pool, tmp_path, db_path, kind
):
    path = tmp_path / f"{kind}.csv"
    if kind == "directory":
        path.mkdir()
    elif kind != "missing":
        path.write_bytes(UNREADABLE[kind])
    before = dump(db_path)

    result = import_(pool, str(path))

    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert path.name in line
    assert "Traceback" not in result.stderr
    assert dump(db_path) == before
    assert history(pool) == []


HEADERS_ONLY = [
    ("console.csv", ",".join(CONSOLE_HEADER) + "\r\n", [], "twilio"),
    ("page.json", '{"messages": []}\n', [], "twilio"),
    (
        "telnyx.csv",
        "uuid,created_at,sent_at,completed_at,direction,cli,cld,status,errors\n",
        [],
        "telnyx",
    ),
    (
        "plivo.csv",
        "message_uuid,message_time,message_updated_time,from_number,"
        "to_number,message_direction,message_state,error_code\n",
        [],
        "plivo",
    ),
    (
        "mapped.csv",
        "MessageId,Sender,Recipient,State,Time,Way\n",
        ["--map", MAP],
        "generic",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "extra", "provider"),
    HEADERS_ONLY,
    ids=[name for name, *_ in HEADERS_ONLY],
)
def test_header_without_rows_is_an_empty_import(
    pool, tmp_path, name, content, extra, provider
):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    result = import_(pool, str(path), *extra)

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    [entry] = history(pool)
    assert entry["provider"] == provider
    counts = ("rows_read", "added", "updated", "unchanged", "rejected")
    assert [entry[key] for key in counts] == [0, 0, 0, 0, 0]
    assert tallies(pool) == {}


# --- bad rows ------------------------------------------------------------------

PLIVO_HEADER = (
    "message_uuid,message_time,message_updated_time,from_number,to_number,"
    "message_direction,message_state,error_code"
)
BAD_ROWS = [
    PLIVO_HEADER,  # 1
    "b0000001-0000-11ef-8000-000000000001,2026-11-28 17:00:00+00:00,"
    "2026-11-28 17:00:04+00:00,14155550101,12125550140,outbound,delivered,000",
    "b0000001-0000-11ef-8000-000000000002,2026-11-28 17:01:00+00:00,"
    "2026-11-28 17:01:04+00:00,14155550101,12125550141,outbound,exploded,000",
    "b0000001-0000-11ef-8000-000000000003,2026-11-28 17:02:00+00:00,"
    "2026-11-28 17:02:04+00:00,1.41556E+10,12125550142,outbound,delivered,000",
    "b0000001-0000-11ef-8000-000000000004,2026-11-28 17:03:00+00:00,"
    "2026-11-28 17:03:04+00:00,14155550101,call me maybe,outbound,delivered,000",
    "b0000001-0000-11ef-8000-000000000005,the day before yesterday,"
    "2026-11-28 17:04:04+00:00,14155550101,12125550144,outbound,delivered,000",
    ",2026-11-28 17:05:00+00:00,"
    "2026-11-28 17:05:04+00:00,14155550101,12125550145,outbound,delivered,000",
    "b0000001-0000-11ef-8000-000000000007,2026-11-28 17:06:00+00:00,"
    "2026-11-28 17:06:04+00:00,14155550101,12125550146,outbound,undelivered,30",
]
BAD_LINES = [3, 4, 5, 6, 7]


def write_bad_rows(path: Path) -> Path:
    path.write_text("\n".join(BAD_ROWS) + "\n", encoding="utf-8")
    return path


def test_bad_rows_are_rejected_one_by_one_and_good_rows_kept(pool, tmp_path):
    path = write_bad_rows(tmp_path / "plivo.csv")
    rejects = tmp_path / "out.csv"

    result = import_(pool, "--rejects", str(rejects), str(path))

    assert result.exit_code == 1
    shown = rejected_lines(result)
    assert [line.split(": rejected: ")[0] for line in shown] == [
        f"{path}:{line}" for line in BAD_LINES
    ]
    assert all(line.split(": rejected: ")[1].strip() for line in shown)
    assert tallies(pool) == {"+14155550101": {"delivered": 1, "blocked_spam": 1}}
    [entry] = history(pool)
    assert (entry["rows_read"], entry["added"], entry["rejected"]) == (7, 2, 5)

    with open(rejects, newline="", encoding="utf-8") as handle:
        written = list(csv.reader(handle))
    assert written[0] == ["file", "line", "reason", "raw"]
    assert [(row[0], row[1]) for row in written[1:]] == [
        (str(path), str(line)) for line in BAD_LINES
    ]
    assert [f"{path}:{row[1]}: rejected: {row[2]}" for row in written[1:]] == shown
    assert [row[3] for row in written[1:]] == [BAD_ROWS[n - 1] for n in BAD_LINES]


def test_rejected_raw_starting_with_plus_is_safe_in_a_spreadsheet(pool, tmp_path):
    row = console_row(1, "+14155550101", "+12125550140", "exploded")
    path = write_console(tmp_path / "console.csv", [row], newline="\n")
    raw = path.read_text(encoding="utf-8").splitlines()[1]
    rejects = tmp_path / "out.csv"

    result = import_(pool, "--rejects", str(rejects), str(path))

    assert result.exit_code == 1
    with open(rejects, newline="", encoding="utf-8") as handle:
        [_, (file, line, _reason, written_raw)] = list(csv.reader(handle))
    assert (file, line, written_raw) == (str(path), "2", "'" + raw)


def test_unknown_status_is_rejected_in_every_format(pool, tmp_path):
    files = {
        "console.csv": console_bytes(
            [console_row(1, "+14155550101", "+12125550140", "exploded")]
        ),
        "lines.jsonl": (
            json.dumps(
                {
                    "sid": sid(2),
                    "from": "+14155550101",
                    "to": "+12125550141",
                    "status": "exploded",
                    "error_code": None,
                    "direction": "outbound-api",
                    "date_sent": "2026-11-28T17:00:00Z",
                }
            )
            + "\n"
        ).encode(),
        "telnyx.csv": telnyx_mdr("exploded", "", "2026-11-28T17:00:05+00:00").encode(),
        "plivo.csv": "\n".join([PLIVO_HEADER, BAD_ROWS[2]]).encode() + b"\n",
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)

    result = import_(pool, *(str(tmp_path / name) for name in files))

    assert result.exit_code == 1
    first_record_line = {name: 1 if name.endswith(".jsonl") else 2 for name in files}
    assert sorted(line.split(": rejected: ")[0] for line in rejected_lines(result)) == (
        sorted(f"{tmp_path / name}:{line}" for name, line in first_record_line.items())
    )
    assert tallies(pool) == {}


# --- several files: the worst exit code ----------------------------------------


@pytest.mark.parametrize(
    ("kinds", "exit_code"),
    [
        (["good", "good"], 0),
        (["good", "bad-rows"], 1),
        (["bad-rows", "good"], 1),
        (["good", "missing"], 2),
        (["missing", "good"], 2),
        (["bad-rows", "no-header"], 2),
        (["no-header", "bad-rows", "good"], 2),
    ],
)
def test_several_files_exit_with_the_worst_code_and_import_the_readable(
    pool, tmp_path, kinds, exit_code
):
    paths = []
    for index, kind in enumerate(kinds):
        path = tmp_path / f"{index}-{kind}.csv"
        if kind == "good":
            row = console_row(100 + index, "+14155550103", f"+1646555017{index}")
            write_console(path, [row])
        elif kind == "bad-rows":
            write_bad_rows(path)
        elif kind == "no-header":
            path.write_bytes(UNREADABLE["no-recognisable-header"])
        paths.append(path)

    result = import_(pool, *map(str, paths))

    assert result.exit_code == exit_code
    readable = [p for p, kind in zip(paths, kinds) if kind in ("good", "bad-rows")]
    assert [Path(entry["file"]).name for entry in history(pool)] == [
        p.name for p in readable
    ]
    expected = {}
    if "good" in kinds:
        expected["+14155550103"] = {"delivered": kinds.count("good")}
    if "bad-rows" in kinds:
        expected["+14155550101"] = {"delivered": 1, "blocked_spam": 1}
    assert tallies(pool) == expected
