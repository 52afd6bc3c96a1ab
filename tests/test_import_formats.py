"""Every export format, recognised from its header or shape and by --provider.

Each fixture in tests/data/import holds a row for each status and code the
format's provider writes; the tests check every stored message exactly.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import datetime

import pytest

from tests.conftest import DATA

FIXTURES = DATA / "import"
NOW = "2026-12-04T12:00:00Z"
S1, S2, S3 = "+14155550101", "+14155550102", "+14155550103"
GENERIC_MAP = (
    "id=MessageId,from=Sender,to=Recipient,status=State,sent_at=When,"
    "error=Code,direction=Way"
)


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def stored(db_path) -> list[tuple]:
    """Every stored message, in the order of message ids.

    Not in the order of the file: a chunk of rows is stored in key order.
    """
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(
            "SELECT message_id, from_number, to_number, outbound, status, "
            "error_code, detail, sent_at, time_source FROM messages "
            "ORDER BY message_id"
        ).fetchall()


def optout_events(db_path) -> list[tuple]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(
            "SELECT contact, opted_out, source, message_id FROM optout_events "
            "ORDER BY id"
        ).fetchall()


def figures(cli) -> dict[str, tuple]:
    """number -> (delivered, failed, opted_out, provider_not_found,
    line_deactivated, blocked, total_sent), all time."""
    rows = json.loads(
        cli.ok("numbers", "list", "--all-time", "--format", "json").stdout
    )
    found = {}
    for row in rows:
        detail = row["undelivered_detail"]
        found[row["number"]] = (
            row["delivered"],
            detail["failed"],
            detail["opted_out"],
            detail["provider_not_found"],
            detail["line_deactivated"],
            row["blocked"],
            row["total_sent"],
        )
    return found


def sid(n: int) -> str:
    return f"SM{n:032x}"


TWILIO_CONSOLE = [
    (
        sid(1),
        S1,
        "+12125550140",
        1,
        "delivered",
        "",
        "delivered",
        at("2026-12-01T10:00:00Z"),
        "sent",
    ),
    (
        sid(2),
        S1,
        "+12125550141",
        1,
        "sent",
        "",
        "delivered",
        at("2026-12-01T10:01:00Z"),
        "sent",
    ),
    (
        sid(3),
        S1,
        "+12125550142",
        1,
        "read",
        "",
        "delivered",
        at("2026-12-01T10:02:00Z"),
        "sent",
    ),
    (
        sid(4),
        S1,
        "+12125550143",
        1,
        "undelivered",
        "30007",
        "blocked_spam",
        at("2026-12-01T10:03:00Z"),
        "sent",
    ),
    (
        sid(5),
        S2,
        "+12125550144",
        1,
        "undelivered",
        "21610",
        "opted_out",
        at("2026-12-01T10:04:00Z"),
        "sent",
    ),
    (
        sid(6),
        S2,
        "+12125550145",
        1,
        "failed",
        "30004",
        "opted_out",
        at("2026-12-01T10:05:00Z"),
        "sent",
    ),
    (
        sid(7),
        S2,
        "+12125550146",
        1,
        "undelivered",
        "30006",
        "provider_not_found",
        at("2026-12-01T10:06:00Z"),
        "sent",
    ),
    (
        sid(8),
        S2,
        "+12125550147",
        1,
        "undelivered",
        "30005",
        "line_deactivated",
        at("2026-12-01T10:07:00Z"),
        "sent",
    ),
    (
        sid(9),
        S3,
        "+12125550148",
        1,
        "failed",
        "30008",
        "failed",
        at("2026-12-01T10:08:00Z"),
        "sent",
    ),
    (sid(10), S3, "+12125550149", 1, "queued", "", "pending", at(NOW), "imported"),
    (sid(11), S3, "+12125550150", 1, "canceled", "", "canceled", at(NOW), "imported"),
    (
        sid(12),
        "+12125550140",
        S1,
        0,
        "received",
        "",
        "inbound",
        at("2026-12-01T10:09:00Z"),
        "sent",
    ),
    (sid(13), S3, "+12125550151", 1, "accepted", "", "pending", at(NOW), "imported"),
    (
        sid(14),
        S3,
        "+12125550152",
        1,
        "delivered",
        "",
        "delivered",
        at("2026-12-01T10:10:00Z"),
        "sent",
    ),
]


def test_twilio_console_csv_is_recognised_and_classified(pool, db_path):
    result = pool.ok("logs", "import", "--quiet", str(FIXTURES / "twilio_console.csv"))
    assert result.stdout.startswith(
        f"{FIXTURES / 'twilio_console.csv'}: Twilio console CSV, 14 read, 14 added, "
        "0 updated, 0 unchanged, 0 rejected"
    )
    assert stored(db_path) == sorted(TWILIO_CONSOLE)
    assert figures(pool) == {
        "+14155550100": (0, 0, 0, 0, 0, 0, 0),
        S1: (3, 0, 0, 0, 0, 1, 4),
        S2: (0, 0, 2, 1, 1, 0, 4),
        S3: (1, 1, 0, 0, 0, 0, 2),
    }
    assert optout_events(db_path) == [
        ("+12125550144", 1, "opted_out", sid(5)),
        ("+12125550145", 1, "opted_out", sid(6)),
    ]


TWILIO_JSON = [
    (
        sid(101),
        S1,
        "+12125550160",
        1,
        "delivered",
        "",
        "delivered",
        at("2026-12-01T10:00:00Z"),
        "sent",
    ),
    (
        sid(102),
        S1,
        "+12125550161",
        1,
        "undelivered",
        "30007",
        "blocked_spam",
        at("2026-12-01T10:01:00Z"),
        "sent",
    ),
    (
        sid(103),
        S2,
        "+12125550162",
        1,
        "failed",
        "21610",
        "opted_out",
        at("2026-12-01T10:02:00Z"),
        "sent",
    ),
    (
        sid(104),
        S2,
        "+12125550163",
        1,
        "sent",
        "",
        "delivered",
        at("2026-12-01T10:03:00Z"),
        "sent",
    ),
    (
        sid(105),
        S3,
        "+12125550164",
        1,
        "queued",
        "",
        "pending",
        at("2026-12-01T09:59:00Z"),
        "created",
    ),
    (
        sid(106),
        "+12125550165",
        S3,
        0,
        "received",
        "",
        "inbound",
        at("2026-12-01T10:05:00Z"),
        "sent",
    ),
]


@pytest.mark.parametrize(
    "name, label",
    [
        ("twilio_page.json", "Twilio JSON page"),
        ("twilio_lines.jsonl", "Twilio JSON Lines"),
    ],
)
def test_twilio_json_page_and_lines_are_recognised(pool, db_path, name, label):
    result = pool.ok("logs", "import", "--quiet", str(FIXTURES / name))
    assert f": {label}, 6 read, 6 added," in result.stdout
    assert stored(db_path) == sorted(TWILIO_JSON)
    assert optout_events(db_path) == [
        ("+12125550162", 1, "opted_out", sid(103)),
        ("+12125550165", 1, "keyword", sid(106)),
    ]


def test_json_page_and_json_lines_agree_message_for_message(pool, db_path):
    pool.ok("logs", "import", "--quiet", str(FIXTURES / "twilio_page.json"))
    again = pool.ok("logs", "import", "--quiet", str(FIXTURES / "twilio_lines.jsonl"))
    assert "6 read, 0 added, 0 updated, 6 unchanged, 0 rejected" in again.stdout


def telnyx_id(n: int) -> str:
    return f"4c3a0000-0000-4000-8000-{n:012d}"


SENT_TELNYX = at("2026-12-01T10:00:01Z")  # 10:00:01.250, to the second
CREATED_TELNYX = at("2026-12-01T10:00:00Z")
TELNYX = [
    (
        telnyx_id(1),
        S1,
        "+12125550170",
        1,
        "delivered",
        "",
        "delivered",
        SENT_TELNYX,
        "sent",
    ),
    (
        telnyx_id(2),
        S1,
        "+12125550171",
        1,
        "delivery_failed",
        "40002",
        "blocked_spam",
        SENT_TELNYX,
        "sent",
    ),
    (
        telnyx_id(3),
        S1,
        "+12125550172",
        1,
        "failed",
        "40300",
        "opted_out",
        SENT_TELNYX,
        "sent",
    ),
    (
        telnyx_id(4),
        S2,
        "+12125550173",
        1,
        "gw_reject",
        "40001,40002",
        "blocked_spam",
        SENT_TELNYX,
        "sent",
    ),
    (telnyx_id(5), S2, "+12125550174", 1, "sent", "", "delivered", SENT_TELNYX, "sent"),
    (
        telnyx_id(6),
        S2,
        "+12125550175",
        1,
        "dlr_timeout",
        "",
        "delivered",
        SENT_TELNYX,
        "sent",
    ),
    (
        telnyx_id(7),
        S3,
        "+12125550176",
        1,
        "queued",
        "",
        "pending",
        CREATED_TELNYX,
        "created",
    ),
    (
        telnyx_id(8),
        S3,
        "+12125550177",
        1,
        "expired",
        "10001",
        "line_deactivated",
        SENT_TELNYX,
        "sent",
    ),
    (
        telnyx_id(9),
        S3,
        "+12125550178",
        1,
        "sending_failed",
        "99999",
        "failed",
        SENT_TELNYX,
        "sent",
    ),
    (
        telnyx_id(10),
        "+12125550179",
        S3,
        0,
        "delivered",
        "",
        "inbound",
        SENT_TELNYX,
        "sent",
    ),
    (
        telnyx_id(11),
        S3,
        "+12125550180",
        1,
        "delivery_unconfirmed",
        "",
        "delivered",
        SENT_TELNYX,
        "sent",
    ),
    (
        telnyx_id(12),
        S1,
        "+12125550181",
        1,
        "gw_timeout",
        "40012,40300",
        "opted_out",
        SENT_TELNYX,
        "sent",
    ),
]


@pytest.mark.parametrize("provider", [[], ["--provider", "telnyx"]])
def test_telnyx_message_detail_records(pool, db_path, provider):
    result = pool.ok(
        "logs", "import", "--quiet", *provider, str(FIXTURES / "telnyx_mdr.csv")
    )
    assert ": Telnyx message detail records, 12 read, 12 added," in result.stdout
    assert stored(db_path) == sorted(TELNYX)
    assert optout_events(db_path) == [
        ("+12125550172", 1, "opted_out", telnyx_id(3)),
        ("+12125550179", 1, "keyword", telnyx_id(10)),
        ("+12125550181", 1, "opted_out", telnyx_id(12)),
    ]
    with closing(sqlite3.connect(db_path)) as conn:
        updated = {row[0] for row in conn.execute("SELECT updated_at FROM messages")}
    assert updated == {at("2026-12-01T10:00:09Z")}


def plivo_id(n: int) -> str:
    return f"e1f2a3b4-0000-4000-9000-{n:012d}"


SENT_PLIVO = at("2026-12-01T10:00:00Z")
PLIVO = [
    (
        plivo_id(1),
        S1,
        "+12125550185",
        1,
        "delivered",
        "",
        "delivered",
        SENT_PLIVO,
        "sent",
    ),
    (
        plivo_id(2),
        S1,
        "+12125550186",
        1,
        "undelivered",
        "30",
        "blocked_spam",
        SENT_PLIVO,
        "sent",
    ),
    (
        plivo_id(3),
        S1,
        "+12125550187",
        1,
        "failed",
        "200",
        "opted_out",
        SENT_PLIVO,
        "sent",
    ),
    (
        plivo_id(4),
        S2,
        "+12125550188",
        1,
        "rejected",
        "50",
        "provider_not_found",
        SENT_PLIVO,
        "sent",
    ),
    (
        plivo_id(5),
        S2,
        "+12125550189",
        1,
        "undelivered",
        "90",
        "provider_not_found",
        SENT_PLIVO,
        "sent",
    ),
    (
        plivo_id(6),
        S2,
        "+12125550190",
        1,
        "undelivered",
        "70",
        "line_deactivated",
        SENT_PLIVO,
        "sent",
    ),
    (plivo_id(7), S3, "+12125550191", 1, "failed", "", "failed", SENT_PLIVO, "sent"),
    (plivo_id(8), S3, "+12125550192", 1, "sent", "", "delivered", SENT_PLIVO, "sent"),
    (plivo_id(9), S3, "+12125550193", 1, "queued", "", "pending", SENT_PLIVO, "sent"),
    (
        plivo_id(10),
        "+12125550194",
        S3,
        0,
        "received",
        "",
        "inbound",
        SENT_PLIVO,
        "sent",
    ),
    (
        plivo_id(11),
        S3,
        "+12125550195",
        1,
        "undelivered",
        "",
        "failed",
        SENT_PLIVO,
        "sent",
    ),
]


@pytest.mark.parametrize("provider", [[], ["--provider", "plivo"]])
def test_plivo_message_records(pool, db_path, provider):
    result = pool.ok(
        "logs", "import", "--quiet", *provider, str(FIXTURES / "plivo_mdr.csv")
    )
    assert ": Plivo message records, 11 read, 11 added," in result.stdout
    assert stored(db_path) == sorted(PLIVO)
    assert figures(pool)[S3] == (1, 2, 0, 0, 0, 0, 3)


GENERIC = [
    (
        "g-1",
        S1,
        "+12125550196",
        1,
        "delivered",
        "",
        "delivered",
        at("2026-12-01T10:00:00Z"),
        "sent",
    ),
    (
        "g-2",
        S1,
        "+12125550197",
        1,
        "blocked",
        "",
        "blocked_spam",
        at("2026-12-01T10:01:00Z"),
        "sent",
    ),
    (
        "g-3",
        S2,
        "+12125550198",
        1,
        "opted_out",
        "",
        "opted_out",
        at("2026-12-01T10:02:00Z"),
        "sent",
    ),
    (
        "g-4",
        S2,
        "+12125550199",
        1,
        "undelivered",
        "17",
        "failed",
        at("2026-12-01T10:03:00Z"),
        "sent",
    ),
    ("g-5", S3, "+12125550100", 1, "pending", "", "pending", at(NOW), "imported"),
    ("g-6", S3, "+12125550101", 1, "not sent", "", "canceled", at(NOW), "imported"),
    (
        "g-7",
        "+12125550102",
        S3,
        0,
        "delivered",
        "",
        "inbound",
        at("2026-12-01T10:04:00Z"),
        "sent",
    ),
    (
        "g-8",
        S3,
        "+12125550103",
        1,
        "line_deactivated",
        "",
        "line_deactivated",
        at("2026-12-01T10:05:00Z"),
        "sent",
    ),
    (
        "g-9",
        S3,
        "+12125550104",
        1,
        "provider_not_found",
        "",
        "provider_not_found",
        at("2026-12-01T10:06:00Z"),
        "sent",
    ),
]


def test_generic_csv_through_map_speaks_the_outcome_words(pool, db_path):
    result = pool(
        "logs", "import", "--quiet", "--map", GENERIC_MAP, str(FIXTURES / "generic.csv")
    )
    assert result.exit_code == 1
    assert ": mapped CSV, 10 read, 9 added, 0 updated, 0 unchanged, 1 rejected" in (
        result.stdout
    )
    assert result.stderr == (
        f"{FIXTURES / 'generic.csv'}:11: rejected: unknown " "status 'lost'\n"
    )
    assert stored(db_path) == sorted(GENERIC)
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT DISTINCT provider FROM messages").fetchall() == [
            ("generic",)
        ]


def test_map_with_a_provider_reads_that_providers_statuses(pool, db_path):
    pool.ok(
        "logs",
        "import",
        "--quiet",
        "--provider",
        "twilio",
        "--map",
        "id=Sid,from=From,to=To,status=Status,sent_at=SentDate,error=ErrorCode,"
        "direction=Direction",
        str(FIXTURES / "twilio_console.csv"),
    )
    with closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute(
            "SELECT provider, detail FROM messages WHERE message_id " "= ?", (sid(4),)
        ).fetchall()
    assert rows == [("twilio", "blocked_spam")]


@pytest.mark.parametrize(
    "map_text, message",
    [
        (
            "id=MessageId,from",
            "--map part 'from' is not FIELD=COLUMN; use e.g. --map "
            "id=MessageId,from=Sender,to=Recipient,status=State,sent_at=Time",
        ),
        (
            "id=A,from=B,to=C,status=D,sent_at=E,colour=F",
            "--map field 'colour' is unknown; fields are id, from, to, status, "
            "sent_at, created_at, updated_at, error, direction, body",
        ),
        (
            "id=A,from=B",
            "--map lacks to, status, sent_at; use e.g. --map "
            "id=MessageId,from=Sender,to=Recipient,status=State,sent_at=Time",
        ),
        (
            "id=A,id=B,from=B,to=C,status=D,sent_at=E",
            "--map names the field 'id' twice",
        ),
        (
            "id=A,,from=B",
            "--map has an empty part; use e.g. --map "
            "id=MessageId,from=Sender,to=Recipient,status=State,sent_at=Time",
        ),
        (
            "id=,from=B,to=C,status=D,sent_at=E",
            "--map part 'id=' is not FIELD=COLUMN; "
            "use e.g. --map id=MessageId,from=Sender,to=Recipient,status=State,"
            "sent_at=Time",
        ),
    ],
)
def test_malformed_map_is_refused_before_anything_is_read(
    pool, db_path, map_text, message
):
    result = pool("logs", "import", "--map", map_text, str(FIXTURES / "generic.csv"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"
    assert stored(db_path) == []


def test_map_naming_columns_the_file_lacks_changes_nothing(pool, db_path):
    result = pool(
        "logs",
        "import",
        "--map",
        "id=MessageId,from=Sender,to=Recipient,status=Status,sent_at=When",
        str(FIXTURES / "generic.csv"),
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {FIXTURES / 'generic.csv'}: the header lacks the columns for "
        "status (Status)\n"
    )
    assert stored(db_path) == []


@pytest.mark.parametrize(
    "provider, name, message",
    [
        ("plivo", "twilio_console.csv", "the header is not a Plivo export's"),
        ("telnyx", "twilio_page.json", "a JSON file is not a Telnyx export"),
        ("twilio", "plivo_mdr.csv", "the header is not a Twilio export's"),
    ],
)
def test_provider_that_does_not_fit_the_file_changes_nothing(
    pool, db_path, provider, name, message
):
    result = pool("logs", "import", "--provider", provider, str(FIXTURES / name))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {FIXTURES / name}: {message}")
    assert stored(db_path) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--provider", "vonage"],
            "--provider 'vonage' is unknown; use one of twilio, "
            "telnyx, plivo, generic",
        ),
        (
            ["--provider", "generic"],
            "--provider generic needs --map id=COL,from=COL,"
            "to=COL,status=COL,sent_at=COL",
        ),
        (
            ["--tz", "Mars/Olympus"],
            "unknown time zone 'Mars/Olympus'; use an IANA name "
            "such as America/New_York",
        ),
    ],
)
def test_bad_provider_or_zone_is_a_usage_error(pool, db_path, args, message):
    result = pool("logs", "import", *args, str(FIXTURES / "twilio_console.csv"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"
    assert stored(db_path) == []


def test_twilio_provider_takes_each_of_its_formats(pool, db_path):
    for name in ("twilio_console.csv", "twilio_page.json", "twilio_lines.jsonl"):
        pool.ok(
            "logs", "import", "--quiet", "--provider", "twilio", str(FIXTURES / name)
        )
    assert len(stored(db_path)) == 20
