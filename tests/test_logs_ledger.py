"""`logs history`: one ledger row per imported file, with DESIGN's fields and
counts that add up over first imports, re-imports and later statuses."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from tests.cli_reading import history, import_
from tests.conftest import SAMPLE_EXPORT

LOGS = Path(__file__).parent / "data" / "logs"
MAP = "id=MessageId,from=Sender,to=Recipient,status=State,sent_at=Time,direction=Way"
NOW = datetime.fromisoformat("2026-12-04T12:00:00+00:00")
FIELDS = {
    "id",
    "file",
    "sha256",
    "provider",
    "started_at",
    "finished_at",
    "rows_read",
    "added",
    "updated",
    "unchanged",
    "rejected",
}
COUNTS = ("rows_read", "added", "updated", "unchanged", "rejected")
CONSOLE = LOGS / "twilio_console.csv"


def counts(entry: dict) -> tuple[int, ...]:
    return tuple(entry[key] for key in COUNTS)


@functools.cache
def console_records() -> tuple[bytes, list[bytes]]:
    """The console fixture's header and its records (one may span lines)."""
    content = CONSOLE.read_bytes().removeprefix(b"\xef\xbb\xbf")
    header, *records = content.split(b"\r\n")
    return header, [record for record in records if record]


def console_line(fields: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(fields)
    return buffer.getvalue().encode("utf-8")


def fixture_row(sid_suffix: str, **changes: str) -> bytes:
    """A record of the console fixture by the end of its Sid, some fields changed."""
    header, records = console_records()
    names = header.decode().split(",")
    for record in records:
        [fields] = csv.reader(io.StringIO(record.decode()))
        if fields[names.index("Sid")].endswith(sid_suffix):
            for name, value in changes.items():
                fields[names.index(name)] = value
            return console_line(fields)
    raise LookupError(sid_suffix)


@pytest.mark.parametrize(
    ("fixture", "extra"),
    [
        ("twilio_console.csv", []),
        ("twilio_page.json", []),
        ("twilio_lines.jsonl", []),
        ("telnyx_mdr.csv", []),
        ("plivo_records.csv", []),
        ("generic_mapped.csv", ["--map", MAP]),
    ],
)
def test_history_row_has_designs_fields_and_the_files_sha256(pool, fixture, extra):
    path = LOGS / fixture

    pool.ok("logs", "import", "--quiet", str(path), *extra)

    [entry] = history(pool)
    assert set(entry) == FIELDS
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert Path(entry["file"]).resolve() == path.resolve()
    assert isinstance(entry["id"], int)
    assert counts(entry) == (10, 10, 0, 0, 0)


def test_history_times_are_the_clocks(pool):
    pool.ok("logs", "import", "--quiet", str(CONSOLE))

    [entry] = history(pool)
    started = datetime.fromisoformat(entry["started_at"])
    finished = datetime.fromisoformat(entry["finished_at"])
    assert started == finished == NOW


def test_sha256_covers_the_whole_file_not_just_its_head(pool, tmp_path):
    header, records = console_records()
    body = b"\r\n".join(records) + b"\r\n"
    path = tmp_path / "big.csv"
    padding = [
        fixture_row("f00010", Sid=f"SM{n:032x}", To=f"+1646555{n:04d}", Body="x" * 200)
        for n in range(1, 1001)
    ]
    path.write_bytes(header + b"\r\n" + b"".join(padding) + body)
    other = tmp_path / "big_with_one_more_row.csv"
    other.write_bytes(path.read_bytes() + fixture_row("f00010", Sid="SM" + "e" * 32))

    pool.ok("logs", "import", "--quiet", str(path), str(other))

    first, second = history(pool)
    assert first["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert second["sha256"] == hashlib.sha256(other.read_bytes()).hexdigest()
    assert first["sha256"] != second["sha256"]
    assert counts(first) == (1010, 1010, 0, 0, 0)
    assert counts(second) == (1011, 1, 0, 1010, 0)


def test_sha256_is_of_the_bytes_as_stored_for_windows_1252(pool, tmp_path):
    path = tmp_path / "resaved.csv"
    header, _ = console_records()
    row = fixture_row("f00001", Body="Café “Le Jardin”", Sid="SM" + "c" * 32)
    path.write_bytes(header + b"\r\n" + row.decode().encode("cp1252"))

    pool.ok("logs", "import", "--quiet", str(path))

    [entry] = history(pool)
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_first_import_counts_a_repeated_record_as_unchanged(pool, tmp_path):
    path = tmp_path / "repeats.csv"
    path.write_bytes(CONSOLE.read_bytes() + fixture_row("f00001"))

    result = import_(pool, str(path))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    [entry] = history(pool)
    assert counts(entry) == (11, 10, 0, 1, 0)


def test_reimport_leaves_every_message_unchanged(pool):
    pool.ok("logs", "import", "--quiet", str(CONSOLE))

    result = import_(pool, str(CONSOLE))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    first, again = history(pool)
    assert counts(first) == (10, 10, 0, 0, 0)
    assert counts(again) == (10, 0, 0, 10, 0)
    assert again["id"] > first["id"]
    assert again["sha256"] == first["sha256"]


def test_import_with_later_statuses_counts_updates(pool, tmp_path):
    pool.ok("logs", "import", "--quiet", str(CONSOLE))
    header, _ = console_records()
    later = tmp_path / "later.csv"
    later.write_bytes(
        header
        + b"\r\n"
        # sent -> delivered, and queued -> delivered: updated
        + fixture_row("f00002", Status="delivered")
        + fixture_row(
            "f00008", Status="delivered", SentDate="2026-11-29T10:03:00-08:00"
        )
        # the same record again, and a lower rank after a final one: unchanged
        + fixture_row("f00001")
        + fixture_row("f00003", Status="queued", SentDate="", ErrorCode="")
        # a message not seen before: added
        + fixture_row("f00010", Sid="SM" + "0" * 26 + "f00011", To="+16465550171")
        # an unknown status: rejected
        + fixture_row("f00005", Status="exploded")
    )

    result = import_(pool, str(later))

    assert result.exit_code == 1
    first, second = history(pool)
    assert counts(second) == (6, 1, 2, 2, 1)
    rows = json.loads(
        pool.ok("numbers", "list", "--all-time", "--format", "json").stdout
    )
    sent = {row["number"]: (row["delivered"], row["blocked"]) for row in rows}
    assert sent == {
        "+14155550100": (0, 0),
        "+14155550101": (2, 1),
        "+14155550102": (1, 0),
        "+14155550103": (2, 0),
    }

    import_(pool, str(later))

    assert counts(history(pool)[-1]) == (6, 0, 0, 5, 1)


def test_each_file_of_one_command_gets_its_own_row(pool, tmp_path):
    bad = tmp_path / "bad.csv"
    header, _ = console_records()
    bad.write_bytes(header + b"\r\n" + fixture_row("f00001", Status="exploded"))
    files = [CONSOLE, LOGS / "plivo_records.csv", bad, LOGS / "twilio_lines.jsonl"]

    result = import_(pool, *map(str, files))

    assert result.exit_code == 1
    entries = history(pool)
    assert [Path(entry["file"]).name for entry in entries] == [f.name for f in files]
    assert [entry["provider"] for entry in entries] == [
        "twilio",
        "plivo",
        "twilio",
        "twilio",
    ]
    assert [counts(entry) for entry in entries] == [
        (10, 10, 0, 0, 0),
        (10, 10, 0, 0, 0),
        (1, 0, 0, 0, 1),
        (10, 10, 0, 0, 0),
    ]
    assert [entry["id"] for entry in entries] == sorted(
        {entry["id"] for entry in entries}
    )
    for entry in entries:
        assert entry["rows_read"] == sum(entry[key] for key in COUNTS[1:])


def test_history_as_csv_has_the_same_fields(pool):
    pool.ok("logs", "import", "--quiet", str(CONSOLE))

    as_csv = pool.ok("logs", "history", "--format", "csv").stdout

    [row] = list(csv.DictReader(io.StringIO(as_csv)))
    assert set(row) == FIELDS
    assert row["sha256"] == hashlib.sha256(CONSOLE.read_bytes()).hexdigest()
    assert (row["provider"], row["rows_read"], row["added"]) == ("twilio", "10", "10")


def test_history_table_off_a_terminal_keeps_every_cell_whole(pool, tmp_path):
    folder = tmp_path / ("exports-" + "x" * 150)
    folder.mkdir()
    export = folder / "export.csv"
    export.write_bytes(SAMPLE_EXPORT.read_bytes())
    for _ in range(12):
        pool.ok("logs", "import", "--quiet", str(export))
    table = pool.ok("logs", "history").stdout
    rows = [line.split() for line in table.splitlines() if str(export) in line]
    assert [row[:2] for row in rows] == [[str(n), str(export)] for n in range(1, 13)]
    assert "…" not in table
