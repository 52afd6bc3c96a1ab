"""Export formats: which column or key of each provider's export holds which field."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..errors import UsageError

# The fields of a record, in the order readers hand them on.
FIELDS = (
    "id",
    "from",
    "to",
    "status",
    "error",
    "direction",
    "sent",
    "created",
    "updated",
    "body",
)
REQUIRED_FIELDS = ("id", "from", "to", "status")
ID, FROM, TO, STATUS, ERROR, DIRECTION, SENT, CREATED, UPDATED, BODY = range(10)

CODE_TOKEN = re.compile(r"[A-Za-z0-9_.\-]+")


def parse_codes(text: str) -> tuple[str, ...]:
    """Error codes as exports write them: ``40002``, ``40002,40003``, ``["40002"]``.

    Objects in a JSON list give their ``code``; anything else that is not a
    code (quotes, brackets, spaces) is dropped.
    """
    text = text.strip()
    if not text:
        return ()
    if text[0] in "[{":
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if isinstance(items, dict):
            items = [items]
        if isinstance(items, list):
            codes = []
            for item in items:
                if isinstance(item, dict):
                    item = item.get("code")
                if item is not None and not isinstance(item, (dict, list)):
                    codes.extend(CODE_TOKEN.findall(str(item)))
            return tuple(codes)
    return tuple(CODE_TOKEN.findall(text))


@dataclass(frozen=True)
class CsvLayout:
    """A CSV export: its provider, and the header names each field may go by.

    Header names match without regard to case or surrounding spaces.
    ``signature`` is the set of columns that tells this layout apart.
    """

    provider: str
    label: str
    columns: dict[str, tuple[str, ...]]
    signature: tuple[str, ...]

    def recognises(self, header: list[str]) -> bool:
        names = {name.strip().lower() for name in header}
        return all(name.lower() in names for name in self.signature)


TWILIO_CONSOLE = CsvLayout(
    provider="twilio",
    label="Twilio console CSV",
    columns={
        "id": ("Sid", "MessageSid"),
        "from": ("From",),
        "to": ("To",),
        "status": ("Status",),
        "error": ("ErrorCode",),
        "direction": ("Direction",),
        "sent": ("SentDate", "DateSent"),
        "created": ("DateCreated", "CreatedDate"),
        "updated": ("DateUpdated", "UpdatedDate"),
        "body": ("Body",),
    },
    signature=("Sid", "From", "To", "Status"),
)

TELNYX_MDR = CsvLayout(
    provider="telnyx",
    label="Telnyx message detail records",
    columns={
        "id": ("uuid", "id", "message_id"),
        "from": ("cli", "from"),
        "to": ("cld", "to"),
        "status": ("status",),
        "error": ("errors", "error_code", "error_codes"),
        "direction": ("direction",),
        "sent": ("sent_at",),
        "created": ("created_at",),
        "updated": ("completed_at", "updated_at"),
        "body": ("text", "body"),
    },
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
        "error": ("error_code",),
        "direction": ("message_direction",),
        "sent": ("message_time",),
        "created": ("message_created_time",),
        "updated": ("message_updated_time",),
        "body": ("text", "message_text", "body"),
    },
    signature=("message_uuid", "from_number", "to_number", "message_state"),
)

CSV_LAYOUTS = (TWILIO_CONSOLE, TELNYX_MDR, PLIVO_MDR)

# Keys of one message object in Twilio's REST listings (JSON page and lines).
TWILIO_JSON_KEYS = {
    "id": "sid",
    "from": "from",
    "to": "to",
    "status": "status",
    "error": "error_code",
    "direction": "direction",
    "sent": "date_sent",
    "created": "date_created",
    "updated": "date_updated",
    "body": "body",
}

# --provider names; "twilio" takes any of Twilio's three formats.
PROVIDER_NAMES = ("twilio", "telnyx", "plivo", "generic")

# --map names, with the aliases DESIGN and the issue use.
MAP_FIELDS = {
    "id": "id",
    "from": "from",
    "to": "to",
    "status": "status",
    "error": "error",
    "error_code": "error",
    "errors": "error",
    "direction": "direction",
    "sent_at": "sent",
    "sent": "sent",
    "created_at": "created",
    "created": "created",
    "updated_at": "updated",
    "updated": "updated",
    "body": "body",
    "text": "body",
}
MAP_EXAMPLE = "id=MessageId,from=Sender,to=Recipient,status=State,sent_at=Time"


def parse_mapping(text: str) -> dict[str, str]:
    """``--map id=Sid,from=From,...`` as field -> column; UsageError if malformed."""
    mapping: dict[str, str] = {}
    for part in text.split(","):
        name, sep, column = part.partition("=")
        name, column = name.strip().lower(), column.strip()
        if not part.strip():
            raise UsageError(f"--map has an empty part; use e.g. --map {MAP_EXAMPLE}")
        if not sep or not name or not column:
            raise UsageError(
                f"--map part {part.strip()!r} is not FIELD=COLUMN; "
                f"use e.g. --map {MAP_EXAMPLE}"
            )
        field_name = MAP_FIELDS.get(name)
        if field_name is None:
            raise UsageError(
                f"--map field {name!r} is unknown; fields are id, from, to, status, "
                "sent_at, created_at, updated_at, error, direction, body"
            )
        if field_name in mapping:
            raise UsageError(f"--map names the field {name!r} twice")
        mapping[field_name] = column
    missing = [name for name in REQUIRED_FIELDS if name not in mapping]
    if "sent" not in mapping and "created" not in mapping:
        missing.append("sent_at")
    if missing:
        raise UsageError(
            f"--map lacks {', '.join(missing)}; use e.g. --map {MAP_EXAMPLE}"
        )
    return mapping


def generic_layout(mapping: dict[str, str]) -> CsvLayout:
    """The layout of any CSV, from ``--map`` pairs."""
    return CsvLayout(
        provider="generic",
        label="mapped CSV",
        columns={name: (column,) for name, column in mapping.items()},
        signature=tuple(mapping.values()),
    )
