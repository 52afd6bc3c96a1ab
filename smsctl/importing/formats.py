"""Export formats: how each provider's columns map to a record's fields."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable

FIELDS = ("id", "from", "to", "status", "sent", "created", "updated", "error",
          "direction", "body")
REQUIRED_FIELDS = ("id", "from", "to", "status")

CODE_TOKEN = re.compile(r"[A-Za-z0-9_.\-]+")


def plain_codes(text: str) -> tuple[str, ...]:
    """One error code, as most exports write it."""
    text = text.strip()
    return (text,) if text else ()


def listed_codes(text: str) -> tuple[str, ...]:
    """One or more codes: ``40002``, ``40002,40003`` or ``["40002", "40003"]``."""
    text = text.strip()
    if not text:
        return ()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if isinstance(items, list):
            return tuple(
                str(item.get("code", "") if isinstance(item, dict) else item).strip()
                for item in items
                if item is not None
            )
    return tuple(CODE_TOKEN.findall(text))


@dataclass(frozen=True)
class CsvLayout:
    """A CSV export: provider key, and the column that holds each field.

    ``columns`` maps a field to the header names it may go by (matched without
    regard to case or surrounding spaces).
    """

    provider: str
    label: str
    columns: dict[str, tuple[str, ...]]
    parse_codes: Callable[[str], tuple[str, ...]] = plain_codes
    signature: tuple[str, ...] = field(default=())

    def recognises(self, header: list[str]) -> bool:
        names = {name.strip().lower() for name in header}
        return all(name.lower() in names for name in self.signature)


TWILIO_CONSOLE = CsvLayout(
    provider="twilio",
    label="Twilio console CSV",
    columns={
        "id": ("Sid",),
        "from": ("From",),
        "to": ("To",),
        "status": ("Status",),
        "sent": ("SentDate", "DateSent"),
        "created": ("DateCreated",),
        "updated": ("DateUpdated",),
        "error": ("ErrorCode",),
        "direction": ("Direction",),
        "body": ("Body",),
    },
    signature=("Sid", "From", "To", "Status", "Direction"),
)

TELNYX_MDR = CsvLayout(
    provider="telnyx",
    label="Telnyx message detail records",
    columns={
        "id": ("uuid", "id"),
        "from": ("cli", "from"),
        "to": ("cld", "to"),
        "status": ("status",),
        "sent": ("sent_at",),
        "created": ("created_at",),
        "updated": ("completed_at", "updated_at"),
        "error": ("errors", "error_code"),
        "direction": ("direction",),
        "body": ("text", "body"),
    },
    parse_codes=listed_codes,
    signature=("uuid", "cli", "cld", "status"),
)

PLIVO_MDR = CsvLayout(
    provider="plivo",
    label="Plivo message records",
    columns={
        "id": ("message_uuid",),
        "from": ("from_number",),
        "to": ("to_number",),
        "status": ("message_state",),
        "sent": ("message_time",),
        "updated": ("message_updated_time",),
        "error": ("error_code",),
        "direction": ("message_direction",),
        "body": ("text", "message_text", "body"),
    },
    parse_codes=listed_codes,
    signature=("message_uuid", "from_number", "to_number", "message_state"),
)

CSV_LAYOUTS = (TWILIO_CONSOLE, TELNYX_MDR, PLIVO_MDR)
PROVIDER_NAMES = ("twilio", "twilio-json", "telnyx", "plivo", "generic")


def generic_layout(mapping: dict[str, str]) -> CsvLayout:
    """A layout for any CSV, from ``--map field=COLUMN`` pairs."""
    return CsvLayout(
        provider="generic",
        label="mapped CSV",
        columns={name: (column,) for name, column in mapping.items()},
        parse_codes=listed_codes,
        signature=tuple(mapping.values()),
    )
