"""DESIGN's outcome table, row by row: provider status and error code -> outcome."""

from __future__ import annotations

import pytest

from smsctl.outcomes import (
    RANK_CARRIER_ACCEPTED,
    RANK_FINAL,
    RANK_PENDING,
    UnknownStatusError,
    classify_status,
    is_outbound,
    normalize_codes,
)

# (provider, status, codes) -> detail, for every status of the table.
STATUS_ROWS = [
    # delivered
    ("twilio", "delivered", "delivered"),
    ("twilio", "sent", "delivered"),
    ("twilio", "read", "delivered"),
    ("telnyx", "delivered", "delivered"),
    ("telnyx", "sent", "delivered"),
    ("telnyx", "dlr_unconfirmed", "delivered"),
    ("telnyx", "dlr_timeout", "delivered"),
    ("telnyx", "delivery_unconfirmed", "delivered"),
    ("plivo", "delivered", "delivered"),
    ("plivo", "sent", "delivered"),
    # failed: a failing status with no code, or a code of no other row
    ("twilio", "undelivered", "failed"),
    ("twilio", "failed", "failed"),
    ("telnyx", "failed", "failed"),
    ("telnyx", "gw_reject", "failed"),
    ("telnyx", "gw_timeout", "failed"),
    ("telnyx", "delivery_failed", "failed"),
    ("telnyx", "sending_failed", "failed"),
    ("telnyx", "expired", "failed"),
    ("plivo", "undelivered", "failed"),
    ("plivo", "failed", "failed"),
    ("plivo", "rejected", "failed"),
    # pending
    ("twilio", "queued", "pending"),
    ("twilio", "accepted", "pending"),
    ("twilio", "sending", "pending"),
    ("twilio", "scheduled", "pending"),
    ("telnyx", "queued", "pending"),
    ("telnyx", "sending", "pending"),
    ("plivo", "queued", "pending"),
    # not sent
    ("twilio", "canceled", "canceled"),
]

# (provider, failing status, code) -> detail, for every code of the table.
CODE_ROWS = [
    ("twilio", "undelivered", "30007", "blocked_spam"),
    ("twilio", "failed", "21610", "opted_out"),
    ("twilio", "undelivered", "30004", "opted_out"),
    ("twilio", "undelivered", "30006", "provider_not_found"),
    ("twilio", "failed", "30005", "line_deactivated"),
    ("twilio", "undelivered", "30008", "failed"),
    ("telnyx", "failed", "40002", "blocked_spam"),
    ("telnyx", "gw_reject", "40003", "blocked_spam"),
    ("telnyx", "delivery_failed", "40015", "blocked_spam"),
    ("telnyx", "failed", "40300", "opted_out"),
    ("telnyx", "sending_failed", "40001", "provider_not_found"),
    ("telnyx", "expired", "40012", "provider_not_found"),
    ("telnyx", "gw_timeout", "10001", "line_deactivated"),
    ("telnyx", "failed", "99999", "failed"),
    ("plivo", "undelivered", "30", "blocked_spam"),
    ("plivo", "failed", "200", "opted_out"),
    ("plivo", "rejected", "50", "provider_not_found"),
    ("plivo", "undelivered", "90", "provider_not_found"),
    ("plivo", "failed", "70", "line_deactivated"),
    ("plivo", "undelivered", "1", "failed"),
]

OUTCOME = {
    "delivered": "delivered",
    "failed": "undelivered",
    "opted_out": "undelivered",
    "provider_not_found": "undelivered",
    "line_deactivated": "undelivered",
    "blocked_spam": "blocked",
    "pending": "pending",
    "canceled": "not_sent",
    "inbound": "not_sent",
}


@pytest.mark.parametrize("provider, status, detail", STATUS_ROWS)
def test_each_status_of_the_table(provider, status, detail):
    classified = classify_status(provider, status)
    assert classified.detail == detail
    assert classified.outcome == OUTCOME[detail]


@pytest.mark.parametrize("provider, status, code, detail", CODE_ROWS)
def test_each_error_code_of_the_table(provider, status, code, detail):
    assert classify_status(provider, status, [code]).detail == detail


@pytest.mark.parametrize("provider", ["twilio", "telnyx", "plivo"])
@pytest.mark.parametrize("status", ["received", "delivered", "anything at all"])
def test_inbound_is_not_sent_whatever_its_status(provider, status):
    classified = classify_status(provider, status, ["30007"], outbound=False)
    assert (classified.detail, classified.outcome) == ("inbound", "not_sent")


@pytest.mark.parametrize(
    "provider, status, code",
    [
        ("twilio", "delivered", "30007"),
        ("telnyx", "sent", "40002"),
        ("plivo", "queued", "30"),
        ("twilio", "canceled", "21610"),
    ],
)
def test_a_code_refines_only_failing_statuses(provider, status, code):
    assert (
        classify_status(provider, status, [code]).detail
        == classify_status(provider, status).detail
    )


