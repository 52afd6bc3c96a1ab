"""One record of an export, and its checks on the way to a stored message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from ..errors import InvalidPhoneError
from ..outcomes import INBOUND, OPTED_OUT, UnknownStatusError, classify_status
from ..phones import normalize_phone
from .dates import parse_time

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
SCIENTIFIC = re.compile(r"\+?(\d)(?:\.(\d+))?[eE]\+?(\d{1,2})")


class Rejected(Exception):
    """A record that cannot be stored; the message says why."""


@dataclass(slots=True)
class RawRecord:
    """What a format reader found in one record, as text."""

    line: int
    message_id: str
    from_: str
    to: str
    status: str
    codes: tuple[str, ...]
    direction: str | None
    sent: str | None
    created: str | None = None
    updated: str | None = None
    body: str | None = None


def recover_digits(text: str) -> str:
    """Undo a spreadsheet's scientific notation when every digit survived."""
    match = SCIENTIFIC.fullmatch(text.strip())
    if not match:
        return text
    lead, fraction, exponent = match.group(1), match.group(2) or "", int(match.group(3))
    if len(fraction) != exponent:
        raise Rejected(
            f"number {text!r} lost digits to a spreadsheet's scientific notation"
        )
    try:
        return str(int(Decimal(text.strip().lstrip("+"))))
    except InvalidOperation:
        raise Rejected(f"number {text!r} is not a phone number") from None


@lru_cache(maxsize=65536)
def export_phone(text: str, role: str) -> str:
    """A phone number field of an export as E.164, or Rejected."""
    try:
        return normalize_phone(recover_digits(text), f"{role} number")
    except InvalidPhoneError as exc:
        raise Rejected(str(exc)) from None


def is_outbound(direction: str | None) -> bool:
    if direction is None:
        return True
    direction = direction.strip().lower()
    if direction.startswith("outbound"):
        return True
    if direction.startswith("inbound") or direction in ("incoming", "mo"):
        return False
    if direction in ("outgoing", "mt"):
        return True
    raise Rejected(f"unknown direction {direction!r}")


def opt_out_keyword(body: str | None) -> bool | None:
    """True for an opt-out word, False for an opt-in word, None for anything else."""
    if not body:
        return None
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        return True
    if word in OPT_IN_WORDS:
        return False
    return None


class MessageBuilder:
    """Turns raw records into rows for the messages table and opt-out events."""

    def __init__(self, provider: str, zone, import_id: int, imported_at: int,
                 day_of):
        self.provider = provider
        self.zone = zone
        self.import_id = import_id
        self.imported_at = imported_at
        self.day_of = day_of
        self._classified: dict = {}

    def _time(self, text: str | None, what: str) -> int | None:
        if text is None or not text.strip():
            return None
        try:
            return parse_time(text, self.zone)
        except (ValueError, OverflowError):
            raise Rejected(f"{what} {text!r} is not a time") from None

    def build(self, record: RawRecord) -> tuple[tuple, tuple | None]:
        """The message row and, when the record says so, an opt-out event."""
        message_id = record.message_id.strip()
        if not message_id:
            raise Rejected("no message id")
        outbound = is_outbound(record.direction)
        from_number = export_phone(record.from_, "from")
        to_number = export_phone(record.to, "to")
        status = record.status.strip().lower()
        key = (status, record.codes, outbound)
        classified = self._classified.get(key)
        if classified is None:
            try:
                classified = classify_status(self.provider, status, record.codes, outbound)
            except UnknownStatusError:
                raise Rejected(f"unknown status {record.status!r}") from None
            self._classified[key] = classified
        sent_at = self._time(record.sent, "sent time")
        time_source = "sent"
        if sent_at is None:
            sent_at = self._time(record.created, "created time")
            time_source = "created"
        if sent_at is None:
            sent_at, time_source = self.imported_at, "imported"
        updated_at = self._time(record.updated, "updated time")
        row = (
            self.provider, message_id, from_number, to_number, int(outbound), status,
            ",".join(record.codes), classified.detail, classified.rank, sent_at,
            time_source, self.day_of(sent_at), updated_at, self.import_id,
        )
        event = None
        if classified.detail == OPTED_OUT:
            event = (to_number, 1, sent_at, "opted_out", self.provider, message_id)
        elif classified.detail == INBOUND:
            keyword = opt_out_keyword(record.body)
            if keyword is not None:
                event = (from_number, int(keyword), sent_at, "keyword", self.provider,
                         message_id)
        return row, event
