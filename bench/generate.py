"""Synthetic data for the benchmarks: a pool, a Twilio export, a recipient list.

Deterministic for a given seed, so two runs measure the same work.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

HEADER = [
    "From",
    "To",
    "Body",
    "Status",
    "SentDate",
    "ApiVersion",
    "NumSegments",
    "ErrorCode",
    "AccountSid",
    "Sid",
    "Direction",
    "Price",
    "PriceUnit",
]
# (status, error code, weight): mostly delivered, some failures and blocks.
STATUSES = [
    ("delivered", "", 80),
    ("sent", "", 4),
    ("undelivered", "30007", 5),
    ("undelivered", "30003", 4),
    ("undelivered", "30006", 2),
    ("failed", "30005", 1),
    ("failed", "21610", 1),
    ("queued", "", 1),
    ("canceled", "", 1),
]
# Area codes spread over states and zones, so picking has tiers to walk.
AREA_CODES = [
    "415",
    "628",
    "510",
    "310",
    "213",
    "206",
    "312",
    "212",
    "646",
    "305",
    "713",
    "404",
    "617",
    "303",
    "602",
]
ACCOUNT = "AC" + "7" * 32
RECENT = timedelta(hours=1)


def pool_numbers(count: int) -> list[str]:
    return [
        f"+1{AREA_CODES[i % len(AREA_CODES)]}555{100 + i // len(AREA_CODES):04d}"
        for i in range(count)
    ]


def recipient(rng: random.Random, contacts: int) -> str:
    index = rng.randrange(contacts)
    area = AREA_CODES[index % len(AREA_CODES)]
    return f"+1{area}{2000000 + index:07d}"


def write_twilio_export(
    path: Path,
    rows: int,
    senders: list[str],
    end: datetime,
    days: int = 180,
    contacts: int = 200_000,
    seed: int = 7,
) -> None:
    """A Twilio console CSV of ``rows`` outbound texts over ``days`` up to ``end``."""
    rng = random.Random(seed)
    statuses = [(s, c) for s, c, w in STATUSES for _ in range(w)]
    span = days * 86400
    start = end - timedelta(seconds=span)
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(rows):
            status, code = rng.choice(statuses)
            # Newest first, as the console exports them.
            sent = start + timedelta(seconds=span - (i * span) // rows)
            if status in ("queued", "canceled") and end - sent > RECENT:
                # Only the last hour's texts can still be queued or canceled.
                status, code = "delivered", ""
            sent_text = (
                ""
                if status in ("queued", "canceled")
                else sent.astimezone(timezone(timedelta(hours=-8))).isoformat()
            )
            writer.writerow(
                [
                    senders[rng.randrange(len(senders))],
                    recipient(rng, contacts),
                    f"Hello, this is message {i} about your quote.",
                    status,
                    sent_text,
                    "2010-04-01",
                    "1",
                    code,
                    ACCOUNT,
                    f"SM{rng.getrandbits(128):032x}",
                    "outbound-api",
                    "-0.00790",
                    "USD",
                ]
            )


def write_recipients(path: Path, rows: int, seed: int = 11) -> None:
    """A CSV with a ``to`` column of ``rows`` recipients, some repeated."""
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["to", "name"])
        for i in range(rows):
            writer.writerow([recipient(rng, rows * 2), f"Prospect {i}"])


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)
