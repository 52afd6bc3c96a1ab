"""Recognising an export's format from its header or shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Iterator

from ..errors import UsageError
from .formats import CSV_LAYOUTS, FIELDS, REQUIRED_FIELDS, generic_layout
from .readers import (
    BadRow,
    HeaderError,
    csv_records,
    json_lines_records,
    json_page_records,
    read_csv_header,
)
from .records import RawRecord
from .source import ExportFile


@dataclass(frozen=True)
class DetectedFormat:
    provider: str  # the key messages are stored under, and whose statuses apply
    label: str
    records: Callable[[ExportFile], Iterator[RawRecord | BadRow]]


def parse_mapping(text: str) -> dict[str, str]:
    """``id=Sid,from=From,...`` as a field -> column dict, or a UsageError."""
    mapping = {}
    for part in text.split(","):
        name, sep, column = part.partition("=")
        name, column = name.strip().lower(), column.strip()
        if not sep or not column:
            raise UsageError(
                f"--map part {part.strip()!r} is not FIELD=COLUMN; "
                "e.g. --map id=MessageId,from=Sender,to=Recipient,status=State,"
                "sent_at=Time"
            )
        name = {"sent_at": "sent", "created_at": "created", "updated_at": "updated",
                "error_code": "error"}.get(name, name)
        if name not in FIELDS:
            raise UsageError(
                f"--map field {name!r} is unknown; fields are id, from, to, status, "
                "sent_at, created_at, updated_at, error, direction, body"
            )
        mapping[name] = column
    missing = [name for name in REQUIRED_FIELDS if name not in mapping]
    if missing:
        raise UsageError(f"--map lacks {', '.join(missing)}")
    return mapping


def _json_shape(head: str) -> str | None:
    """"page", "lines" or None for a head that is not JSON."""
    stripped = head.lstrip()
    if not stripped.startswith("{"):
        return None
    first_line = stripped.split("\n", 1)[0].strip()
    try:
        first = json.loads(first_line)
    except ValueError:
        return "page"
    if isinstance(first, dict) and "messages" in first:
        return "page"
    return "lines"


def detect_format(
    export: ExportFile, provider: str | None, mapping: dict[str, str] | None
) -> DetectedFormat:
    """The format of ``export``; a HeaderError when none fits."""
    head = export.head_text()
    if not head.strip():
        raise HeaderError("the file is empty")
    if mapping is not None:
        layout = generic_layout(mapping)
        key = provider if provider not in (None, "generic", "twilio-json") else "generic"
        return DetectedFormat(key, layout.label,
                              lambda e: csv_records(e, layout))
    shape = _json_shape(head)
    if shape is not None:
        if provider not in (None, "twilio", "twilio-json"):
            raise HeaderError(f"a JSON file is not a {provider} export")
        if shape == "page":
            return DetectedFormat("twilio", "Twilio JSON page", json_page_records)
        return DetectedFormat("twilio", "Twilio JSON Lines", json_lines_records)
    header = read_csv_header(export)
    for layout in CSV_LAYOUTS:
        if provider not in (None, layout.provider):
            continue
        if layout.recognises(header):
            return DetectedFormat(layout.provider, layout.label,
                                  lambda e, layout=layout: csv_records(e, layout))
    shown = ",".join(header)[:120]
    hint = ""
    if len(header) <= 1 and any(d in head.split("\n", 1)[0] for d in ";\t|"):
        hint = " (it is not comma-separated)"
    raise HeaderError(
        f"no recognisable header{hint}: {shown!r}; expected a Twilio, Telnyx or "
        "Plivo export, or name the columns with --map id=COL,from=COL,to=COL,"
        "status=COL,sent_at=COL"
    )
