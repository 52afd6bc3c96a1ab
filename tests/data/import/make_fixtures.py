"""Writes the import fixtures in this directory; run it after changing one.

    python tests/data/import/make_fixtures.py

Every number, id and text in them is invented. Pool numbers are those of
the tests' ``pool`` fixture (+14155550100 to +14155550103); +14155550199 is
outside the pool; recipients are 212-555-01xx.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from bench.generate import HEADER

HERE = Path(__file__).parent
ACCOUNT = "AC" + "1" * 32
TWILIO_HEADER = HEADER


def sid(n: int) -> str:
    return f"SM{n:032x}"


def twilio_row(
    n,
    sender,
    to,
    status,
    sent,
    code="",
    direction="outbound-api",
    body="Hello from the office.",
) -> list[str]:
    return [
        sender,
        to,
        body,
        status,
        sent,
        "2010-04-01",
        "1",
        code,
        ACCOUNT,
        sid(n),
        direction,
        "-0.00790" if sent else "",
        "USD",
    ]


def csv_text(rows: list[list[str]], line_end: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=line_end).writerows(rows)
    return out.getvalue()


def write(name: str, content: str | bytes) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    (HERE / name).write_bytes(data)


def twilio_console() -> None:
    s1, s2, s3 = "+14155550101", "+14155550102", "+14155550103"
    rows = [
        TWILIO_HEADER,
        twilio_row(1, s1, "+12125550140", "delivered", "2026-12-01T10:00:00Z"),
        twilio_row(2, s1, "+12125550141", "sent", "2026-12-01T10:01:00Z"),
        twilio_row(3, s1, "+12125550142", "read", "2026-12-01T10:02:00Z"),
        twilio_row(
            4, s1, "+12125550143", "undelivered", "2026-12-01T10:03:00Z", "30007"
        ),
        twilio_row(
            5, s2, "+12125550144", "undelivered", "2026-12-01T10:04:00Z", "21610"
        ),
        twilio_row(6, s2, "+12125550145", "failed", "2026-12-01T10:05:00Z", "30004"),
        twilio_row(
            7, s2, "+12125550146", "undelivered", "2026-12-01T10:06:00Z", "30006"
        ),
        twilio_row(
            8, s2, "+12125550147", "undelivered", "2026-12-01T10:07:00Z", "30005"
        ),
        twilio_row(9, s3, "+12125550148", "failed", "2026-12-01T10:08:00Z", "30008"),
        twilio_row(10, s3, "+12125550149", "queued", ""),
        twilio_row(11, s3, "+12125550150", "canceled", ""),
        twilio_row(
            12,
            "+12125550140",
            s1,
            "received",
            "2026-12-01T10:09:00Z",
            direction="inbound",
            body="Thanks!",
        ),
        twilio_row(13, s3, "+12125550151", "accepted", ""),
        twilio_row(
            14,
            s3,
            "+12125550152",
            "DELIVERED",
            "2026-12-01T10:10:00Z",
            direction="outbound-reply",
        ),
    ]
    write("twilio_console.csv", csv_text(rows))


TWILIO_JSON_MESSAGES = [
    # sid, from, to, status, error_code, sent (RFC 2822), direction, body
    (
        101,
        "+14155550101",
        "+12125550160",
        "delivered",
        None,
        "Tue, 01 Dec 2026 10:00:00 +0000",
        "outbound-api",
        "Your quote is ready.",
    ),
    (
        102,
        "+14155550101",
        "+12125550161",
        "undelivered",
        30007,
        "Tue, 01 Dec 2026 10:01:00 +0000",
        "outbound-api",
        "Your quote is ready.",
    ),
    (
        103,
        "+14155550102",
        "+12125550162",
        "failed",
        21610,
        "Tue, 01 Dec 2026 10:02:00 +0000",
        "outbound-api",
        "Your quote is ready.",
    ),
    (
        104,
        "+14155550102",
        "+12125550163",
        "sent",
        None,
        "Tue, 01 Dec 2026 02:03:00 -0800",
        "outbound-api",
        "Your quote is ready.",
    ),
    (
        105,
        "+14155550103",
        "+12125550164",
        "queued",
        None,
        None,
        "outbound-api",
        "Your quote is ready.",
    ),
    (
        106,
        "+12125550165",
        "+14155550103",
        "received",
        None,
        "Tue, 01 Dec 2026 10:05:00 +0000",
        "inbound",
        "Stop",
    ),
]


def _twilio_json(n, sender, to, status, code, sent, direction, body, iso: bool) -> dict:
    if iso and sent:
        from email.utils import parsedate_to_datetime

        sent = parsedate_to_datetime(sent).isoformat()
    created = "2026-12-01T09:59:00Z" if iso else "Tue, 01 Dec 2026 09:59:00 +0000"
    return {
        "account_sid": ACCOUNT,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": created,
        "date_sent": sent,
        "date_updated": sent or created,
        "direction": direction,
        "error_code": code,
        "error_message": None if code is None else "Message failed",
        "from": sender,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid(n),
        "status": status,
        "to": to,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/" f"Messages/{sid(n)}.json",
    }


def twilio_json() -> None:
    page = {
        "end": len(TWILIO_JSON_MESSAGES) - 1,
        "first_page_uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json?PageSize=50",
        "next_page_uri": None,
        "page": 0,
        "page_size": 50,
        "previous_page_uri": None,
        "messages": [_twilio_json(*m, iso=False) for m in TWILIO_JSON_MESSAGES],
        "start": 0,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json?PageSize=50&Page=0",
    }
    write("twilio_page.json", json.dumps(page, indent=2) + "\n")
    lines = [json.dumps(_twilio_json(*m, iso=True)) for m in TWILIO_JSON_MESSAGES]
    write("twilio_lines.jsonl", "\n".join(lines) + "\n")


def telnyx() -> None:
    header = [
        "uuid",
        "created_at",
        "sent_at",
        "completed_at",
        "direction",
        "cli",
        "cld",
        "status",
        "errors",
        "text",
        "parts",
    ]

    def row(
        n,
        cli,
        cld,
        status,
        errors="",
        direction="outbound",
        text="Hi there",
        sent="2026-12-01T10:00:01.250Z",
    ):
        return [
            f"4c3a0000-0000-4000-8000-{n:012d}",
            "2026-12-01T10:00:00.000Z",
            sent,
            "2026-12-01T10:00:09.000Z",
            direction,
            cli,
            cld,
            status,
            errors,
            text,
            "1",
        ]

    s1, s2, s3 = "+14155550101", "+14155550102", "+14155550103"
    rows = [
        header,
        row(1, s1, "+12125550170", "DELIVERED"),
        row(2, s1, "+12125550171", "delivery_failed", "40002"),
        row(3, s1, "+12125550172", "Failed", '["40300"]'),
        row(4, s2, "+12125550173", "gw_reject", '["40001", "40002"]'),
        row(5, s2, "+12125550174", "sent"),
        row(6, s2, "+12125550175", "Dlr_Timeout"),
        row(7, s3, "+12125550176", "queued", sent=""),
        row(8, s3, "+12125550177", "expired", "10001"),
        row(9, s3, "+12125550178", "sending_failed", "99999"),
        row(10, "+12125550179", s3, "delivered", direction="inbound", text=" stop "),
        row(11, s3, "+12125550180", "delivery_unconfirmed"),
        row(12, s1, "+12125550181", "gw_timeout", "40012,40300"),
    ]
    write("telnyx_mdr.csv", csv_text(rows))


def plivo() -> None:
    header = [
        "message_uuid",
        "message_time",
        "message_updated_time",
        "from_number",
        "to_number",
        "message_direction",
        "message_state",
        "error_code",
        "message_type",
        "total_amount",
    ]

    def row(n, frm, to, state, code="000", direction="outbound"):
        return [
            f"e1f2a3b4-0000-4000-9000-{n:012d}",
            "2026-12-01 10:00:00+00:00",
            "2026-12-01 10:00:07+00:00",
            frm,
            to,
            direction,
            state,
            code,
            "sms",
            "0.00500",
        ]

    s1, s2, s3 = "14155550101", "14155550102", "14155550103"
    rows = [
        header,
        row(1, s1, "12125550185", "delivered"),
        row(2, s1, "12125550186", "undelivered", "30"),
        row(3, s1, "12125550187", "failed", "200"),
        row(4, s2, "12125550188", "rejected", "50"),
        row(5, s2, "12125550189", "undelivered", "90"),
        row(6, s2, "12125550190", "undelivered", "70"),
        row(7, s3, "12125550191", "failed", "000"),
        row(8, s3, "12125550192", "sent"),
        row(9, s3, "12125550193", "queued", ""),
        row(10, "12125550194", s3, "received", "000", direction="inbound"),
        row(11, s3, "12125550195", "Undelivered", "0"),
    ]
    write("plivo_mdr.csv", csv_text(rows))


def generic() -> None:
    rows = [
        ["MessageId", "Sender", "Recipient", "State", "When", "Code", "Way", "Note"],
        [
            "g-1",
            "+14155550101",
            "+12125550196",
            "delivered",
            "2026-12-01T10:00:00Z",
            "",
            "outbound",
            "",
        ],
        [
            "g-2",
            "+14155550101",
            "+12125550197",
            "blocked",
            "2026-12-01T10:01:00Z",
            "",
            "outbound",
            "",
        ],
        [
            "g-3",
            "+14155550102",
            "+12125550198",
            "opted_out",
            "2026-12-01T10:02:00Z",
            "",
            "outbound",
            "",
        ],
        [
            "g-4",
            "+14155550102",
            "+12125550199",
            "Undelivered",
            "2026-12-01T10:03:00Z",
            "17",
            "outbound",
            "",
        ],
        ["g-5", "+14155550103", "+12125550100", "pending", "", "", "outbound", ""],
        ["g-6", "+14155550103", "+12125550101", "not sent", "", "", "outbound", ""],
        [
            "g-7",
            "+12125550102",
            "+14155550103",
            "delivered",
            "2026-12-01T10:04:00Z",
            "",
            "inbound",
            "",
        ],
        [
            "g-8",
            "+14155550103",
            "+12125550103",
            "line_deactivated",
            "2026-12-01T10:05:00Z",
            "",
            "outbound",
            "",
        ],
        [
            "g-9",
            "+14155550103",
            "+12125550104",
            "provider_not_found",
            "2026-12-01T10:06:00Z",
            "",
            "outbound",
            "",
        ],
        [
            "g-10",
            "+14155550103",
            "+12125550105",
            "lost",
            "2026-12-01T10:07:00Z",
            "",
            "outbound",
            "",
        ],
    ]
    write("generic.csv", csv_text(rows))


def encodings_and_line_ends() -> None:
    s1 = "+14155550101"
    rows = [
        TWILIO_HEADER,
        twilio_row(201, s1, "+12125550110", "delivered", "2026-12-01T10:00:00Z"),
        twilio_row(202, s1, "+12125550111", "delivered", "2026-12-01T10:01:00Z"),
    ]
    write("bom.csv", "\ufeff" + csv_text(rows))
    write("crlf.csv", csv_text(rows, "\r\n"))

    quoted = [
        TWILIO_HEADER,
        twilio_row(
            211,
            s1,
            "+12125550112",
            "delivered",
            "2026-12-01T10:00:00Z",
            body="Line one\nLine two, with a comma\nLine three",
        ),
        twilio_row(
            212,
            s1,
            "+12125550113",
            "delivered",
            "2026-12-01T10:01:00Z",
            body='He said "see you", then\r\nleft.',
        ),
        twilio_row(
            213,
            s1,
            "+12125550114",
            "lost",
            "2026-12-01T10:02:00Z",
            body="Broken\nrecord",
        ),
        twilio_row(214, s1, "+12125550115", "delivered", "2026-12-01T10:03:00Z"),
    ]
    write("quoted_line_breaks.csv", csv_text(quoted, "\r\n"))

    cp1252 = [
        TWILIO_HEADER,
        twilio_row(
            221,
            s1,
            "+12125550116",
            "delivered",
            "2026-12-01T10:00:00Z",
            body="Café “special” — today only",
        ),
        twilio_row(
            222,
            s1,
            "+12125550117",
            "lost",
            "2026-12-01T10:01:00Z",
            body="Résumé “reçu”",
        ),
        twilio_row(223, s1, "+12125550118", "delivered", "2026-12-01T10:02:00Z"),
    ]
    write("cp1252.csv", csv_text(cp1252).encode("cp1252"))

    # More than the 64 KiB sniffed, all valid UTF-8, then a row with bytes that
    # are not: the file is read as UTF-8 and that row alone is rejected.
    padding = [
        twilio_row(
            3000 + i,
            s1,
            f"+1212555{2000 + i:04d}",
            "delivered",
            "2026-11-20T10:00:00Z",
            body="Café ouvert — " + "x" * 200,
        )
        for i in range(260)
    ]
    head = csv_text([TWILIO_HEADER, *padding]).encode("utf-8")
    assert len(head) > 64 * 1024
    bad = csv_text(
        [
            twilio_row(
                3600,
                s1,
                "+12125559999",
                "delivered",
                "2026-11-20T11:00:00Z",
                body="BAD_BYTES",
            )
        ]
    )
    bad_bytes = bad.encode("utf-8").replace(b"BAD_BYTES", b"caf\xe9 \xff\xfe")
    tail = csv_text(
        [twilio_row(3601, s1, "+12125559998", "delivered", "2026-11-20T12:00:00Z")]
    ).encode("utf-8")
    write("invalid_utf8_row.csv", head + bad_bytes + tail)


def spreadsheet_mangled() -> None:
    rows = [
        TWILIO_HEADER,
        twilio_row(
            401, "14155550101", "12125550120", "delivered", "2026-12-01T10:00:00Z"
        ),
        twilio_row(
            402, "(415) 555-0102", "(212) 555-0121", "delivered", "2026-12-01T10:01:00Z"
        ),
        twilio_row(
            403, "415.555.0103", "212-555-0122", "delivered", "2026-12-01T10:02:00Z"
        ),
        twilio_row(
            404,
            "1.4155550101E+10",
            "1.2125550123E+10",
            "delivered",
            "2026-12-01T10:03:00Z",
        ),
        twilio_row(
            405, "1.41556E+10", "+12125550124", "delivered", "2026-12-01T10:04:00Z"
        ),
        twilio_row(
            406, "4155550102", "2125550125", "delivered", "2026-12-01T10:05:00Z"
        ),
    ]
    write("spreadsheet_numbers.csv", csv_text(rows))


def dates() -> None:
    s1 = "+14155550101"
    rows = [
        TWILIO_HEADER,
        twilio_row(501, s1, "+12125550130", "delivered", "2026-11-30T10:00:00-08:00"),
        twilio_row(502, s1, "+12125550131", "delivered", "2026-11-30T18:00:00Z"),
        twilio_row(503, s1, "+12125550132", "delivered", "2026-11-30T18:00:00.250Z"),
        twilio_row(504, s1, "+12125550133", "delivered", "2026-11-30 10:00:00+05:30"),
        twilio_row(
            505, s1, "+12125550134", "delivered", "Mon, 30 Nov 2026 17:02:11 +0000"
        ),
        twilio_row(506, s1, "+12125550135", "delivered", "11/28/2026 9:15"),
        twilio_row(507, s1, "+12125550136", "delivered", "28/11/2026 9:15"),
    ]
    write("dates.csv", csv_text(rows))


def several_files() -> None:
    s1, s2 = "+14155550101", "+14155550102"
    # The same messages seen at different moments: first queued or sent...
    early = [
        TWILIO_HEADER,
        twilio_row(701, s1, "+12125550150", "queued", ""),
        twilio_row(702, s1, "+12125550151", "sent", "2026-12-01T10:01:00Z"),
        twilio_row(703, s2, "+12125550152", "delivered", "2026-12-01T10:02:00Z"),
        twilio_row(704, s2, "+12125550153", "sending", ""),
    ]
    # ...then final, and one that arrives as pending after its final record.
    late = [
        TWILIO_HEADER,
        twilio_row(701, s1, "+12125550150", "delivered", "2026-12-01T10:00:00Z"),
        twilio_row(
            702, s1, "+12125550151", "undelivered", "2026-12-01T10:01:00Z", "30007"
        ),
        twilio_row(703, s2, "+12125550152", "queued", ""),
        twilio_row(705, s2, "+12125550154", "delivered", "2026-12-01T10:04:00Z"),
    ]
    # Two final records of one message, without provider update times: the
    # larger (status, code) wins whichever file comes first.
    other = [
        TWILIO_HEADER,
        twilio_row(704, s2, "+12125550153", "delivered", "2026-12-01T10:03:00Z"),
        twilio_row(706, s1, "+12125550155", "delivered", "2026-12-01T10:05:00Z"),
        twilio_row(
            706, s1, "+12125550155", "undelivered", "2026-12-01T10:05:00Z", "30006"
        ),
    ]
    write("overlap_early.csv", csv_text(early))
    write("overlap_late.csv", csv_text(late))
    write("overlap_other.csv", csv_text(other))

    # Telnyx records carry an update time: between two final records of one
    # message, the newer one wins.
    header = [
        "uuid",
        "created_at",
        "sent_at",
        "completed_at",
        "direction",
        "cli",
        "cld",
        "status",
        "errors",
    ]
    first = [
        header,
        [
            "4c3a0000-0000-4000-8000-000000000901",
            "2026-12-01T10:00:00Z",
            "2026-12-01T10:00:01Z",
            "2026-12-01T10:05:00Z",
            "outbound",
            s1,
            "+12125550156",
            "delivery_failed",
            "40002",
        ],
    ]
    second = [
        header,
        [
            "4c3a0000-0000-4000-8000-000000000901",
            "2026-12-01T10:00:00Z",
            "2026-12-01T10:00:01Z",
            "2026-12-01T10:03:00Z",
            "outbound",
            s1,
            "+12125550156",
            "delivered",
            "",
        ],
    ]
    write("telnyx_newer.csv", csv_text(first))
    write("telnyx_older.csv", csv_text(second))


def pool_and_optouts() -> None:
    rows = [
        TWILIO_HEADER,
        twilio_row(
            801, "+14155550199", "+12125550160", "delivered", "2026-12-01T10:00:00Z"
        ),
        twilio_row(
            802,
            "+14155550199",
            "+12125550161",
            "undelivered",
            "2026-12-01T10:01:00Z",
            "30007",
        ),
        twilio_row(
            803, "+14155550101", "+12125550162", "delivered", "2026-12-01T10:02:00Z"
        ),
        twilio_row(
            804,
            "+12125550163",
            "+14155550199",
            "received",
            "2026-12-01T10:03:00Z",
            direction="inbound",
            body="ok",
        ),
    ]
    write("outside_pool.csv", csv_text(rows))

    s1 = "+14155550101"
    words = [
        "STOP",
        "stopall",
        " Unsubscribe ",
        "CANCEL",
        "end",
        "Quit",
        "REVOKE",
        "OptOut",
        "STOP please",
        "stopp",
    ]
    optout_rows = [TWILIO_HEADER]
    for i, word in enumerate(words):
        optout_rows.append(
            twilio_row(
                900 + i,
                f"+1212555{1000 + i:04d}",
                s1,
                "received",
                f"2026-12-01T10:{i:02d}:00Z",
                direction="inbound",
                body=word,
            )
        )
    optout_rows.append(
        twilio_row(
            920, s1, "+12125551020", "undelivered", "2026-12-01T11:00:00Z", "21610"
        )
    )
    optout_rows.append(
        twilio_row(
            921,
            "+12125551000",
            s1,
            "received",
            "2026-12-01T12:00:00Z",
            direction="inbound",
            body="start",
        )
    )
    optout_rows.append(
        twilio_row(
            922,
            "+12125551001",
            s1,
            "received",
            "2026-12-01T12:00:00Z",
            direction="inbound",
            body="UNSTOP",
        )
    )
    write("optouts.csv", csv_text(optout_rows))


def sticky() -> None:
    s1, s2, s3 = "+14155550101", "+14155550102", "+14155550103"
    # Newest first, as consoles export: each contact's earliest text is last.
    first = [
        TWILIO_HEADER,
        twilio_row(1101, s2, "+12125552000", "delivered", "2026-12-02T10:00:00Z"),
        twilio_row(1102, s3, "+12125552001", "delivered", "2026-12-01T10:00:00Z"),
        twilio_row(1103, s2, "+12125552002", "delivered", "2026-12-01T09:00:00Z"),
        twilio_row(1104, s1, "+12125552002", "delivered", "2026-12-01T09:00:00Z"),
        twilio_row(
            1105, s1, "+12125552000", "undelivered", "2026-12-01T08:00:00Z", "30007"
        ),
        twilio_row(
            1106, "+14155550199", "+12125552001", "delivered", "2026-11-30T10:00:00Z"
        ),
        twilio_row(
            1107,
            "+12125552003",
            s1,
            "received",
            "2026-11-30T09:00:00Z",
            direction="inbound",
            body="hi",
        ),
    ]
    later = [
        TWILIO_HEADER,
        twilio_row(1111, s3, "+12125552000", "delivered", "2026-11-01T10:00:00Z"),
        twilio_row(1112, s2, "+12125552003", "delivered", "2026-11-01T10:00:00Z"),
    ]
    write("sticky_first.csv", csv_text(first))
    write("sticky_later.csv", csv_text(later))


def bad_files() -> None:
    s1 = "+14155550101"
    rows = [
        TWILIO_HEADER,
        twilio_row(1001, s1, "+12125550170", "delivered", "2026-12-01T10:00:00Z"),
        twilio_row(1002, s1, "+12125550171", "lost", "2026-12-01T10:01:00Z"),
        twilio_row(1003, s1, "not a phone", "delivered", "2026-12-01T10:02:00Z"),
        twilio_row(1004, s1, "+12125550173", "delivered", "yesterday noon"),
        twilio_row(1008, s1, "+12125550178", "delivered", "2026-12-01T10:03:00Z"),
        twilio_row(1005, s1, "+12125550174", "delivered", "2026-12-01T10:04:00Z"),
        [s1, "+12125550175", "short row"],
        twilio_row(
            1006,
            s1,
            "+12125550176",
            "delivered",
            "2026-12-01T10:05:00Z",
            direction="sideways",
        ),
        twilio_row(1007, s1, "+12125550177", "delivered", "2026-12-01T10:06:00Z"),
    ]
    rows[5][9] = ""  # a record with no message id
    write("bad_rows.csv", csv_text(rows) + "\n")
    write("no_header.csv", csv_text([["alpha", "beta", "gamma"], ["1", "2", "3"]]))
    write("semicolons.csv", "Sid;From;To;Status\nSM1;+14155550101;+12125550100;sent\n")
    write("empty.csv", "")
    write("header_only.csv", csv_text([TWILIO_HEADER], "\r\n"))
    write("binary.dat", bytes(range(256)) * 8 + b"\x00\x01\x02" * 100)


def main() -> None:
    twilio_console()
    twilio_json()
    telnyx()
    plivo()
    generic()
    encodings_and_line_ends()
    spreadsheet_mangled()
    dates()
    several_files()
    pool_and_optouts()
    sticky()
    bad_files()


if __name__ == "__main__":
    main()
