"""Streaming readers: records out of CSV, JSON page and JSON Lines exports.

A reader yields each good record as a list of field texts, and tells the
caller about a record it cannot read through ``on_bad(line, reason, raw)``.
After each record, ``line`` is the physical line the record starts on and
``raw()`` its original text, for rejecting it.
"""

from __future__ import annotations

import csv
import json
from typing import Callable, Iterator

from .formats import FIELDS, REQUIRED_FIELDS, TWILIO_JSON_KEYS, CsvLayout
from .source import ExportFile, _DecodeErrors, has_undecodable

# An enormous field is rejected with its row rather than read into memory whole.
FIELD_LIMIT = 1 << 20
csv.field_size_limit(FIELD_LIMIT)
# A physical line longer than this many characters is never held whole: it
# is read to its end in pieces and its record rejected, so that one enormous
# line cannot take memory past what an ordinary export needs.
LINE_LIMIT = 4 << 20
LONG_LINE = "(a line too long to keep)\n"
# In place of a long line with an odd number of quotes: a quoted field it
# opened or closed is opened or closed here too, so that the lines after it
# are read as they would have been.
LONG_LINE_QUOTED = '"(a line too long to keep)\n'
RAW_LIMIT = 4000
JSON_ELEMENT_LIMIT = 8 << 20
JSON_CHUNK = 1 << 16

BadRowHandler = Callable[[int, str, str], None]


class HeaderError(ValueError):
    """The file has no header or shape this reader can use; nothing is imported."""


ENCODING_NAMES = {"utf-8": "UTF-8", "cp1252": "Windows-1252"}


def _cut(text: str) -> str:
    """A raw text fit for a report: bytes that did not decode shown as ``\\xff``."""
    if len(text) > RAW_LIMIT:
        text = text[:RAW_LIMIT] + "..."
    if has_undecodable(text):
        text = text.encode("utf-8", "surrogateescape").decode(
            "utf-8", "backslashreplace"
        )
    return text


def _without_line_end(text: str) -> str:
    return text[:-2] if text.endswith("\r\n") else text.rstrip("\r\n")


def column_indices(layout: CsvLayout, header: list[str]) -> list[int | None]:
    """For each of FIELDS, the header's column index for it (None if absent)."""
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        positions.setdefault(name.strip().lower(), i)
    found: list[int | None] = []
    for name in FIELDS:
        names = (column.strip().lower() for column in layout.columns.get(name, ()))
        found.append(next((positions[n] for n in names if n in positions), None))
    missing = [
        name
        for name, index in zip(FIELDS, found)
        if index is None and name in REQUIRED_FIELDS
    ]
    if missing:
        wanted = ", ".join(
            f"{m} ({'/'.join(layout.columns.get(m, ('?',)))})" for m in missing
        )
        raise HeaderError(f"the header lacks the columns for {wanted}")
    return found


def read_csv_header(head_text: str) -> list[str]:
    """The first row of a CSV export, from the text of its head."""
    first_line = head_text.splitlines()[:1] or [""]
    try:
        first = next(csv.reader(first_line), [])
    except csv.Error:
        return []
    return [name.strip() for name in first]


