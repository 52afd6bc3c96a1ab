"""Times as exports write them, to epoch seconds (UTC)."""

from __future__ import annotations

import re
from datetime import datetime, timezone, tzinfo
from email.utils import parsedate_to_datetime

# 11/28/2026 9:15, 11/28/2026 09:15:30, 11/28/2026 9:15 PM, 11/28/26 (US order,
# as spreadsheets show it).
US_DATE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?)?"
)


def parse_time(text: str, default_zone: tzinfo) -> int:
    """Epoch seconds of ``text``; a time without a zone is read in ``default_zone``.

    Accepts ISO 8601 (``Z`` or an offset, fractions of a second, a space for
    the ``T``), RFC 2822 (``Mon, 30 Nov 2026 17:02:11 +0000``) and US
    spreadsheet dates (``11/28/2026 9:15``, ``11/28/2026 9:15 PM``). Raises
    ValueError for anything else.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = parse_other_time(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_zone)
    return int(moment.timestamp())


def parse_other_time(text: str) -> datetime:
    """A time in any accepted form other than plain ISO 8601; ValueError if none."""
    text = text.strip()
    if not text:
        raise ValueError("empty time")
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        pass
    if re.search("[A-Za-z]{3}", text):
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None:
            # "-0000" says the zone is unknown but the time is UTC (RFC 2822).
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    match = US_DATE.fullmatch(text)
    if match:
        return _us_date(match)
    raise ValueError(f"unreadable time {text!r}")


def _us_date(match: re.Match) -> datetime:
    month, day, year, hour, minute, second, half = match.groups()
    year_number = int(year) + (2000 if len(year) == 2 else 0)
    hour_number = int(hour or 0)
    if half:
        if not 1 <= hour_number <= 12:
            raise ValueError("hour out of range for AM/PM")
        hour_number = hour_number % 12 + (12 if half.lower() == "pm" else 0)
    return datetime(
        year_number,
        int(month),
        int(day),
        hour_number,
        int(minute or 0),
        int(second or 0),
    )
