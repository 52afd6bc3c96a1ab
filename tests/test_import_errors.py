"""Bad rows are rejected one by one; a file that cannot be read changes nothing."""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.test_logs_traps import ACCOUNT, console_row, sid, write_console

FIXTURES = DATA / "import"
BAD = FIXTURES / "bad_rows.csv"


def dump(db_path: Path) -> list[str]:
    """Every table's schema and rows, to tell whether anything changed."""
    with closing(sqlite3.connect(db_path)) as conn:
        return list(conn.iterdump())


def count(db_path: Path, table: str) -> int:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


REJECTED = [
    ("3", "unknown status 'lost'"),
    (
        "4",
        "to number 'not a phone' is not a valid phone number; give it as "
        "+14155550123 or (415) 555-0123",
    ),
    ("5", "sent time 'yesterday noon' is not a time"),
    ("6", "no message id"),
    ("8", "has 3 fields; the header has 13"),
    ("9", "unknown direction 'sideways'"),
]


@pytest.mark.parametrize(
    "target, what",
    [
        ("{db}", "the database"),
        ("{db}-wal", "a file the database keeps beside it"),
        ("{db}.import-lock", "a file the database keeps beside it"),
        ("{link}", "the database"),
        ("{export}", "an export being imported"),
    ],
)
def test_rejects_naming_the_database_or_an_export_is_refused_untouched(
    pool, db_path, tmp_path, target, what
):
    export = tmp_path / "bad.csv"
    export.write_bytes(BAD.read_bytes())
    link = tmp_path / "link.db"
    link.symlink_to(db_path)
    path = target.format(db=db_path, link=link, export=export)
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    result = pool("logs", "import", "--quiet", "--rejects", path, str(export))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --rejects {path} is {what} and would be overwritten; "
        "give --rejects a file of its own\n"
    )
    assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert count(db_path, "imports") == 0


@pytest.mark.parametrize("companion", ["-wal", "-shm", "-journal"])
def test_rejects_naming_a_companion_of_a_database_reached_by_a_link_is_refused(
    pool, db_path, tmp_path, companion
):
    link = tmp_path / "elsewhere.db"
    link.symlink_to(db_path)
    # A link to a companion that may not exist yet.
    target = tmp_path / "rejects.csv"
    target.symlink_to(f"{db_path}{companion}")
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    result = pool(
        "logs",
        "import",
        "--quiet",
        "--db",
        str(link),
        "--rejects",
        str(target),
        str(BAD),
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --rejects {target} is a file the database keeps beside it and "
        "would be overwritten; give --rejects a file of its own\n"
    )
    assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_an_import_lock_that_cannot_be_opened_is_one_line(pool, db_path):
    lock = db_path.with_name(db_path.name + ".import-lock")
    lock.mkdir()
    result = pool("logs", "import", "--quiet", str(BAD))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: cannot open the import lock {lock}: Is a directory; smsctl needs "
        "to write it beside the database\n"
    )
    assert count(db_path, "imports") == 0


