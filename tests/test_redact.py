"""--redact masks phone numbers in what smsctl writes to stderr."""

import pytest

from smsctl.phones import redact_phones


@pytest.mark.parametrize(
    "text, expected",
    [
        ("+14155550123 is not in the pool", "+1415******* is not in the pool"),
        (
            "recipient '(415) 555-0123' is invalid",
            "recipient '(415) ***-****' is invalid",
        ),
        ("line 12: unknown status 'sent2'", "line 12: unknown status 'sent2'"),
        ("drip #3 and 2026-12-04T10:00:00Z", "drip #3 and 2026-12-04T10:00:00Z"),
        ("from 14155550123 to 4155550124", "from 1415******* to 415*******"),
    ],
)
def test_redact_masks_phone_like_runs_only(text, expected):
    assert redact_phones(text) == expected


def test_redact_flag_masks_error_messages(pool):
    plain = pool("numbers", "remove", "+14155550177")
    masked = pool("--redact", "numbers", "remove", "+14155550177")
    assert plain.exit_code == masked.exit_code == 1
    assert "+14155550177" in plain.stderr
    assert masked.stderr == (
        "Error: +1415******* is not in the pool; add it with "
        "'smsctl numbers add +1415*******'\n"
    )


def test_redact_environment_variable_masks_the_fast_pick_path(
    pool, monkeypatch, capsys
):
    from smsctl.cli.quick import quick_pick

    pool.ok("optouts", "add", "+14155550199")
    monkeypatch.setenv("SMSCTL_REDACT", "1")
    assert quick_pick(["send-from", "pick", "--to", "+14155550199"]) == 3
    assert "+14155550199" not in capsys.readouterr().err


def test_rejects_file_is_private_and_reject_lines_are_redacted(pool, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(
        "Sid,From,To,Status,SentDate,Direction,ErrorCode\n"
        "SM1,+14155550101,+12125550140,delivered,2026-12-01T10:00:00Z,outbound-api,\n"
        "SM2,+14155550101,+1212555,delivered,2026-12-01T10:00:00Z,outbound-api,\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    result = pool(
        "--redact", "logs", "import", "--quiet", "--rejects", str(rejects), str(export)
    )
    assert result.exit_code == 1
    assert (rejects.stat().st_mode & 0o777) == 0o600
    assert "+14155550101" not in result.stderr
    assert f"{export}:3: rejected:" in result.stderr
