"""Recognising an export's format from its header or shape, or from --provider."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..errors import UsageError
from .formats import CSV_LAYOUTS, PROVIDER_NAMES, CsvLayout, generic_layout
from .readers import (
    BadRowHandler,
    CsvReader,
    HeaderError,
    JsonLinesReader,
    JsonPageReader,
    read_csv_header,
)
from .source import ExportFile, looks_binary

PROVIDER_LABELS = {"twilio": "a Twilio", "telnyx": "a Telnyx", "plivo": "a Plivo"}


@dataclass
class Opened:
    """An export whose format is known, ready to be read record by record."""

    provider: str  # the key its messages are stored under, whose statuses apply
    label: str
    reader: CsvReader | JsonLinesReader | JsonPageReader


def check_provider(provider: str | None, mapping: dict[str, str] | None) -> None:
    """Refuse an unknown --provider, or ``generic`` without --map (UsageError)."""
    if provider is not None and provider not in PROVIDER_NAMES:
        raise UsageError(
            f"--provider {provider!r} is unknown; use one of "
            + ", ".join(PROVIDER_NAMES)
        )
    if provider == "generic" and mapping is None:
        raise UsageError(
            "--provider generic needs --map id=COL,from=COL,to=COL,status=COL,"
            "sent_at=COL"
        )


TWILIO_JSON_REQUIRED = ("sid", "from", "to", "status")


def json_shape(head: str) -> str | None:
    """ "page", "lines" or None for a head that does not look like JSON.

    A HeaderError for JSON Lines whose first object is not a message.
    """
    stripped = head.lstrip()
    if stripped.startswith("["):
        return "page"
    if not stripped.startswith("{"):
        return None
    first_line = stripped.split("\n", 1)[0].strip()
    try:
        first = json.loads(first_line)
    except ValueError:
        return "page"  # an object spread over lines: one document
    if isinstance(first, dict) and "messages" in first:
        return "page"
    lacking = [key for key in TWILIO_JSON_REQUIRED if key not in first]
    if lacking:
        raise HeaderError(
            f"the first JSON line is not a message: it lacks {', '.join(lacking)}; "
            'expected Twilio messages, one a line, or a page with "messages"'
        )
    return "lines"


def open_export(
    export: ExportFile,
    provider: str | None,
    mapping: dict[str, str] | None,
    on_bad: BadRowHandler,
) -> Opened:
    """The format of ``export``, and a reader past its header.

    Raises HeaderError when no format fits: nothing is to be imported then.
    """
    if not export.head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise HeaderError("the file is empty")
    if looks_binary(export.head):
        raise HeaderError("the file holds binary data, not a text export")
    head = export.head_text()
    if mapping is not None:
        layout = generic_layout(mapping)
        key = provider if provider not in (None, "generic") else "generic"
        return Opened(key, layout.label, CsvReader(export, layout, on_bad))
    shape = json_shape(head)
    if shape is not None:
        if provider not in (None, "twilio"):
            raise HeaderError(f"a JSON file is not {PROVIDER_LABELS[provider]} export")
        if shape == "page":
            return Opened("twilio", "Twilio JSON page", JsonPageReader(export, on_bad))
        return Opened("twilio", "Twilio JSON Lines", JsonLinesReader(export, on_bad))
    header = read_csv_header(head)
    layout = _csv_layout(header, provider)
    if layout is None:
        raise HeaderError(_unrecognised(header, head, provider))
    return Opened(layout.provider, layout.label, CsvReader(export, layout, on_bad))


def _csv_layout(header: list[str], provider: str | None) -> CsvLayout | None:
    for layout in CSV_LAYOUTS:
        if provider in (None, layout.provider) and layout.recognises(header):
            return layout
    return None


def _unrecognised(header: list[str], head: str, provider: str | None) -> str:
    shown = ",".join(header)[:120]
    first_line = head.split("\n", 1)[0]
    hint = ""
    if len(header) <= 1 and any(mark in first_line for mark in ";\t|"):
        hint = " (it is not comma-separated)"
    if provider is not None:
        return (
            f"the header is not {PROVIDER_LABELS[provider]} export's{hint}: "
            f"{shown!r}; leave out --provider to recognise the format, or name "
            "the columns with --map"
        )
    return (
        f"no recognisable header{hint}: {shown!r}; expected a Twilio, Telnyx or "
        "Plivo export, or name the columns with --map id=COL,from=COL,to=COL,"
        "status=COL,sent_at=COL"
    )