def test_bad_rows_are_rejected_with_line_and_reason_and_good_rows_kept(
    pool, db_path, tmp_path
):
    rejects = tmp_path / "rejects.csv"
    result = pool("logs", "import", "--quiet", "--rejects", str(rejects), str(BAD))
    assert result.exit_code == 1
    assert result.stderr == "".join(
        f"{BAD}:{line}: rejected: {reason}\n" for line, reason in REJECTED
    )
    assert result.stdout == (
        f"{BAD}: Twilio console CSV, 9 read, 3 added, "
        "0 updated, 0 unchanged, 6 rejected\n"
    )
    with open(rejects, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["file", "line", "reason", "raw"]
    assert [(row[1], row[2]) for row in rows[1:]] == REJECTED
    assert {row[0] for row in rows[1:]} == {str(BAD)}
    # raw is the record's own text, made safe for a spreadsheet.
    original = BAD.read_text(encoding="utf-8").splitlines()
    assert [row[3] for row in rows[1:]] == [
        "'" + original[int(line) - 1] for line, _ in REJECTED
    ]
    assert count(db_path, "messages") == 3


def test_a_line_too_long_to_keep_rejects_its_record_alone(pool, db_path, tmp_path):
    long_text = "x" * 4_300_000  # more than 4 MiB characters on one line
    sender, recipient = "+14155550101", "+12125550110"
    path = write_console(
        tmp_path / "long_lines.csv",
        [
            console_row(1, sender, recipient, body=long_text),  # line 2
            console_row(2, sender, recipient, body=f"a\n{long_text}\nb"),  # 3 to 5
            console_row(3, sender, recipient, body="kept"),  # line 6
        ],
        newline="\n",
    )
    rejects = tmp_path / "rejects.csv"
    result = pool("logs", "import", "--quiet", "--rejects", str(rejects), str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"{path}:2: rejected: has a line (2) longer than 4,194,304 characters\n"
        f"{path}:3: rejected: has a line (4) longer than 4,194,304 characters\n"
    )
    assert result.stdout == (
        f"{path}: Twilio console CSV, 3 read, 1 added, "
        "0 updated, 0 unchanged, 2 rejected\n"
    )
    with open(rejects, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    # The too-long line is not kept; a mark stands in its place.
    assert [row[3] for row in rows[1:]] == [
        "(a line too long to keep)",
        # made safe for a spreadsheet, as every raw text starting with "+"
        f'\'{sender},{recipient},"a\n(a line too long to keep)\nb",delivered,'
        f"2026-11-28T17:00:00Z,2010-04-01,1,,{ACCOUNT},{sid(2)},outbound-api,"
        "-0.00790,USD",
    ]
    assert count(db_path, "messages") == 1


def test_a_json_line_too_long_to_keep_is_rejected_alone(pool, db_path, tmp_path):
    lines = (FIXTURES / "twilio_lines.jsonl").read_text(encoding="utf-8").splitlines()
    long_item = json.loads(lines[0]) | {"sid": "SMlong", "body": "x" * 4_300_000}
    path = tmp_path / "long.jsonl"
    path.write_text(
        "\n".join([lines[0], json.dumps(long_item), *lines[1:]]) + "\n",
        encoding="utf-8",
    )
    result = pool("logs", "import", "--quiet", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"{path}:2: rejected: is longer than 4,194,304 characters\n"
    )
    assert result.stdout == (
        f"{path}: Twilio JSON Lines, {len(lines) + 1} read, "
        f"{len(lines)} added, 0 updated, 0 unchanged, 1 rejected\n"
    )


@pytest.mark.skipif(not Path("/proc/version").exists(), reason="needs /proc")
def test_a_file_that_reports_no_size_is_judged_by_what_it_holds(pool, db_path):
    # Files under /proc report a size of 0 yet hold text.
    result = pool("logs", "import", "/proc/version")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: /proc/version: no recognisable header: ")


def test_blank_lines_are_not_records(pool, db_path, tmp_path):
    text = (FIXTURES / "crlf.csv").read_text(encoding="utf-8")
    header, first, second = text.splitlines()
    path = tmp_path / "blank_lines.csv"
    path.write_text(f"{header}\n\n{first}\n\n\n{second}\n\n", encoding="utf-8")
    result = pool.ok("logs", "import", "--quiet", str(path))
    assert "2 read, 2 added, 0 updated, 0 unchanged, 0 rejected" in result.stdout


def test_many_rejections_are_cut_short_on_stderr_but_all_written_to_rejects(
    pool, db_path, tmp_path
):
    text = (FIXTURES / "crlf.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "many.csv"
    rows = [
        text[1]
        .replace("delivered", "lost")
        .replace("SM000000000000000000000000000000c9", f"SM{n:032x}")
        for n in range(150)
    ]
    path.write_text("\n".join([text[0], *rows]) + "\n", encoding="utf-8")
    plain = pool("logs", "import", "--quiet", str(path))
    assert plain.exit_code == 1
    lines = plain.stderr.splitlines()
    assert len(lines) == 101
    assert lines[-1] == "more rejected rows follow; write them all with --rejects FILE"
    rejects = tmp_path / "rejects.csv"
    pool("logs", "import", "--quiet", "--rejects", str(rejects), str(path))
    with open(rejects, newline="", encoding="utf-8") as handle:
        assert len(list(csv.reader(handle))) == 151


@pytest.mark.parametrize(
    "name, message",
    [
        (
            "no_header.csv",
            "no recognisable header: 'alpha,beta,gamma'; expected a "
            "Twilio, Telnyx or Plivo export, or name the columns with --map id=COL,"
            "from=COL,to=COL,status=COL,sent_at=COL",
        ),
        (
            "semicolons.csv",
            "no recognisable header (it is not comma-separated): "
            "'Sid;From;To;Status'; expected a Twilio, Telnyx or Plivo export, "
            "or name the columns with "
            "--map id=COL,from=COL,to=COL,status=COL,sent_at=COL",
        ),
        ("empty.csv", "the file is empty"),
        ("binary.dat", "the file holds binary data, not a text export"),
    ],
)
def test_unreadable_file_exits_2_and_changes_nothing(pool, db_path, name, message):
    before = dump(db_path)
    result = pool("logs", "import", "--quiet", str(FIXTURES / name))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {FIXTURES / name}: {message}\n"
    assert result.stdout == ""
    assert dump(db_path) == before


def test_a_directory_or_a_missing_file_exits_2_and_changes_nothing(
    pool, db_path, tmp_path
):
    before = dump(db_path)
    result = pool("logs", "import", str(tmp_path))
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: {tmp_path} is a directory; give an export file\n",
    )
    missing = tmp_path / "nowhere.csv"
    result = pool("logs", "import", str(missing))
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: {missing} does not exist\n",
    )
    assert dump(db_path) == before


def test_an_empty_file_name_exits_2_and_imports_nothing(pool, db_path):
    before = dump(db_path)
    result = pool("logs", "import", str(FIXTURES / "twilio_console.csv"), "")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        "Error: an empty file name was given; name each export file\n",
    )
    assert dump(db_path) == before


