"""One record of an export, checked and turned into a row of the messages table.

This is the per-row path of an import, so it is written for speed: lookups
are cached in bounded dictionaries, and a record is the reader's own list
of fields, read by index, rather than an object built for it.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Callable

from .. import message_keys
from ..errors import InvalidPhoneError
from ..outcomes import (
    INBOUND,
    OPTED_OUT,
    UnknownStatusError,
    classify_status,
    is_outbound,
    normalize_codes,
)
from ..phones import is_plain_nanp_e164, normalize_phone
from .dates import parse_other_time
from .formats import (
    BODY,
    CREATED,
    DIRECTION,
    ERROR,
    FROM,
    ID,
    SENT,
    STATUS,
    TO,
    UPDATED,
    parse_codes,
)

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})

# A spreadsheet shows a long number as 1.4155550101E+10; the digits survive
# only when the mantissa holds as many decimals as the exponent says.
SCIENTIFIC = re.compile(r"\+?(\d)(?:[.,](\d+))?[eE]\+?(\d{1,2})")

# Bounded caches, so memory stays flat however long the file.
CACHE_LIMIT = 8192
DAY_CACHE_LIMIT = 100_000
HOUR_CACHE_LIMIT = 100_000
SIXTY = {f"{n:02d}": n for n in range(60)}

# Index of each value in a message row, as the importer stores it.
ROW_ID, ROW_FROM, ROW_TO, ROW_OUTBOUND = 0, 1, 2, 3
ROW_DETAIL, ROW_SENT_AT, ROW_LOCAL_DAY = 6, 8, 10
ROW_KEY = 12
ROW_COLUMNS = (
    "message_id",
    "from_number",
    "to_number",
    "outbound",
    "status",
    "error_code",
    "detail",
    "rank",
    "sent_at",
    "time_source",
    "local_day",
    "updated_at",
    "message_key",
)


# A row's updated_at when the record has no provider update time; stored as
# NULL. Python's sqlite3 binds None through its adapter lookup, which made
# binding a row of an export without update times a fifth slower.
NO_UPDATE_TIME = ""


class Rejected(Exception):
    """A record that cannot be stored; the message says why."""


def recover_digits(text: str) -> str:
    """Undo a spreadsheet's scientific notation when every digit survived.

    ``1.4155550101E+10`` gives ``14155550101``; ``1.41556E+10`` lost digits
    and is Rejected. Any other text is returned as it is.
    """
    stripped = text.strip()
    match = SCIENTIFIC.fullmatch(stripped)
    if not match:
        return text
    fraction, exponent = match.group(2) or "", int(match.group(3))
    if len(fraction.rstrip("0")) > exponent:
        raise Rejected(f"number {text!r} is not a whole phone number")
    if len(fraction) < exponent:
        raise Rejected(
            f"number {text!r} lost digits to a spreadsheet's scientific notation"
        )
    try:
        return str(int(Decimal(stripped.lstrip("+").replace(",", "."))))
    except InvalidOperation:
        raise Rejected(f"number {text!r} is not a phone number") from None


def export_phone(text: str, role: str) -> str:
    """A phone number field of an export as E.164, or Rejected.

    Takes what spreadsheets do to numbers: a dropped ``+``, ``(415) 555-0103``,
    and scientific notation with every digit kept.
    """
    try:
        return normalize_phone(recover_digits(text), f"{role} number")
    except InvalidPhoneError as exc:
        raise Rejected(str(exc)) from None


def opt_out_keyword(body: str | None) -> bool | None:
    """True for an opt-out word, False for an opt-in word, None for anything else.

    The whole trimmed body must be the word, in any case.
    """
    if not body:
        return None
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        return True
    if word in OPT_IN_WORDS:
        return False
    return None


def make_row_builder(
    provider: str,
    columns: list[int | None],
    zone: tzinfo,
    imported_at: int,
    day_zone: tzinfo,
    events: list[tuple],
    key_of: Callable[[str, str], int] | None = None,
) -> Callable[[list[str]], tuple]:
    """A function from one record's fields to its messages row.

    ``columns`` gives, for each of formats.FIELDS, the index of the field in
    a record (None when the export lacks it). Times without a zone are read
    in ``zone``; calendar days are those of ``day_zone``. The function returns the row
    (see ROW_COLUMNS), appends any opt-out event the record carries to
    ``events``, and raises Rejected for a record that cannot be stored.
    A row's message key is ``key_of(provider, message_id)``, by default
    message_keys.message_key.
    """
    key_of = key_of or message_keys.message_key
    i_id, i_from, i_to = columns[ID], columns[FROM], columns[TO]
    i_status = columns[STATUS]
    # An absent optional field is -1, which reads as "" below.
    i_error, i_direction, i_sent, i_created, i_updated, i_body = (
        -1 if columns[field] is None else columns[field]
        for field in (ERROR, DIRECTION, SENT, CREATED, UPDATED, BODY)
    )
    phones: dict[str, str] = {}
    statuses: dict[tuple[str, str, str], tuple | str] = {}
    days: dict[int, str] = {}
    hours: dict[str, int] = {}
    fromisoformat = datetime.fromisoformat

    def phone(text: str, role: str) -> str:
        number = text if is_plain_nanp_e164(text) else export_phone(text, role)
        # Once full, the cache keeps what it holds (the senders come early):
        # recipients are many and seldom repeat.
        if len(phones) < CACHE_LIMIT:
            phones[text] = number
        return number

    def classify(key: tuple[str, str, str]) -> tuple | str:
        status_text, error_text, direction_text = key
        status = status_text.strip().lower()
        try:
            if not status:
                raise Rejected("no status")
            try:
                outbound = is_outbound(direction_text)
            except ValueError as exc:
                raise Rejected(str(exc)) from None
            codes = normalize_codes(parse_codes(error_text))
            try:
                classified = classify_status(provider, status, codes, outbound)
            except UnknownStatusError:
                raise Rejected(f"unknown status {status_text.strip()!r}") from None
            found = (
                status,
                ",".join(codes),
                classified.detail,
                classified.rank,
                int(outbound),
            )
        except Rejected as exc:
            found = str(exc)
        if len(statuses) >= CACHE_LIMIT:
            statuses.clear()
        statuses[key] = found
        return found

    def epoch(text: str, what: str) -> int:
        # An ISO time with its zone ("2026-12-04T04:05:06-08:00") is its hour's
        # start, looked up, plus minutes and seconds: parsing every time in
        # full was the costliest step of a row.
        if text[16:17] == ":":
            base = hours.get(text[:14] + text[19:])
            if base is not None:
                minute, second = SIXTY.get(text[14:16]), SIXTY.get(text[17:19])
                if minute is not None and second is not None:
                    return base + minute * 60 + second
        return exact_epoch(text, what)

    def exact_epoch(text: str, what: str) -> int:
        try:
            moment = fromisoformat(text)
            aware = moment.tzinfo is not None
        except ValueError:
            aware = False
            try:
                moment = parse_other_time(text)
            except (ValueError, OverflowError):
                raise Rejected(f"{what} {text!r} is not a time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        try:
            seconds = int(moment.timestamp())
        except (ValueError, OverflowError):
            raise Rejected(f"{what} {text!r} is not a time") from None
        if aware and text[13:14] == ":" and text[16:17] == ":" and len(text) > 19:
            if len(hours) >= HOUR_CACHE_LIMIT:
                hours.clear()
            hours[text[:14] + text[19:]] = seconds - moment.minute * 60 - moment.second
        return seconds

    def local_day(seconds: int) -> str:
        # Every zone offset in use is a whole number of quarter hours, so all
        # seconds of one UTC quarter hour fall on the same local date.
        quarter = seconds // 900
        day = datetime.fromtimestamp(quarter * 900, day_zone).date().isoformat()
        if len(days) >= DAY_CACHE_LIMIT:
            days.clear()
        days[quarter] = day
        return day

    def build(fields: list[str]) -> tuple:
        message_id = fields[i_id].strip()
        if not message_id:
            raise Rejected("no message id")
        key = (
            fields[i_status],
            fields[i_error] if i_error >= 0 else "",
            fields[i_direction] if i_direction >= 0 else "",
        )
        found = statuses.get(key) or classify(key)
        if found.__class__ is str:
            raise Rejected(found)
        status, codes, detail, rank, outbound = found
        from_number = phones.get(fields[i_from]) or phone(fields[i_from], "from")
        to_number = phones.get(fields[i_to]) or phone(fields[i_to], "to")
        text = fields[i_sent] if i_sent >= 0 else ""
        if text:
            sent_at, time_source = epoch(text, "sent time"), "sent"
        else:
            text = fields[i_created] if i_created >= 0 else ""
            if text:
                sent_at, time_source = epoch(text, "created time"), "created"
            else:
                sent_at, time_source = imported_at, "imported"
        text = fields[i_updated] if i_updated >= 0 else ""
        updated_at = epoch(text, "updated time") if text else NO_UPDATE_TIME
        day = days.get(sent_at // 900) or local_day(sent_at)
        if detail == OPTED_OUT:
            events.append((to_number, 1, sent_at, "opted_out", message_id))
        elif detail == INBOUND and i_body >= 0:
            keyword = opt_out_keyword(fields[i_body])
            if keyword is not None:
                events.append(
                    (from_number, int(keyword), sent_at, "keyword", message_id)
                )
        return (
            message_id,
            from_number,
            to_number,
            outbound,
            status,
            codes,
            detail,
            rank,
            sent_at,
            time_source,
            day,
            updated_at,
            key_of(provider, message_id),
        )

    return build
