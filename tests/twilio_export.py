"""Writes Twilio console CSV exports for tests, one row per message."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bench.generate import HEADER

ACCOUNT = "AC" + "0" * 32

# detail -> (Twilio status, error code), per DESIGN's outcome table
TWILIO_STATUS = {
    "delivered": ("delivered", ""),
    "failed": ("undelivered", "30003"),
    "opted_out": ("undelivered", "21610"),
    "provider_not_found": ("undelivered", "30006"),
    "line_deactivated": ("undelivered", "30005"),
    "blocked_spam": ("undelivered", "30007"),
    "pending": ("queued", ""),
    "canceled": ("canceled", ""),
}


@dataclass(frozen=True)
class Text:
    sender: str
    recipient: str
    sent_at: datetime
    detail: str = "delivered"
    inbound: bool = False


def utc(text: str) -> datetime:
    """``2026-12-04T12:00:00Z`` as an aware datetime."""
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def spread(
    sender: str, count: int, first: datetime, last: datetime, detail="delivered"
) -> list[Text]:
    """``count`` texts from ``sender`` to distinct recipients, evenly dated
    from ``first`` to ``last`` inclusive."""
    step = (last - first) / max(count - 1, 1)
    return [
        Text(sender, f"+1212555{index % 10000:04d}", first + step * index, detail)
        for index in range(count)
    ]


def write_export(path: Path, texts: list[Text], batch: int = 0) -> Path:
    """A Twilio console CSV of ``texts``; Sids are unique within a ``batch``."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for index, text in enumerate(texts):
            status, code = TWILIO_STATUS[text.detail]
            sent = text.sent_at.astimezone(timezone.utc).isoformat()
            sid = f"SM{batch:02x}{index:030x}"
            direction = "inbound" if text.inbound else "outbound-api"
            writer.writerow(
                [
                    text.sender,
                    text.recipient,
                    "Hello",
                    status,
                    sent,
                    "2010-04-01",
                    "1",
                    code,
                    ACCOUNT,
                    sid,
                    direction,
                    "-0.00790",
                    "USD",
                ]
            )
    return path
