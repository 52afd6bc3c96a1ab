"""Streaming readers: records out of CSV, JSON page and JSON Lines exports."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from typing import Iterator

from .formats import FIELDS, REQUIRED_FIELDS, CsvLayout
from .records import RawRecord
from .source import ExportFile, has_undecodable

# Enormous fields are rejected row by row rather than read into memory whole.
FIELD_LIMIT = 1 << 20
csv.field_size_limit(FIELD_LIMIT)


class HeaderError(ValueError):
    """The file has no header this reader can use; nothing is imported."""


@dataclass(slots=True)
class BadRow:
    line: int
    reason: str
    raw: str


def csv_raw(row: list[str]) -> str:
    return ",".join(row)[:2000]


def column_indices(layout: CsvLayout, header: list[str]) -> dict[str, int]:
    """The column index of each field the header holds."""
    positions = {name.strip().lower(): i for i, name in enumerate(header)}
    found = {}
    for name in FIELDS:
        for column in layout.columns.get(name, ()):
            if column.strip().lower() in positions:
                found[name] = positions[column.strip().lower()]
                break
    missing = [name for name in REQUIRED_FIELDS if name not in found]
    if missing:
        wanted = ", ".join(f"{m} ({'/'.join(layout.columns.get(m, ('?',)))})"
                           for m in missing)
        raise HeaderError(f"the header lacks the columns for {wanted}")
    return found


def read_csv_header(export: ExportFile) -> list[str]:
    """The first row of a CSV export, read from its head."""
    text = export.head_text()
    first = next(csv.reader(text.splitlines()[:1] or [""]), [])
    return [name.strip() for name in first]


def csv_records(export: ExportFile, layout: CsvLayout) -> Iterator[RawRecord | BadRow]:
    """Records of a CSV export, each with the physical line it starts on."""
    reader = csv.reader(export.text)
    try:
        header = next(reader)
    except StopIteration:
        raise HeaderError("the file is empty") from None
    except csv.Error as exc:
        raise HeaderError(f"the header cannot be read: {exc}") from None
    header = [name.strip().lstrip("\ufeff") for name in header]
    at = column_indices(layout, header)
    width = len(header)
    i_id, i_from, i_to, i_status = at["id"], at["from"], at["to"], at["status"]
    optional = [at.get(name) for name in ("sent", "created", "updated", "direction",
                                           "body")]
    i_sent, i_created, i_updated, i_direction, i_body = optional
    i_error = at.get("error")
    parse_codes = layout.parse_codes
    start = reader.line_num + 1
    while True:
        line = start
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            start = reader.line_num + 1
            yield BadRow(line, f"unreadable CSV: {exc}", "")
            continue
        start = reader.line_num + 1
        if len(row) != width:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line holds no record
            yield BadRow(line, f"has {len(row)} fields; the header has {width}",
                         csv_raw(row))
            continue
        if has_undecodable("".join(row)):
            yield BadRow(line, "holds bytes that are not valid text", csv_raw(row))
            continue
        yield RawRecord(
            line,
            row[i_id],
            row[i_from],
            row[i_to],
            row[i_status],
            parse_codes(row[i_error]) if i_error is not None else (),
            row[i_direction] if i_direction is not None else None,
            row[i_sent] if i_sent is not None else None,
            row[i_created] if i_created is not None else None,
            row[i_updated] if i_updated is not None else None,
            row[i_body] if i_body is not None else None,
        )


def _json_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _json_codes(value) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, list):
        return tuple(_json_text(v.get("code") if isinstance(v, dict) else v)
                     for v in value)
    return (_json_text(value),)


def twilio_json_record(line: int, item) -> RawRecord | BadRow:
    if not isinstance(item, dict):
        return BadRow(line, "is not a JSON object", str(item)[:2000])
    missing = [k for k in ("sid", "from", "to", "status") if item.get(k) in (None, "")]
    if missing:
        return BadRow(line, f"lacks {', '.join(missing)}",
                      json.dumps(item)[:2000])
    return RawRecord(
        line,
        _json_text(item.get("sid")),
        _json_text(item.get("from")),
        _json_text(item.get("to")),
        _json_text(item.get("status")),
        _json_codes(item.get("error_code")),
        _json_text(item.get("direction")) or None,
        _json_text(item.get("date_sent")) or None,
        _json_text(item.get("date_created")) or None,
        _json_text(item.get("date_updated")) or None,
        _json_text(item.get("body")) or None,
    )


def json_lines_records(export: ExportFile) -> Iterator[RawRecord | BadRow]:
    """Records of a JSON Lines export: one message object a line."""
    for line, text in enumerate(export.text, start=1):
        if not text.strip():
            continue
        if has_undecodable(text):
            yield BadRow(line, "holds bytes that are not valid text", text[:2000])
            continue
        try:
            item = json.loads(text)
        except ValueError as exc:
            yield BadRow(line, f"is not valid JSON: {exc.msg}", text.strip()[:2000])
            continue
        yield twilio_json_record(line, item)


MESSAGES_ARRAY = re.compile(r'"messages"\s*:\s*\[')


def json_page_records(export: ExportFile) -> Iterator[RawRecord | BadRow]:
    """Records of a JSON page (``{"messages": [...]}``).

    A page is one JSON document, so it is read whole; the provider's API
    serves at most a thousand messages a page, and large exports come as
    JSON Lines, which streams.
    """
    text = export.text.read()
    if has_undecodable(text):
        raise HeaderError("the JSON page holds bytes that are not valid text")
    try:
        page = json.loads(text)
    except ValueError as exc:
        raise HeaderError(f"the JSON page is not valid JSON: {exc}") from None
    if not isinstance(page, dict) or not isinstance(page.get("messages"), list):
        raise HeaderError("the JSON page has no \"messages\" array")
    match = MESSAGES_ARRAY.search(text)
    decoder = json.JSONDecoder()
    position = match.end() if match else 0
    line = text.count("\n", 0, position) + 1
    for item in page["messages"]:
        # Find where this element starts, to name its line.
        while position < len(text) and text[position] in " \t\r\n,":
            if text[position] == "\n":
                line += 1
            position += 1
        try:
            _, end = decoder.raw_decode(text, position)
        except ValueError:
            end = position
        yield twilio_json_record(line, item)
        line += text.count("\n", position, end)
        position = end