@pytest.mark.parametrize("code", ["0", "00", "000", " 000 "])
def test_zero_codes_mean_no_error(code):
    assert normalize_codes([code]) == ()
    assert classify_status("plivo", "failed", [code]).detail == "failed"


@pytest.mark.parametrize(
    "provider, codes, detail",
    [
        ("twilio", ["30005", "30007"], "blocked_spam"),
        ("twilio", ["30006", "21610"], "opted_out"),
        ("twilio", ["30005", "30006", "30008"], "provider_not_found"),
        ("telnyx", ["10001", "40300", "40001"], "opted_out"),
        ("telnyx", ["99999", "10001"], "line_deactivated"),
        ("plivo", ["70", "50", "30"], "blocked_spam"),
    ],
)
def test_several_codes_give_the_first_outcome_in_table_order(provider, codes, detail):
    status = {"twilio": "undelivered", "telnyx": "failed", "plivo": "failed"}[provider]
    assert classify_status(provider, status, codes).detail == detail


@pytest.mark.parametrize(
    "status", ["DELIVERED", "Delivered", "  delivered  ", "UnDeLiVeReD"]
)
def test_status_matching_ignores_case_and_spaces(status):
    assert classify_status("twilio", status).outcome in ("delivered", "undelivered")


@pytest.mark.parametrize(
    "provider, status",
    [
        ("twilio", "lost"),
        ("twilio", "dlr_timeout"),
        ("telnyx", "read"),
        ("plivo", "canceled"),
        ("plivo", ""),
        ("generic", "maybe"),
    ],
)
def test_unknown_status_is_refused(provider, status):
    with pytest.raises(UnknownStatusError):
        classify_status(provider, status)


@pytest.mark.parametrize(
    "direction, outbound",
    [
        ("outbound-api", True),
        ("outbound-reply", True),
        ("outbound-call", True),
        ("OUTBOUND", True),
        ("outbound", True),
        ("", True),
        (None, True),
        ("inbound", False),
        ("Inbound", False),
        ("incoming", False),
    ],
)
def test_every_direction_starting_with_outbound_is_outbound(direction, outbound):
    assert is_outbound(direction) is outbound


def test_an_unknown_direction_is_refused():
    with pytest.raises(ValueError):
        is_outbound("sideways")


@pytest.mark.parametrize(
    "provider, status, rank",
    [
        ("twilio", "queued", RANK_PENDING),
        ("twilio", "scheduled", RANK_PENDING),
        ("telnyx", "sending", RANK_PENDING),
        ("twilio", "sent", RANK_CARRIER_ACCEPTED),
        ("telnyx", "dlr_unconfirmed", RANK_CARRIER_ACCEPTED),
        ("telnyx", "dlr_timeout", RANK_CARRIER_ACCEPTED),
        ("telnyx", "delivery_unconfirmed", RANK_CARRIER_ACCEPTED),
        ("plivo", "sent", RANK_CARRIER_ACCEPTED),
        ("twilio", "delivered", RANK_FINAL),
        ("twilio", "read", RANK_FINAL),
        ("twilio", "undelivered", RANK_FINAL),
        ("telnyx", "expired", RANK_FINAL),
        ("plivo", "rejected", RANK_FINAL),
        ("twilio", "canceled", RANK_FINAL),
    ],
)
def test_ranks_put_pending_below_carrier_accepted_below_final(provider, status, rank):
    assert classify_status(provider, status).rank == rank
    assert RANK_PENDING < RANK_CARRIER_ACCEPTED < RANK_FINAL


@pytest.mark.parametrize(
    "status, detail, rank",
    [
        ("delivered", "delivered", RANK_FINAL),
        ("sent", "delivered", RANK_CARRIER_ACCEPTED),
        ("undelivered", "failed", RANK_FINAL),
        ("blocked", "blocked_spam", RANK_FINAL),
        ("opted_out", "opted_out", RANK_FINAL),
        ("provider_not_found", "provider_not_found", RANK_FINAL),
        ("line_deactivated", "line_deactivated", RANK_FINAL),
        ("pending", "pending", RANK_PENDING),
        ("queued", "pending", RANK_PENDING),
        ("not sent", "canceled", RANK_FINAL),
        ("Canceled", "canceled", RANK_FINAL),
    ],
)
def test_a_mapped_csv_speaks_the_outcome_words(status, detail, rank):
    classified = classify_status("generic", status)
    assert (classified.detail, classified.rank) == (detail, rank)


@pytest.mark.parametrize(
    "status, codes, outbound, counted",
    [
        ("delivered", [], True, True),
        ("undelivered", ["30003"], True, True),
        ("undelivered", ["21610"], True, True),
        ("undelivered", ["30007"], True, True),
        ("sent", [], True, True),
        ("queued", [], True, False),
        ("canceled", [], True, False),
        ("received", [], False, False),
    ],
)
def test_counted_as_sent_is_delivered_undelivered_or_blocked(
    status, codes, outbound, counted
):
    assert classify_status("twilio", status, codes, outbound).counted_as_sent is counted
