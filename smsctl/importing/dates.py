"""Times as exports write them, to epoch seconds (UTC)."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

_fromisoformat = datetime.fromisoformat


def parse_time(text: str, default_zone: ZoneInfo) -> int:
    """Epoch seconds of ``text``; a time without a zone is read in ``default_zone``.

    Accepts ISO 8601 (``Z``, offsets, milliseconds, a space for the ``T``),
    RFC 2822 (``Mon, 30 Nov 2026 17:02:11 +0000``) and US spreadsheet dates
    (``11/28/2026 9:15``). Raises ValueError for anything else.
    """
    try:
        moment = _fromisoformat(text)
    except ValueError:
        moment = _parse_other(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_zone)
    return int(moment.timestamp())


def _parse_other(text: str) -> datetime:
    if not text:
        raise ValueError("empty time")
    try:
        return _fromisoformat(text.replace("z", "Z"))
    except ValueError:
        pass
    if "," in text[:5] or text[:3].isalpha():
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None:
            return moment
    if any(ch.isdigit() for ch in text) and len(text) <= 40:
        from dateutil import parser as date_parser

        try:
            return date_parser.parse(text, dayfirst=False, yearfirst=False)
        except (ValueError, OverflowError):
            pass
    raise ValueError(f"unreadable time {text!r}")


def utc_now_epoch() -> int:
    return int(datetime.now(timezone.utc).timestamp())
