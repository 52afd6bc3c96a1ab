"""Provider status and error code -> outcome: the one place messages are classified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

# Details; each belongs to one outcome.
DELIVERED = "delivered"
FAILED = "failed"
OPTED_OUT = "opted_out"
PROVIDER_NOT_FOUND = "provider_not_found"
LINE_DEACTIVATED = "line_deactivated"
BLOCKED_SPAM = "blocked_spam"
PENDING = "pending"
CANCELED = "canceled"
INBOUND = "inbound"

OUTCOME_OF_DETAIL = {
    DELIVERED: "delivered",
    FAILED: "undelivered",
    OPTED_OUT: "undelivered",
    PROVIDER_NOT_FOUND: "undelivered",
    LINE_DEACTIVATED: "undelivered",
    BLOCKED_SPAM: "blocked",
    PENDING: "pending",
    CANCELED: "not_sent",
    INBOUND: "not_sent",
}
UNDELIVERED_DETAILS = (FAILED, OPTED_OUT, PROVIDER_NOT_FOUND, LINE_DEACTIVATED)
SENT_DETAILS = (DELIVERED, *UNDELIVERED_DETAILS, BLOCKED_SPAM)

# Where a record holds several codes, the first detail in this order wins.
CODE_PRECEDENCE = (BLOCKED_SPAM, OPTED_OUT, PROVIDER_NOT_FOUND, LINE_DEACTIVATED)

# Ranks of one message's records: a higher rank replaces a lower one.
RANK_PENDING, RANK_CARRIER_ACCEPTED, RANK_FINAL = 0, 1, 2
CARRIER_ACCEPTED = frozenset(
    {"sent", "dlr_unconfirmed", "dlr_timeout", "delivery_unconfirmed"}
)

# DESIGN's provider table, row by row. ``FAILING`` statuses are refined by
# their error codes (the code rows) and are ``failed`` otherwise. Direction
# ``inbound`` is "not sent" for every provider and is decided before this.
FAILING = "failing"
PROVIDER_TABLE: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "twilio": {
        "statuses": {
            DELIVERED: ("delivered", "sent", "read"),
            FAILING: ("undelivered", "failed"),
            PENDING: ("queued", "accepted", "sending", "scheduled"),
            CANCELED: ("canceled",),
        },
        "codes": {
            BLOCKED_SPAM: ("30007",),
            OPTED_OUT: ("21610", "30004"),
            PROVIDER_NOT_FOUND: ("30006",),
            LINE_DEACTIVATED: ("30005",),
        },
    },
    "telnyx": {
        "statuses": {
            DELIVERED: (
                "delivered",
                "sent",
                "dlr_unconfirmed",
                "dlr_timeout",
                "delivery_unconfirmed",
            ),
            FAILING: (
                "failed",
                "gw_reject",
                "gw_timeout",
                "delivery_failed",
                "sending_failed",
                "expired",
            ),
            PENDING: ("queued", "sending"),
        },
        "codes": {
            BLOCKED_SPAM: ("40002", "40003", "40015"),
            OPTED_OUT: ("40300",),
            PROVIDER_NOT_FOUND: ("40001", "40012"),
            LINE_DEACTIVATED: ("10001",),
        },
    },
    "plivo": {
        "statuses": {
            DELIVERED: ("delivered", "sent"),
            FAILING: ("undelivered", "failed", "rejected"),
            PENDING: ("queued",),
        },
        "codes": {
            BLOCKED_SPAM: ("30",),
            OPTED_OUT: ("200",),
            PROVIDER_NOT_FOUND: ("50", "90"),
            LINE_DEACTIVATED: ("70",),
        },
    },
}

# A CSV mapped with --map speaks smsctl's own words: outcomes and details.
GENERIC_STATUSES = {
    "delivered": DELIVERED,
    "sent": DELIVERED,
    "undelivered": FAILED,
    "failed": FAILED,
    "opted_out": OPTED_OUT,
    "provider_not_found": PROVIDER_NOT_FOUND,
    "line_deactivated": LINE_DEACTIVATED,
    "blocked": BLOCKED_SPAM,
    "blocked_spam": BLOCKED_SPAM,
    "pending": PENDING,
    "queued": PENDING,
    "sending": PENDING,
    "scheduled": PENDING,
    "canceled": CANCELED,
    "cancelled": CANCELED,
    "not_sent": CANCELED,
}


class UnknownStatusError(ValueError):
    """A status that the provider's table does not list."""


@dataclass(frozen=True)
class Classified:
    detail: str
    rank: int

    @property
    def outcome(self) -> str:
        return OUTCOME_OF_DETAIL[self.detail]

    @property
    def counted_as_sent(self) -> bool:
        return self.detail in SENT_DETAILS


def normalize_codes(codes: Iterable[str]) -> tuple[str, ...]:
    """Error codes as plain text, without the ones that mean "no error" (0, 00, 000)."""
    cleaned = []
    for code in codes:
        code = str(code).strip()
        if code.isdigit():
            code = code.lstrip("0")
            if not code:
                continue
        if code:
            cleaned.append(code)
    return tuple(cleaned)


def is_outbound(direction: str | None) -> bool:
    """Whether a record's direction is outbound; an empty direction is outbound.

    Every direction that starts with ``outbound`` is outbound (Twilio's
    ``outbound-api``, ``outbound-reply``...). Raises ValueError for a
    direction that is neither.
    """
    direction = (direction or "").strip().lower()
    if not direction or direction.startswith("outbound"):
        return True
    if direction.startswith("inbound") or direction in ("incoming", "mo"):
        return False
    if direction in ("outgoing", "mt"):
        return True
    raise ValueError(f"unknown direction {direction!r}")


def rank_of(status: str, detail: str) -> int:
    """pending < carrier-accepted (``sent`` and kin) < every other status."""
    if detail == PENDING:
        return RANK_PENDING
    if status in CARRIER_ACCEPTED:
        return RANK_CARRIER_ACCEPTED
    return RANK_FINAL


def _lookup_tables() -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    tables = {}
    for provider, table in PROVIDER_TABLE.items():
        statuses = {s: d for d, names in table["statuses"].items() for s in names}
        codes = {
            code.lstrip("0"): detail
            for detail, values in table["codes"].items()
            for code in values
        }
        tables[provider] = (statuses, codes)
    return tables


_TABLES = _lookup_tables()


def classify_status(
    provider: str, status: str, codes: Iterable[str] = (), outbound: bool = True
) -> Classified:
    """The detail and rank of one record. Raises UnknownStatusError.

    ``provider`` is twilio, telnyx or plivo; any other name (a mapped CSV)
    reads the status as one of smsctl's own words.
    """
    status = status.strip().lower()
    if not outbound:
        return Classified(INBOUND, RANK_FINAL)
    if provider not in _TABLES:
        detail = GENERIC_STATUSES.get(status.replace(" ", "_").replace("-", "_"))
        if detail is None:
            raise UnknownStatusError(status)
        return Classified(detail, rank_of(status, detail))
    statuses, code_details = _TABLES[provider]
    detail = statuses.get(status)
    if detail is None:
        raise UnknownStatusError(status)
    if detail == FAILING:
        found = {code_details.get(code) for code in normalize_codes(codes)}
        detail = next((d for d in CODE_PRECEDENCE if d in found), FAILED)
    return Classified(detail, rank_of(status, detail))