def test_truncated_json_page_keeps_the_messages_before_the_break(
    pool, db_path, tmp_path
):
    text = (FIXTURES / "twilio_page.json").read_text(encoding="utf-8")
    cut = text.index('"sid": "SM00000000000000000000000000000068"')
    path = tmp_path / "page.json"
    path.write_text(text[:cut], encoding="utf-8")
    result = pool("logs", "import", "--quiet", str(path))
    assert result.exit_code == 1
    assert count(db_path, "messages") == 3
    assert "rejected: is not valid JSON" in result.stderr


@pytest.mark.parametrize(
    "content, message",
    [
        (
            '{\n"next_page_uri": null, "page": 0}',
            'the JSON page has no "messages" array',
        ),
        (
            '{"messages": "none"}',
            "the JSON page is malformed: expected '[' after " '"messages"',
        ),
        (
            '{"messages" 5}',
            "the JSON page is malformed: expected ':' after the key " "'messages'",
        ),
        (
            '{"next_page_uri": null, "page": 0}',
            "the first JSON line is not a message: "
            "it lacks sid, from, to, status; expected Twilio messages, "
            'one a line, or a page with "messages"',
        ),
    ],
)
def test_json_without_messages_changes_nothing(
    pool, db_path, tmp_path, content, message
):
    before = dump(db_path)
    path = tmp_path / "page.json"
    path.write_text(content, encoding="utf-8")
    result = pool("logs", "import", "--quiet", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: {message}\n"
    assert dump(db_path) == before


def test_json_lines_with_a_broken_line_rejects_that_line(pool, db_path, tmp_path):
    lines = (FIXTURES / "twilio_lines.jsonl").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2][:40]
    lines.insert(4, "[1, 2, 3]")
    path = tmp_path / "lines.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = pool("logs", "import", "--quiet", str(path))
    assert result.exit_code == 1
    first, second = result.stderr.splitlines()
    assert first.startswith(f"{path}:3: rejected: is not valid JSON (")
    assert second == f"{path}:5: rejected: is not a JSON object"
    assert count(db_path, "messages") == 5


def test_header_alone_is_an_empty_import(pool, db_path):
    result = pool.ok("logs", "import", "--quiet", str(FIXTURES / "header_only.csv"))
    assert result.stdout == (
        f"{FIXTURES / 'header_only.csv'}: Twilio console CSV, "
        "0 read, 0 added, 0 updated, 0 unchanged, 0 rejected\n"
    )
    history = json.loads(pool.ok("logs", "history", "--format", "json").stdout)
    assert [(h["rows_read"], h["added"], h["rejected"]) for h in history] == [(0, 0, 0)]
    assert count(db_path, "messages") == 0


@pytest.mark.parametrize(
    "names, code",
    [
        (["twilio_console.csv", "header_only.csv"], 0),
        (["twilio_console.csv", "bad_rows.csv"], 1),
        (["bad_rows.csv", "empty.csv", "twilio_console.csv"], 2),
        (["no_header.csv", "bad_rows.csv"], 2),
    ],
)
def test_several_files_exit_with_the_worst_code(pool, db_path, names, code):
    result = pool("logs", "import", "--quiet", *(str(FIXTURES / n) for n in names))
    assert result.exit_code == code
    # Every readable file is imported, whatever the others hold.
    history = json.loads(pool.ok("logs", "history", "--format", "json").stdout)
    readable = [n for n in names if n not in ("empty.csv", "no_header.csv")]
    assert [Path(h["file"]).name for h in history] == readable


def test_import_without_a_database_says_to_run_init(cli, db_path):
    result = cli("logs", "import", str(FIXTURES / "twilio_console.csv"))
    assert result.exit_code == 2
    assert "run 'smsctl init --main PHONE' first" in result.stderr
    assert not db_path.exists()


def test_unwritable_rejects_file_is_a_usage_error(pool, db_path, tmp_path):
    before = dump(db_path)
    result = pool(
        "logs", "import", "--rejects", str(tmp_path / "no" / "r.csv"), str(BAD)
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: cannot write --rejects {tmp_path}")
    assert dump(db_path) == before
