"""`logs import` recognises every provider's export and reads its words right.

Black-box: files go in through the CLI, figures come out of `numbers list
--all-time`, `optouts list` and `logs history`. The fixtures in
tests/data/logs/ hold the same ten messages in each format (see its README).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from tests.cli_reading import dump, history, import_, opted_out

LOGS = Path(__file__).parent / "data" / "logs"
MAP = "id=MessageId,from=Sender,to=Recipient,status=State,sent_at=Time,direction=Way"

# fixture, extra arguments, provider named in the ledger and by --provider
FORMATS = [
    ("twilio_console.csv", [], "twilio"),
    ("twilio_page.json", [], "twilio"),
    ("twilio_lines.jsonl", [], "twilio"),
    ("telnyx_mdr.csv", [], "telnyx"),
    ("plivo_records.csv", [], "plivo"),
    ("generic_mapped.csv", ["--map", MAP], "generic"),
]
FORMAT_IDS = [name for name, _, _ in FORMATS]

# number: total_sent, delivered, blocked, failed, opted_out,
#         provider_not_found, line_deactivated, health
FIXTURE_FIGURES = {
    "+14155550100": (0, 0, 0, 0, 0, 0, 0, None),
    "+14155550101": (4, 2, 1, 0, 1, 0, 0, 66.7),
    "+14155550102": (3, 0, 0, 1, 0, 1, 1, None),
    "+14155550103": (1, 1, 0, 0, 0, 0, 0, 100.0),
}


def listed(cli) -> dict[str, dict]:
    result = cli.ok("numbers", "list", "--all-time", "--format", "json")
    return {row["number"]: row for row in json.loads(result.stdout)}


def figures(row: dict) -> tuple:
    detail = row["undelivered_detail"]
    return (
        row["total_sent"],
        row["delivered"],
        row["blocked"],
        detail["failed"],
        detail["opted_out"],
        detail["provider_not_found"],
        detail["line_deactivated"],
        row["health"],
    )


def tally(row: dict) -> dict[str, int]:
    """The non-zero counts of one number, by detail; {} when nothing counted."""
    assert row["total_sent"] == row["delivered"] + row["undelivered"] + row["blocked"]
    counts = {
        "delivered": row["delivered"],
        "blocked_spam": row["blocked"],
        **row["undelivered_detail"],
    }
    return {detail: count for detail, count in counts.items() if count}


@pytest.mark.parametrize(("fixture", "extra", "provider"), FORMATS, ids=FORMAT_IDS)
def test_format_is_recognised_from_its_header_or_shape(pool, fixture, extra, provider):
    result = import_(pool, str(LOGS / fixture), *extra)

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    by_number = listed(pool)
    assert {number: figures(by_number[number]) for number in by_number} == (
        FIXTURE_FIGURES
    )
    assert opted_out(pool) == ["+12125550143"]
    [entry] = history(pool)
    assert entry["provider"] == provider
    assert (entry["rows_read"], entry["added"], entry["rejected"]) == (10, 10, 0)


@pytest.mark.parametrize(("fixture", "extra", "provider"), FORMATS, ids=FORMAT_IDS)
def test_format_imports_the_same_when_its_provider_is_named(
    pool, fixture, extra, provider
):
    result = import_(pool, "--provider", provider, str(LOGS / fixture), *extra)

    assert result.exit_code == 0, (result.stdout, result.stderr)
    by_number = listed(pool)
    assert {number: figures(by_number[number]) for number in by_number} == (
        FIXTURE_FIGURES
    )
    assert history(pool)[0]["provider"] == provider


@pytest.mark.parametrize(
    ("fixture", "provider"),
    [
        ("twilio_console.csv", "telnyx"),
        ("telnyx_mdr.csv", "plivo"),
        ("plivo_records.csv", "twilio"),
        ("twilio_page.json", "plivo"),
        ("twilio_lines.jsonl", "telnyx"),
    ],
)
def test_naming_the_wrong_provider_refuses_the_file_and_changes_nothing(
    pool, db_path, fixture, provider
):
    before = dump(db_path)

    result = import_(pool, "--provider", provider, str(LOGS / fixture))

    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert fixture in line
    assert dump(db_path) == before


def test_unknown_provider_name_is_a_usage_error(pool, db_path):
    before = dump(db_path)

    result = import_(pool, "--provider", "carrier-pigeon", str(LOGS / FORMATS[0][0]))

    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "carrier-pigeon" in result.stderr
    assert dump(db_path) == before


# --- one message at a time, in each provider's words ---------------------------

SENDER = "+14155550101"
RECIPIENT = "+12125550140"


def only_sender_tally(cli) -> dict[str, int]:
    by_number = listed(cli)
    others = [n for n, row in by_number.items() if n != SENDER and row["total_sent"]]
    assert others == []
    return tally(by_number[SENDER])


TELNYX_RECORD = {
    "uuid": "5b0c1e7a-0000-4000-8000-0000000000a1",
    "created_at": "2026-11-28T16:59:59+00:00",
    "sent_at": "2026-11-28T17:00:00+00:00",
    "completed_at": "2026-11-28T17:00:05+00:00",
    "direction": "outbound",
    "cli": SENDER,
    "cld": RECIPIENT,
    "status": "delivered",
    "errors": "",
    "parts": "1",
}


def write_csv_record(path: Path, record: dict[str, str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(record))
        writer.writeheader()
        writer.writerow(record)
    return path


def write_telnyx(path: Path, status: str, errors: str) -> Path:
    return write_csv_record(path, {**TELNYX_RECORD, "status": status, "errors": errors})


@pytest.mark.parametrize(
    ("status", "errors", "expected"),
    [
        ("delivered", "", {"delivered": 1}),
        ("DELIVERED", "", {"delivered": 1}),
        ("Sent", "", {"delivered": 1}),
        ("dlr_unconfirmed", "", {"delivered": 1}),
        ("DLR_TIMEOUT", "", {"delivered": 1}),
        ("delivery_unconfirmed", "", {"delivered": 1}),
        ("Delivered", "40002", {"delivered": 1}),  # the status decides first
        ("delivery_failed", "40002", {"blocked_spam": 1}),
        ("delivery_failed", '["40002"]', {"blocked_spam": 1}),
        ("failed", "40003", {"blocked_spam": 1}),
        ("FAILED", '["40015"]', {"blocked_spam": 1}),
        ("failed", "40300", {"opted_out": 1}),
        ("sending_failed", '["40001"]', {"provider_not_found": 1}),
        ("gw_timeout", "40012", {"provider_not_found": 1}),
        ("Gw_Reject", "10001", {"line_deactivated": 1}),
        ("expired", "40008", {"failed": 1}),
        ("failed", "", {"failed": 1}),
        ("failed", "0", {"failed": 1}),
        ("failed", '["40001", "40002"]', {"blocked_spam": 1}),
        ("failed", '["10001", "40300"]', {"opted_out": 1}),
        ("failed", '["10001", "40012"]', {"provider_not_found": 1}),
        ("failed", '["40008", "10001"]', {"line_deactivated": 1}),
        ("queued", "", {}),
        ("SENDING", "", {}),
    ],
)
def test_telnyx_status_in_any_case_and_errors_in_either_form(
    pool, tmp_path, status, errors, expected
):
    path = write_telnyx(tmp_path / "mdr.csv", status, errors)

    result = import_(pool, str(path))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert only_sender_tally(pool) == expected


PLIVO_RECORD = {
    "message_uuid": "9e8d7c6b-0000-11ef-8000-0000000000b1",
    "message_time": "2026-11-28 17:00:00+00:00",
    "message_updated_time": "2026-11-28 17:00:04+00:00",
    "from_number": SENDER.removeprefix("+"),
    "to_number": RECIPIENT.removeprefix("+"),
    "message_direction": "outbound",
    "message_state": "delivered",
    "error_code": "000",
}


def write_plivo(path: Path, state: str, error_code: str) -> Path:
    record = {**PLIVO_RECORD, "message_state": state, "error_code": error_code}
    return write_csv_record(path, record)


@pytest.mark.parametrize(
    ("state", "error_code", "expected"),
    [
        ("delivered", "000", {"delivered": 1}),
        ("DELIVERED", "000", {"delivered": 1}),
        ("sent", "000", {"delivered": 1}),
        ("delivered", "", {"delivered": 1}),
        ("undelivered", "30", {"blocked_spam": 1}),
        ("failed", "30", {"blocked_spam": 1}),
        ("rejected", "30", {"blocked_spam": 1}),
        ("undelivered", "200", {"opted_out": 1}),
        ("failed", "50", {"provider_not_found": 1}),
        ("undelivered", "90", {"provider_not_found": 1}),
        ("failed", "70", {"line_deactivated": 1}),
        ("undelivered", "000", {"failed": 1}),
        ("failed", "00", {"failed": 1}),
        ("rejected", "450", {"failed": 1}),
        ("queued", "000", {}),
    ],
)
def test_plivo_states_and_error_codes(pool, tmp_path, state, error_code, expected):
    path = write_plivo(tmp_path / "plivo.csv", state, error_code)

    result = import_(pool, str(path))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert only_sender_tally(pool) == expected


def twilio_message(status: str, error_code: int | None, dates: dict) -> dict:
    return {
        "sid": "SM0000000000000000000000000000c0d1",
        "from": SENDER,
        "to": RECIPIENT,
        "body": "Your quote is ready.",
        "status": status,
        "error_code": error_code,
        "direction": "outbound-api",
        **dates,
    }


def write_twilio_page(path: Path, status: str, error_code: int | None) -> Path:
    rfc_2822 = "Sat, 28 Nov 2026 17:00:00 +0000"
    dates = {key: rfc_2822 for key in ("date_created", "date_sent", "date_updated")}
    page = {"messages": [twilio_message(status, error_code, dates)]}
    path.write_text(json.dumps(page, indent=2), encoding="utf-8")
    return path


def write_twilio_lines(path: Path, status: str, error_code: int | None) -> Path:
    iso = "2026-11-28T17:00:00Z"
    dates = {key: iso for key in ("date_created", "date_sent", "date_updated")}
    line = json.dumps(twilio_message(status, error_code, dates))
    path.write_text(line + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "write", [write_twilio_page, write_twilio_lines], ids=["page", "lines"]
)
@pytest.mark.parametrize(
    ("status", "error_code", "expected"),
    [
        ("delivered", None, {"delivered": 1}),
        ("Delivered", None, {"delivered": 1}),
        ("sent", None, {"delivered": 1}),
        ("read", None, {"delivered": 1}),
        ("undelivered", 30007, {"blocked_spam": 1}),
        ("failed", 21610, {"opted_out": 1}),
        ("undelivered", 30004, {"opted_out": 1}),
        ("undelivered", 30006, {"provider_not_found": 1}),
        ("undelivered", 30005, {"line_deactivated": 1}),
        ("undelivered", 30003, {"failed": 1}),
        ("failed", None, {"failed": 1}),
        ("queued", None, {}),
        ("accepted", None, {}),
        ("scheduled", None, {}),
        ("canceled", None, {}),
    ],
)
def test_twilio_json_statuses_with_integer_or_null_error_codes(
    pool, tmp_path, write, status, error_code, expected
):
    path = write(tmp_path / "messages.json", status, error_code)

    result = import_(pool, str(path))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert only_sender_tally(pool) == expected


def write_mapped(path: Path, status: str) -> Path:
    path.write_text(
        "MessageId,Sender,Recipient,State,Time,Way\n"
        f"m-1,{SENDER},{RECIPIENT},{status},2026-11-28T17:00:00Z,outbound\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("delivered", {"delivered": 1}),
        ("DELIVERED", {"delivered": 1}),
        ("undelivered", {"failed": 1}),
        ("failed", {"failed": 1}),
        ("opted_out", {"opted_out": 1}),
        ("provider_not_found", {"provider_not_found": 1}),
        ("line_deactivated", {"line_deactivated": 1}),
        ("blocked", {"blocked_spam": 1}),
        ("blocked_spam", {"blocked_spam": 1}),
        ("pending", {}),
        ("queued", {}),
        ("sending", {}),
        ("scheduled", {}),
        ("canceled", {}),
        ("not sent", {}),
    ],
)
def test_mapped_csv_reads_smsctls_own_outcome_words(pool, tmp_path, status, expected):
    path = write_mapped(tmp_path / "crm_export.csv", status)

    result = import_(pool, "--map", MAP, str(path))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert only_sender_tally(pool) == expected


def test_mapped_csv_opted_out_status_adds_the_recipient_to_optouts(pool, tmp_path):
    path = write_mapped(tmp_path / "crm_export.csv", "opted_out")

    import_(pool, "--map", MAP, str(path))

    assert opted_out(pool) == [RECIPIENT]


def test_mapped_csv_needs_only_the_five_required_columns(pool, tmp_path):
    path = tmp_path / "crm_export.csv"
    path.write_text(
        "Ref,Agent Line,Client,Result,When\n"
        f"r-1,{SENDER},{RECIPIENT},delivered,2026-11-28T17:00:00Z\n"
        f"r-2,{SENDER},+12125550141,blocked,2026-11-28T17:05:00Z\n",
        encoding="utf-8",
    )
    mapping = "id=Ref,from=Agent Line,to=Client,status=Result,sent_at=When"

    result = import_(pool, "--map", mapping, str(path))

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert only_sender_tally(pool) == {"delivered": 1, "blocked_spam": 1}


@pytest.mark.parametrize(
    "mapping",
    [
        "id=MessageId,from=Sender",  # lacks to, status, sent_at
        "id=MessageId,from=Sender,to=Recipient,sent_at=Time",  # lacks status
        "from=Sender,to=Recipient,status=State,sent_at=Time",  # lacks id
        "id=MessageId,from=Sender,to=Recipient,status=State,sent_at=Time,hue=Red",
        "id=MessageId,from=Sender,to=Recipient,status,sent_at=Time",
        "id=MessageId,from=,to=Recipient,status=State,sent_at=Time",
        "id=MessageId,from=Sender,from=Recipient,to=Recipient,status=State,"
        "sent_at=Time",
        "id=MessageId,,from=Sender,to=Recipient,status=State,sent_at=Time",
        "",
        "id=Nope,from=Sender,to=Recipient,status=State,sent_at=Time",
    ],
    ids=[
        "only-two-fields",
        "no-status",
        "no-id",
        "unknown-field",
        "part-without-equals",
        "empty-column",
        "field-twice",
        "empty-part",
        "empty",
        "column-not-in-file",
    ],
)
def test_bad_map_is_refused_in_one_line_and_changes_nothing(pool, db_path, mapping):
    before = dump(db_path)

    result = import_(pool, "--map", mapping, str(LOGS / "generic_mapped.csv"))

    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert dump(db_path) == before
