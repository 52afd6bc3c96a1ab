"""Provider status and error code -> outcome: the one place messages are classified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

# Details, finest first; each belongs to one outcome.
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

# Ranks of a message's records: the higher replaces the lower.
RANK_PENDING, RANK_CARRIER_ACCEPTED, RANK_FINAL = 0, 1, 2
CARRIER_ACCEPTED = frozenset({"sent", "dlr_unconfirmed", "dlr_timeout", "delivery_unconfirmed"})


@dataclass(frozen=True)
class ProviderStatuses:
    delivered: frozenset[str]
    pending: frozenset[str]
    canceled: frozenset[str]
    failing: frozenset[str]  # refined by error code, else "failed"
    codes: dict[str, str]  # error code -> detail, for failing statuses


def _codes(**by_detail: Iterable[int]) -> dict[str, str]:
    return {str(code): detail for detail, codes in by_detail.items() for code in codes}


PROVIDERS: dict[str, ProviderStatuses] = {
    "twilio": ProviderStatuses(
        delivered=frozenset({"delivered", "sent", "read"}),
        pending=frozenset({"queued", "accepted", "sending", "scheduled"}),
        canceled=frozenset({"canceled"}),
        failing=frozenset({"undelivered", "failed"}),
        codes=_codes(
            blocked_spam=[30007],
            opted_out=[21610, 30004],
            provider_not_found=[30006],
            line_deactivated=[30005],
        ),
    ),
    "telnyx": ProviderStatuses(
        delivered=frozenset(
            {"delivered", "sent", "dlr_unconfirmed", "dlr_timeout", "delivery_unconfirmed"}
        ),
        pending=frozenset({"queued", "sending"}),
        canceled=frozenset(),
        failing=frozenset(
            {"failed", "gw_reject", "gw_timeout", "delivery_failed", "sending_failed",
             "expired"}
        ),
        codes=_codes(
            blocked_spam=[40002, 40003, 40015],
            opted_out=[40300],
            provider_not_found=[40001, 40012],
            line_deactivated=[10001],
        ),
    ),
    "plivo": ProviderStatuses(
        delivered=frozenset({"delivered", "sent"}),
        pending=frozenset({"queued"}),
        canceled=frozenset(),
        failing=frozenset({"undelivered", "failed", "rejected"}),
        codes=_codes(
            blocked_spam=[30],
            opted_out=[200],
            provider_not_found=[50, 90],
            line_deactivated=[70],
        ),
    ),
}

# A mapped generic CSV speaks smsctl's own words instead of a provider's.
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
    "not_sent": CANCELED,
}


class UnknownStatusError(ValueError):
    pass


@dataclass(frozen=True)
class Classified:
    detail: str
    rank: int

    @property
    def outcome(self) -> str:
        return OUTCOME_OF_DETAIL[self.detail]


def normalize_codes(codes: Iterable[str]) -> tuple[str, ...]:
    """Error codes as plain digits, without the ones that mean "no error"."""
    cleaned = []
    for code in codes:
        code = str(code).strip()
        if code.isdigit():
            code = str(int(code))
            if code == "0":
                continue
        if code:
            cleaned.append(code)
    return tuple(cleaned)


def rank_of(status: str) -> int:
    if status in CARRIER_ACCEPTED:
        return RANK_CARRIER_ACCEPTED
    return RANK_FINAL


def classify_status(
    provider: str, status: str, codes: Iterable[str] = (), outbound: bool = True
) -> Classified:
    """The detail and rank of one record. Raises UnknownStatusError."""
    if not outbound:
        return Classified(INBOUND, RANK_FINAL)
    status = status.strip().lower()
    if provider not in PROVIDERS:
        detail = GENERIC_STATUSES.get(status)
        if detail is None:
            raise UnknownStatusError(status)
        rank = RANK_PENDING if detail == PENDING else rank_of(status)
        return Classified(detail, rank)
    table = PROVIDERS[provider]
    if status in table.delivered:
        return Classified(DELIVERED, rank_of(status))
    if status in table.pending:
        return Classified(PENDING, RANK_PENDING)
    if status in table.canceled:
        return Classified(CANCELED, RANK_FINAL)
    if status in table.failing:
        found = {table.codes.get(code) for code in normalize_codes(codes)}
        detail = next((d for d in CODE_PRECEDENCE if d in found), FAILED)
        return Classified(detail, RANK_FINAL)
    raise UnknownStatusError(status)
