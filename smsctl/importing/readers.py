"""Streaming readers: records out of CSV, JSON page and JSON Lines exports.

A reader yields each good record as a list of field texts, and tells the
caller about a record it cannot read through ``on_bad(line, reason, raw)``.
After each record, ``line`` is the physical line the record starts on and
``raw()`` its original text, for rejecting it.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections import deque
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
RAW_LIMIT = 4000
# How many lines a CSV reader keeps behind its position for raw texts.
KEEP_LINES = 2048
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
    """The lines of a text stream, none longer than ``limit`` characters.

    A longer line is read to its end in pieces and dropped; LONG_LINE stands
    in its place, so that line numbers stay right, and ``long_lines`` holds
    the numbers of the lines dropped (the reader takes them out as it
    reports them).
    """

    def __init__(self, text, limit: int = LINE_LIMIT):
        self.text = text
        self.limit = limit
        self.long_lines: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        readline, limit = self.text.readline, self.limit
        number = 0
        while line := readline(limit):
            number += 1
            if len(line) == limit and not line.endswith(("\n", "\r")):
                while len(more := readline(limit)) == limit and not more.endswith(
                    ("\n", "\r")
                ):
                    pass
                self.long_lines.add(number)
                line = LONG_LINE
            yield line


class CsvReader:
    """Records of a CSV export, each with the physical line it starts on.

    The lines the csv module reads are also kept, a bounded number behind,
    so that a rejected record can be reported with its original text.
    """

    def __init__(self, export: ExportFile, layout: CsvLayout, on_bad: BadRowHandler):
        self.export = export
        self.on_bad = on_bad
        self._bounded = BoundedLines(export.text)
        lines, self._shadow = itertools.tee(self._bounded)
        self._shadow_at = 0  # lines taken from the shadow so far
        self._reader = csv.reader(lines)
        try:
            header = next(self._reader)
        except StopIteration:
            raise HeaderError("the file is empty") from None
        except csv.Error as exc:
            raise HeaderError(f"the header cannot be read: {exc}") from None
        self.header = [name.strip().lstrip("\ufeff").strip() for name in header]
        self.columns = column_indices(layout, self.header)
        self.line = self._reader.line_num
        self._end = self._reader.line_num
        self._raw_of: tuple[int, str] = (0, "")

    def __iter__(self) -> Iterator[list[str]]:
        reader = self._reader
        width = len(self.header)
        decode_errors = _DecodeErrors
        clean_until = self.export.errors_at_open
        long_lines = self._bounded.long_lines
        while True:
            end = self._end
            trim_at = self._shadow_at + KEEP_LINES
            try:
                for row in reader:
                    start = end + 1
                    end = reader.line_num
                    self.line, self._end = start, end
                    if start > trim_at:
                        self._skip_to(start - 1)
                        trim_at = start - 1 + KEEP_LINES
                    if long_lines and self._holds_long_line(start, end):
                        continue
                    if len(row) != width:
                        if not row or (len(row) == 1 and not row[0].strip()):
                            continue  # a blank line holds no record
                        self.on_bad(
                            start,
                            f"has {len(row)} fields; the header has " f"{width}",
                            self.raw(),
                        )
                        continue
                    if decode_errors.count != clean_until and has_undecodable(
                        "".join(row)
                    ):
                        encoding = ENCODING_NAMES.get(
                            self.export.encoding, self.export.encoding
                        )
                        self.on_bad(
                            start,
                            f"holds bytes that are not valid {encoding}",
                            self.raw(),
                        )
                        continue
                    yield row
                return
            except csv.Error as exc:
                self.line = start = self._end + 1
                self._end = reader.line_num
                if long_lines and self._holds_long_line(start, self._end):
                    continue
                self.on_bad(start, f"is not readable CSV ({exc})", self.raw())

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

    def _skip_to(self, line: int) -> None:
        """Drop kept lines up to and including ``line``."""
        count = line - self._shadow_at
        if count > 0:
            deque(itertools.islice(self._shadow, count), maxlen=0)
            self._shadow_at = line

    def raw(self) -> str:
        """The original text of the record read last, without its final line end."""
        start, end = self.line, self._end
        if self._raw_of[0] == start:
            return self._raw_of[1]
        self._skip_to(start - 1)
        lines = list(itertools.islice(self._shadow, max(end - start + 1, 0)))
        self._shadow_at += len(lines)
        text = _cut(_without_line_end("".join(lines)))
        self._raw_of = (start, text)
        return text


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
