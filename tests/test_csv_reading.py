"""Reading CSV exports: plain lines are split without the csv module, and
every record, line number and rejected text is what the csv module gives."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from smsctl.importing.formats import generic_layout
from smsctl.importing.readers import (
    LONG_LINE,
    LONG_LINE_QUOTED,
    BoundedLines,
    CsvReader,
    plain_csv_fields,
)
from smsctl.importing.source import ExportFile

LINE_ENDS = st.sampled_from(["", "\n", "\r\n", "\r"])
# Cells a spreadsheet or a provider writes: plain, quoted, quoted with commas,
# doubled quotes and line breaks, and stray quotes.
PLAIN_CELL = st.text(alphabet="ab 1+-", max_size=6)
QUOTED_CELL = st.text(alphabet='ab ,"\n\r', max_size=8).map(
    lambda text: '"' + text.replace('"', '""') + '"'
)
ODD_CELL = st.text(alphabet='ab ,"', max_size=6)
CELL = st.one_of(PLAIN_CELL, PLAIN_CELL, QUOTED_CELL, ODD_CELL)


def csv_module_fields(line: str) -> list[str]:
    return next(csv.reader([line]), [])


@given(body=st.text(alphabet='a ,"\t\x00', max_size=30), end=LINE_ENDS)
def test_a_plain_line_splits_as_the_csv_module_reads_it(body, end):
    line = body + end
    fields = plain_csv_fields(line)
    if fields is not None:
        assert fields == csv_module_fields(line)


@given(cells=st.lists(st.one_of(PLAIN_CELL, QUOTED_CELL), max_size=6), end=LINE_ENDS)
def test_lines_of_plain_cells_split_as_the_csv_module_reads_them(cells, end):
    line = ",".join(cells) + end
    fields = plain_csv_fields(line)
    one_line = "\n" not in line.rstrip("\r\n") and "\r" not in line.rstrip("\r\n")
    quotes = line.count('"')
    if one_line and (quotes == 0 or (quotes == 2 and '""' not in line)):
        assert fields is not None  # the common lines take the fast path
    if fields is not None:
        assert fields == csv_module_fields(line)


def test_the_shapes_that_are_left_to_the_csv_module():
    assert plain_csv_fields('a,"b,c",d\n') == ["a", "b,c", "d"]
    assert plain_csv_fields('"b",c\r\n') == ["b", "c"]
    assert plain_csv_fields('a,,"b"') == ["a", "", "b"]
    assert plain_csv_fields("\n") == []
    for line in ('a,"b\n', 'a,"b""c",d\n', 'a,x"b",d\n', 'a,"b"x,d\n', '"a","b"\n'):
        assert plain_csv_fields(line) is None, line


def records_as_the_csv_module_reads_them(text: str, width: int):
    """(line, fields) of each record and (line, reason, raw) of each bad one,
    read by the csv module alone, line by physical line."""
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(iter(lines))
    next(reader)
    records, bad, end = [], [], reader.line_num
    for row in reader:
        start, end = end + 1, reader.line_num
        if len(row) != width:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            raw = "".join(lines[start - 1 : end])
            raw = raw[:-2] if raw.endswith("\r\n") else raw.rstrip("\r\n")
            bad.append((start, f"has {len(row)} fields; the header has {width}", raw))
            continue
        records.append((start, row))
    return records, bad


def records_as_smsctl_reads_them(text: str):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_bytes(text.encode("utf-8"))
        layout = generic_layout(
            {"id": "id", "from": "from", "to": "to", "status": "status"}
        )
        bad = []
        with ExportFile(path) as export:
            reader = CsvReader(export, layout, lambda *found: bad.append(found))
            records = [(reader.line, row) for row in reader]
        return records, bad


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.lists(CELL, min_size=0, max_size=5), LINE_ENDS), max_size=12
    )
)
def test_an_export_reads_as_the_csv_module_reads_it(rows):
    text = "id,from,to,status\r\n" + "".join(
        ",".join(cells) + (end or "\n") for cells, end in rows
    )
    assert records_as_smsctl_reads_them(text) == records_as_the_csv_module_reads_them(
        text, 4
    )


def test_a_quoted_body_over_three_lines_keeps_its_start_line_and_text():
    text = "id,from,to,status\n" 'a,"x\r\ny\nz",c,d\n' "b,1,2\n" "e,f,g,h\r\n"
    assert records_as_smsctl_reads_them(text) == (
        [(2, ["a", "x\r\ny\nz", "c", "d"]), (6, ["e", "f", "g", "h"])],
        [(5, "has 3 fields; the header has 4", "b,1,2")],
    )


def lines_within(text: str, limit: int) -> tuple[list[str], set[int]]:
    """The lines of ``text`` as ``newline=""`` splits them, each one longer
    than ``limit`` characters before its end replaced, and their numbers."""
    lines, long = [], set()
    for number, line in enumerate(io.StringIO(text, newline="").readlines(), 1):
        if len(line.rstrip("\r\n")) > limit:
            lines.append(LONG_LINE_QUOTED if line.count('"') % 2 else LONG_LINE)
            long.add(number)
        else:
            lines.append(line)
    return lines, long


def bounded(text: str, limit: int) -> tuple[list[str], set[int]]:
    stream = io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8", newline="")
    lines = BoundedLines(stream, limit)
    return list(lines), lines.long_lines


@settings(max_examples=500)
@given(text=st.text(alphabet='ab"\r\n', max_size=40), limit=st.integers(1, 6))
def test_bounded_lines_end_and_are_numbered_as_the_csv_module_has_them(text, limit):
    assert bounded(text, limit) == lines_within(text, limit)


def test_a_line_of_exactly_the_limit_is_kept_and_a_cut_cr_lf_stays_one_end():
    text = "abcd\n" + "abc\r\n" + "abcd\r\n" + "abcde\r\n" + "x\n"
    assert bounded(text, 4) == (
        ["abcd\n", "abc\r\n", "abcd\r\n", LONG_LINE, "x\n"],
        {4},
    )


def test_a_long_line_that_closes_a_quoted_body_leaves_the_rows_after_it():
    too_long = "y" * (4 << 20)
    text = "id,from,to,status\n" 'a,"x\n' f'{too_long}",c,d\n' "e,f,g,h\n"
    records, bad = records_as_smsctl_reads_them(text)
    assert records == [(4, ["e", "f", "g", "h"])]
    assert bad == [
        (
            2,
            "has a line (3) longer than 4,194,304 characters",
            'a,"x\n"(a line too long to keep)',
        )
    ]