class BoundedLines:
    """The lines of a text stream, none longer than ``limit`` characters
    before its line end.

    A longer line is read to its end in pieces and dropped; LONG_LINE stands
    in its place, so that line numbers stay right, and ``long_lines`` holds
    the numbers of the lines dropped (the reader takes them out as it
    reports them). Lines end as the csv module and ``newline=""`` have them:
    at CR, LF or CR LF.
    """

    def __init__(self, text, limit: int = LINE_LIMIT):
        self.text = text
        self.limit = limit
        self.long_lines: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        read = self.text.readline
        size = self.limit + 1  # a line of ``limit`` characters and one more
        number = 0
        ahead = ""  # a character read past the line before, to see its end
        while True:
            if ahead == "\r":  # a line with nothing before its end
                lf, ahead = self._after_cr()
                number += 1
                yield "\r" + lf
                continue
            if ahead:
                line = ahead if ahead == "\n" else ahead + read(size - 1)
                ahead = ""
            else:
                line = read(size)
            if not line:
                return
            number += 1
            if len(line) == size:
                if line[-1] == "\r":  # a CR LF the size read cut in two?
                    lf, ahead = self._after_cr()
                    line += lf
                elif line[-1] != "\n":
                    self.long_lines.add(number)
                    ahead, quotes = self._skip_rest(size)
                    quotes += line.count('"')
                    line = LONG_LINE_QUOTED if quotes % 2 else LONG_LINE
            yield line

    def _after_cr(self) -> tuple[str, str]:
        """After a CR that may be cut from its LF: the LF ("" if none), and
        a character read past the line end ("" if none)."""
        after = self.text.readline(1)
        return ("\n", "") if after == "\n" else ("", after)

    def _skip_rest(self, size: int) -> tuple[str, int]:
        """Read the rest of a long line; returns a character read past it and
        the quotes the rest held."""
        read = self.text.readline
        quotes = 0
        while len(more := read(size)) == size and more[-1] not in "\r\n":
            quotes += more.count('"')
        quotes += more.count('"')
        if len(more) == size and more[-1] == "\r":
            return self._after_cr()[1], quotes
        return "", quotes


def plain_csv_fields(line: str) -> list[str] | None:
    """The fields of one physical CSV line, when splitting it at commas gives
    exactly what the csv module would; None when the csv module must read it.

    Most lines of an export are plain: no quote, or one quoted field (the
    body) that starts and ends at commas. Those are split here, for about
    two thirds of the csv module's cost. Any other line (more quoted fields,
    a doubled quote, a quote inside a field, a field that runs on to the
    next line, one longer than the csv module's field limit) is None.
    """
    # A line holds one line end at most: the lines are split at every one.
    line = line.rstrip("\r\n")
    if len(line) > FIELD_LIMIT:
        return None
    if '"' not in line:
        return line.split(",") if line else []
    parts = line.split('"')
    if len(parts) != 3:
        return None
    fields = parts[0].split(",")
    after = parts[2]
    if fields[-1] or (after and after[0] != ","):
        return None  # text beside the quoted field
    fields[-1] = parts[1]
    if after:
        fields += after[1:].split(",")
    return fields


class _LinesForCsv:
    """The lines the csv module reads: one handed back first, then the
    source's; it keeps the lines of the record being read, and counts them."""

    def __init__(self, source: Iterator[str]):
        self.source = source
        self.handed_back: str | None = None
        self.taken: list[str] = []
        self.count = 0  # physical lines taken from the source so far

    def __iter__(self) -> _LinesForCsv:
        return self

    def __next__(self) -> str:
        line = self.handed_back
        if line is None:
            line = next(self.source)
        else:
            self.handed_back = None
        self.count += 1
        self.taken.append(line)
        return line


class CsvReader:
    """Records of a CSV export, each with the physical line it starts on.

    Plain lines are split by plain_csv_fields; the csv module reads the
    rest (and the header) from the same lines, so that a record may span
    several. The lines of the record read last are kept for ``raw()``.
    """

    def __init__(self, export: ExportFile, layout: CsvLayout, on_bad: BadRowHandler):
        self.export = export
        self.on_bad = on_bad
        self._bounded = BoundedLines(export.text)
        self._lines = iter(self._bounded)
        self._for_csv = _LinesForCsv(self._lines)
        self._reader = csv.reader(self._for_csv)
        try:
            header = next(self._reader)
        except StopIteration:
            raise HeaderError("the file is empty") from None
        except csv.Error as exc:
            raise HeaderError(f"the header cannot be read: {exc}") from None
        self.header = [name.strip().lstrip("\ufeff").strip() for name in header]
        self.columns = column_indices(layout, self.header)
        self.line = self._for_csv.count
        self._record: str | list[str] = ""  # the lines of the record read last

    def __iter__(self) -> Iterator[list[str]]:
        for_csv = self._for_csv
        width = len(self.header)
        decode_errors = _DecodeErrors
        clean_until = self.export.errors_at_open
        long_lines = self._bounded.long_lines
        count = for_csv.count
        for line in self._lines:
            count += 1
            row = plain_csv_fields(line)
            if row is None:
                for_csv.handed_back, for_csv.count, for_csv.taken = line, count - 1, []
                try:
                    row = next(self._reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    row = exc
                self._record = for_csv.taken
                self.line, count = count, for_csv.count
                if row.__class__ is not list:
                    if not (long_lines and self._holds_long_line(self.line, count)):
                        reason = f"is not readable CSV ({row})"
                        self.on_bad(self.line, reason, self.raw())
                    continue
            else:
                self._record = line
                self.line = count
            if long_lines and self._holds_long_line(self.line, count):
                continue
            if len(row) != width:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line holds no record
                self.on_bad(
                    self.line,
                    f"has {len(row)} fields; the header has {width}",
                    self.raw(),
                )
                continue
            if decode_errors.count != clean_until and has_undecodable("".join(row)):
                encoding = ENCODING_NAMES.get(
                    self.export.encoding, self.export.encoding
                )
                self.on_bad(
                    self.line, f"holds bytes that are not valid {encoding}", self.raw()
                )
                continue
            yield row

    def _holds_long_line(self, start: int, end: int) -> bool:
        """Reject the record on lines start..end if one of them was too long."""
        found = sorted(n for n in self._bounded.long_lines if n <= end)
        if not found:
            return False
        self._bounded.long_lines.difference_update(found)
        if found[-1] < start:
            return False  # dropped lines of records already reported
        self.on_bad(
            start,
            f"has a line ({found[-1]}) longer than {LINE_LIMIT:,} characters",
            self.raw(),
        )
        return True

    def raw(self) -> str:
        """The original text of the record read last, without its final line end."""
        record = self._record
        text = record if record.__class__ is str else "".join(record)
        return _cut(_without_line_end(text))


def _json_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def twilio_json_fields(item: dict) -> list[str]:
    """One Twilio REST message object as field texts, in FIELDS order."""
    return [_json_text(item.get(TWILIO_JSON_KEYS[name])) for name in FIELDS]


TWILIO_JSON_COLUMNS: list[int | None] = list(range(len(FIELDS)))


class JsonLinesReader:
    """Records of a JSON Lines export: one message object a line."""

    columns = TWILIO_JSON_COLUMNS

    def __init__(self, export: ExportFile, on_bad: BadRowHandler):
        self.export = export
        self.on_bad = on_bad
        self.line = 0
        self._text = ""

    def __iter__(self) -> Iterator[list[str]]:
        lines = BoundedLines(self.export.text)
        for line, text in enumerate(lines, start=1):
            self.line, self._text = line, text
            if line in lines.long_lines:
                lines.long_lines.discard(line)
                reason = f"is longer than {LINE_LIMIT:,} characters"
                self.on_bad(line, reason, self.raw())
                continue
            if not text.strip():
                continue
            if has_undecodable(text):
                self.on_bad(line, "holds bytes that are not valid UTF-8", self.raw())
                continue
            try:
                item = json.loads(text)
            except ValueError as exc:
                self.on_bad(line, f"is not valid JSON ({exc.msg})", self.raw())
                continue
            if not isinstance(item, dict):
                self.on_bad(line, "is not a JSON object", self.raw())
                continue
            yield twilio_json_fields(item)

    def raw(self) -> str:
        return _cut(_without_line_end(self._text))


class JsonPageReader:
    """Records of a JSON page (``{"messages": [...], ...}``), read as a stream.

    The document is walked at its top level with the standard decoder, one
    value at a time, so only one message object is held in memory at once.
    """

    columns = TWILIO_JSON_COLUMNS

    def __init__(self, export: ExportFile, on_bad: BadRowHandler):
        self.export = export
        self.on_bad = on_bad
        self._decoder = json.JSONDecoder()
        self._buffer = ""
        self._at = 0  # position in _buffer
        self._line_at = 1  # line number of position _at
        self._eof = False
        self.line = 1
        self._raw = ""
        self._find_messages()

    # -- the buffer -------------------------------------------------------

    def _more(self) -> bool:
        if self._eof:
            return False
        chunk = self.export.text.read(JSON_CHUNK)
        if not chunk:
            self._eof = True
            return False
        if self._at > JSON_CHUNK:
            self._buffer = self._buffer[self._at :]
            self._at = 0
        self._buffer += chunk
        return True

    def _advance(self, to: int) -> None:
        self._line_at += self._buffer.count("\n", self._at, to)
        self._at = to

    def _skip_space(self) -> str:
        """The next character that is not white space ("" at the end)."""
        while True:
            buffer, at = self._buffer, self._at
            while at < len(buffer) and buffer[at] in " \t\r\n\ufeff":
                at += 1
            self._advance(at)
            if at < len(buffer):
                return buffer[at]
            if not self._more():
                return ""

    def _value(self):
        """Decode the value at the position; ValueError if it is not JSON."""
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._at)
            except ValueError:
                if len(self._buffer) - self._at > JSON_ELEMENT_LIMIT:
                    raise ValueError("a value larger than 8 MiB") from None
                if self._more():
                    continue
                raise
            # A number may go on in the next chunk.
            if end == len(self._buffer) and not self._eof and self._more():
                continue
            return value, end

    def _expect(self, char: str, where: str) -> None:
        if self._skip_space() != char:
            raise HeaderError(f"the JSON page is malformed: expected {char!r} {where}")
        self._advance(self._at + 1)

    # -- the document -----------------------------------------------------

    def _find_messages(self) -> None:
        """Move to the first element of the messages array, or HeaderError."""
        try:
            if self._skip_space() == "[":
                self._advance(self._at + 1)  # a bare array of message objects
                return
            self._expect("{", "at its start")
            while True:
                char = self._skip_space()
                if char == "}" or char == "":
                    raise HeaderError('the JSON page has no "messages" array')
                if char == ",":
                    self._advance(self._at + 1)
                    continue
                key, end = self._value()
                self._advance(end)
                self._expect(":", f"after the key {key!r}")
                if key == "messages":
                    self._expect("[", 'after "messages"')
                    return
                self._skip_space()
                _, end = self._value()
                self._advance(end)
        except ValueError as exc:
            if isinstance(exc, HeaderError):
                raise
            raise HeaderError(f"the JSON page is not valid JSON ({exc})") from None

    def __iter__(self) -> Iterator[list[str]]:
        while True:
            char = self._skip_space()
            if char == ",":
                self._advance(self._at + 1)
                continue
            if char == "]":
                return
            self.line = self._line_at
            if char == "":
                self._raw = ""
                self.on_bad(
                    self.line,
                    "the JSON page ends before its messages " "array closes",
                    "",
                )
                return
            try:
                item, end = self._value()
            except ValueError as exc:
                self._raw = self._buffer[self._at : self._at + RAW_LIMIT]
                self.on_bad(self.line, f"is not valid JSON ({exc})", self.raw())
                return
            self._raw = self._buffer[self._at : end]
            self._advance(end)
            if not isinstance(item, dict):
                self.on_bad(self.line, "is not a JSON object", self.raw())
                continue
            if has_undecodable(self._raw):
                self.on_bad(
                    self.line, "holds bytes that are not valid UTF-8", self.raw()
                )
                continue
            yield twilio_json_fields(item)

    def raw(self) -> str:
        return _cut(self._raw)
