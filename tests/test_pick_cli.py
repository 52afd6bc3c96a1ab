"""smsctl send-from pick and reset, as a person or a script runs them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import interrupt_smsctl

MAIN = "+14165550100"
SF_1, SF_2 = "+14155550101", "+14155550102"


@pytest.fixture
def two_local(cli):
    """Main line in Toronto, and two San Francisco numbers."""
    cli.ok("init", "--main", MAIN)
    cli.ok("numbers", "add", SF_1)
    cli.ok("numbers", "add", SF_2)
    return cli


def pick_json(cli, *args: str) -> dict:
    return json.loads(cli.ok("send-from", "pick", *args, "--format", "json").stdout)


def test_pick_as_json_has_the_stable_fields(two_local):
    assert pick_json(two_local, "--to", "(415) 555-0199") == {
        "to": "+14155550199",
        "from": SF_1,
        "reason": "area_code",
        "fallback": None,
        "over_cap": False,
        "recipient_local_time": "2026-12-04T04:00:00-08:00",
        "quiet_hours": True,
    }


def test_ten_picks_split_five_and_five(two_local):
    picked = [
        pick_json(two_local, "--to", f"+1415555{2000 + i}")["from"] for i in range(10)
    ]
    assert picked.count(SF_1) == 5 and picked.count(SF_2) == 5


def test_pick_as_a_table_is_one_line_and_the_quiet_hours_note(two_local):
    result = two_local.ok("send-from", "pick", "--to", "+14155550199")
    assert result.stdout == (
        f"from {SF_1} (same area code)\n"
        "recipient's local time 2026-12-04T04:00:00-08:00, in quiet hours\n"
    )
    again = two_local.ok("send-from", "pick", "--to", "+14155550199", "--dry-run")
    assert again.stdout == (
        f"from {SF_1} (the contact's sticky number)\n"
        "recipient's local time 2026-12-04T04:00:00-08:00, in quiet hours\n"
        "dry run: nothing recorded\n"
    )


def test_pick_outside_quiet_hours(two_local):
    result = two_local.ok(
        "send-from",
        "pick",
        "--to",
        "+14155550199",
        env={"SMSCTL_NOW": "2026-12-04T20:00:00Z"},
    )
    assert result.stdout.splitlines()[1] == (
        "recipient's local time 2026-12-04T12:00:00-08:00, outside quiet hours"
    )


def test_sticky_over_cap_is_said(two_local):
    two_local.ok("config", "set", "pick.daily_cap", "1")
    two_local.ok("send-from", "pick", "--to", "+14155550199")
    answer = pick_json(two_local, "--to", "+14155550199")
    assert (answer["reason"], answer["over_cap"]) == ("sticky", True)
    table = two_local.ok("send-from", "pick", "--to", "+14155550199").stdout
    assert "over the daily cap: it still serves its sticky contacts" in table


def test_explain_as_json_and_as_a_table(two_local):
    two_local.ok("numbers", "unavailable", SF_1)
    answer = pick_json(two_local, "--to", "+14155550199", "--explain")
    assert answer["from"] == SF_2
    assert answer["explain"][0] == {
        "tier": "area_code",
        "number": SF_2,
        "chosen": True,
        "load": 0,
        "health": None,
        "why": "the best of the closest tier that has a number",
    }
    assert answer["explain"][1]["why"] == "unavailable: it takes no new contacts"
    table = two_local.ok("send-from", "pick", "--to", "+14155550198", "--explain")
    assert "Why this number" in table.stdout
    assert "unavailable: it takes no new contacts" in table.stdout


def test_opted_out_recipient_exits_3_and_records_nothing(two_local):
    two_local.ok("optouts", "add", "+14155550199")
    result = two_local("send-from", "pick", "--to", "+14155550199", "--format", "json")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (
        "Error: +14155550199 opted out of texts from the pool; nothing picked\n"
    )
    rows = json.loads(two_local.ok("numbers", "show", SF_1, "--format", "json").stdout)
    assert rows["contacts"] == 0


def test_invalid_recipient_exits_2(two_local):
    result = two_local("send-from", "pick", "--to", "555-01")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: recipient '555-01' is not a valid phone number; give it as "
        "+14155550123 or (415) 555-0123\n"
    )


def test_no_number_can_send_exits_4(two_local):
    for number in (MAIN, SF_1, SF_2):
        two_local.ok("numbers", "unavailable", number)
    result = two_local("send-from", "pick", "--to", "+14155550199")
    assert result.exit_code == 4
    assert result.stderr.startswith(
        "Error: no number in the pool can send to +14155550199 (3 unavailable); "
    )


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give --to PHONE or --file CSV (one of them)"),
        (
            ["--to", "+14155550199", "--file", "x.csv"],
            "give --to PHONE or --file CSV (one of them)",
        ),
        (
            ["--file", "x.csv", "--explain"],
            "--file writes CSV or JSON; --explain and --format table go with --to",
        ),
    ],
)
def test_pick_refuses_bad_usage(two_local, args, message):
    result = two_local("send-from", "pick", *args)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"


def test_missing_database_exits_2(cli):
    result = cli("send-from", "pick", "--to", "+14155550199")
    assert result.exit_code == 2
    assert "run 'smsctl init --main PHONE' first" in result.stderr


# --- batch ------------------------------------------------------------------


def test_batch_writes_one_row_per_row_and_a_bad_row_fails_alone(two_local, tmp_path):
    two_local.ok("optouts", "add", "+14155552001")
    recipients = tmp_path / "prospects.csv"
    recipients.write_text(
        "name,to\n"
        "Ann,+14155552000\n"
        "Bob,+14155552001\n"
        'Cy,=HYPERLINK("x")\n'
        "Di,(415) 555-2002\n"
        "Ed,\n"
        "Ann again,415.555.2000\n",
        encoding="utf-8",
    )
    result = two_local("send-from", "pick", "--file", str(recipients))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "to,from,reason,fallback,over_cap,quiet_hours,error",
        f"+14155552000,{SF_1},area_code,,false,true,",
        "+14155552001,,,,,,opted out of texts from the pool",
        (
            '"\'=HYPERLINK(""x"")",,,,,,"invalid: recipient \'=HYPERLINK(""x"")\' is '
            'not a valid phone number; give it as +14155550123 or (415) 555-0123"'
        ),
        f"+14155552002,{SF_2},area_code,,false,true,",
        ",,,,,,invalid: recipient '' is not a phone number",
        f"+14155552000,{SF_1},sticky,,false,true,",
    ]
    assert result.stderr == "3 rows failed; their error column says why.\n"


def test_batch_picks_are_recorded_and_rotate(two_local, tmp_path):
    recipients = tmp_path / "prospects.csv"
    recipients.write_text(
        "phone\n" + "".join(f"+1415555{3000 + i}\n" for i in range(6)),
        encoding="utf-8",
    )
    result = two_local.ok(
        "send-from",
        "pick",
        "--file",
        str(recipients),
        "--column",
        "phone",
        "--format",
        "json",
    )
    rows = json.loads(result.stdout)
    assert [r["from"] for r in rows] == [SF_1, SF_2] * 3
    assert set(rows[0]) == {
        "to",
        "from",
        "reason",
        "fallback",
        "over_cap",
        "quiet_hours",
        "error",
    }
    assert pick_json(two_local, "--to", "+14155553000")["reason"] == "sticky"


def test_batch_without_the_column_exits_2(two_local, tmp_path):
    recipients = tmp_path / "prospects.csv"
    recipients.write_text("name,phone\nAnn,+14155552000\n", encoding="utf-8")
    result = two_local("send-from", "pick", "--file", str(recipients))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {recipients} has no column 'to' (its columns: 'name', 'phone'); "
        "name the recipients' column with --column NAME\n"
    )


def test_batch_of_an_unreadable_file_exits_2(two_local, tmp_path):
    result = two_local("send-from", "pick", "--file", str(tmp_path / "missing.csv"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: cannot read {tmp_path / 'missing.csv'}: No such file or directory\n"
    )


# --- reset ------------------------------------------------------------------


def test_reset_forgets_the_sticky_number_and_says_so(two_local):
    two_local.ok("send-from", "pick", "--to", "+14155550199")
    first = two_local.ok("send-from", "reset", "--to", "415-555-0199")
    assert first.stdout == f"+14155550199 is no longer sticky to {SF_1}.\n"
    second = two_local.ok("send-from", "reset", "--to", "415-555-0199")
    assert second.stdout == "+14155550199 had no sticky number; nothing to forget.\n"
    assert pick_json(two_local, "--to", "+14155550199")["reason"] == "area_code"


def test_reset_of_an_invalid_number_exits_2(two_local):
    result = two_local("send-from", "reset", "--to", "nope")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: contact 'nope' is not a valid phone number")


def test_a_cold_pick_imports_none_of_the_heavy_libraries(two_local, db_path):
    """rich, sqlite-utils, dateutil and phonenumbers stay off the pick path."""
    script = (
        "import sys\n"
        "from smsctl.cli import main\n"
        "sys.argv = ['smsctl', 'send-from', 'pick', '--to', '+14155550199']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('rich', 'sqlite_utils', 'dateutil', 'phonenumbers')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    env = dict(os.environ, SMSCTL_DB=str(db_path))
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    assert done.stdout.startswith(f"from {SF_1} (same area code)")


def test_one_failed_batch_row_is_one_row(two_local, tmp_path):
    recipients = tmp_path / "prospects.csv"
    recipients.write_text("to\n+14155552000\nnot a phone\n")
    result = two_local("send-from", "pick", "--file", str(recipients))
    assert result.exit_code == 1
    assert result.stderr == "1 row failed; its error column says why.\n"


def many_recipients(count: int) -> str:
    return "".join(f"+1415{200 + i // 10_000}{i % 10_000:04d}\n" for i in range(count))


def test_batch_stopped_by_an_unreadable_line_writes_out_every_pick_it_made(
    two_local, tmp_path, db_path
):
    two_local.ok("config", "set", "pick.daily_cap", "0")
    recipients = tmp_path / "prospects.csv"
    # Larger than the csv module's field limit, whichever is set.
    too_long = '"' + "x" * 2_000_000 + '"\n'
    recipients.write_text(
        "to\n" + many_recipients(25_000) + too_long + "+14155550199\n"
    )
    result = two_local("send-from", "pick", "--file", str(recipients))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"Error: {recipients} line 25002 cannot be read (field larger than field "
        "limit ("
    )
    assert result.stderr.endswith(
        "the rows before it were picked: fix that line and pick for the rest\n"
    )
    assert result.stderr.count("\n") == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 25_001
    assert lines[-1].startswith("+14152024999,+1415555010")
    store = sqlite3.connect(db_path)
    assert store.execute("SELECT count(*) FROM picks").fetchone() == (25_000,)


def test_batch_into_a_pipe_closed_early_exits_quietly(two_local, tmp_path, db_path):
    two_local.ok("config", "set", "pick.daily_cap", "0")
    recipients = tmp_path / "prospects.csv"
    recipients.write_text("to\n" + many_recipients(60_000))
    env = dict(os.environ, SMSCTL_DB=str(db_path))
    command = [sys.executable, "-m", "smsctl", "send-from", "pick", "--file"]
    batch = subprocess.Popen(
        [*command, str(recipients)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert (
        batch.stdout.readline()
        == b"to,from,reason,fallback,over_cap,quiet_hours,error\n"
    )
    batch.stdout.close()
    assert batch.wait(timeout=60) == 0
    assert batch.stderr.read() == b""
    store = sqlite3.connect(db_path)
    assert store.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    recorded = store.execute("SELECT count(*) FROM picks").fetchone()[0]
    # Whole chunks: the one being written out, perhaps the next.
    assert recorded in (20_000, 40_000)


def test_json_batch_stopped_part_way_is_still_one_array_of_every_pick(
    two_local, tmp_path, db_path
):
    two_local.ok("config", "set", "pick.daily_cap", "0")
    recipients = tmp_path / "prospects.csv"
    too_long = '"' + "x" * 2_000_000 + '"\n'
    recipients.write_text("to\n" + many_recipients(25_000) + too_long)
    result = two_local("send-from", "pick", "--file", str(recipients), "-f", "json")
    assert result.exit_code == 2
    rows = json.loads(result.stdout)
    assert len(rows) == 25_000
    assert rows[-1]["to"] == "+14152024999"
    store = sqlite3.connect(db_path)
    assert store.execute("SELECT count(*) FROM picks").fetchone() == (25_000,)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_batch_that_cannot_write_its_rows_says_so_in_one_line(
    two_local, tmp_path, db_path
):
    recipients = tmp_path / "prospects.csv"
    recipients.write_text("to\n" + many_recipients(100))
    env = dict(os.environ, SMSCTL_DB=str(db_path))
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "smsctl", "send-from", "pick"]
            + ["--file", str(recipients)],
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr == (
        "Error: cannot write the rows out (No space left on device): the rows "
        "written out are picked and recorded, and so may be the rest of their "
        "chunk and the next chunk; pick again for the rows not written out (a "
        "contact already sticky keeps its number)\n"
    )


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_ctrl_c_while_another_process_writes_stops_the_pick_at_once(two_local, db_path):
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as a long import's commit would
    code, out, err, waited = interrupt_smsctl(
        db_path, "send-from", "pick", "--to", "+14165550123"
    )
    holder.execute("ROLLBACK")
    assert (code, out, err) == (130, "", "Error: interrupted: run the pick again\n")
    # Before, it waited out the 30 s busy timeout and then picked.
    assert waited < 10
    assert holder.execute("SELECT count(*) FROM picks").fetchone() == (0,)


def test_a_pick_waits_for_another_process_to_finish_writing(two_local, db_path):
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    pick = subprocess.Popen(
        [sys.executable, "-m", "smsctl", "send-from", "pick", "--to", "+14165550123"],
        env=dict(os.environ, SMSCTL_DB=str(db_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    holder.execute("COMMIT")
    out, err = pick.communicate(timeout=40)
    assert (pick.returncode, err) == (0, "")
    assert out.startswith(f"from {MAIN} (same area code)\n")
    assert holder.execute("SELECT to_number FROM picks").fetchall() == [
        ("+14165550123",)
    ]


def test_batch_stopped_by_an_endless_line_never_holds_it_whole(
    two_local, tmp_path, db_path
):
    recipients = tmp_path / "prospects.csv"
    with recipients.open("w") as out:
        out.write("to\n" + many_recipients(3))
        out.write("\0" * 9_000_000)  # as /dev/zero gives, with no line end
    result = two_local("send-from", "pick", "--file", str(recipients))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {recipients} line 5 cannot be read (a line longer than "
        "4,194,304 bytes); the rows before it were picked: fix that line "
        "and pick for the rest\n"
    )
    assert len(result.stdout.splitlines()) == 4
    store = sqlite3.connect(db_path)
    assert store.execute("SELECT count(*) FROM picks").fetchone() == (3,)


def test_a_recipients_file_with_an_endless_header_is_refused(two_local, tmp_path):
    recipients = tmp_path / "prospects.csv"
    recipients.write_text("t" * 5_000_000)
    result = two_local("send-from", "pick", "--file", str(recipients))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: cannot read {recipients}: a line longer than 4,194,304 bytes\n"
    )


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_ctrl_c_while_a_schema_upgrade_is_awaited_is_one_line(two_local, db_path):
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("PRAGMA user_version = 2")  # as before the last upgrade
    holder.execute("BEGIN IMMEDIATE")  # as another process upgrading it
    code, out, err, _ = interrupt_smsctl(
        db_path, "send-from", "pick", "--to", "+14165550123"
    )
    holder.execute("ROLLBACK")
    assert (code, out, err) == (130, "", "Error: interrupted: nothing was picked\n")
    assert holder.execute("SELECT count(*) FROM picks").fetchone() == (0,)


def ctrl_c_while_modules_load(argv):
    raise KeyboardInterrupt


def ctrl_c_while_a_class_is_made(argv):
    # What Python 3.11 raises for Ctrl-C inside a descriptor's __set_name__.
    raise RuntimeError("Error calling __set_name__") from KeyboardInterrupt()


def ctrl_c_while_typer_reads_arguments():
    raise SystemExit(130)  # Typer's exit, with no word


@pytest.mark.parametrize(
    "module, name, stand_in",
    [
        ("smsctl.cli.quick", "quick_pick", ctrl_c_while_modules_load),
        ("smsctl.cli.quick", "quick_pick", ctrl_c_while_a_class_is_made),
        ("smsctl.cli.app", "run_app", ctrl_c_while_typer_reads_arguments),
    ],
)
def test_ctrl_c_before_a_command_runs_is_one_line(
    monkeypatch, capsys, module, name, stand_in
):
    from smsctl import cli, render

    monkeypatch.setattr(f"{module}.{name}", stand_in)
    monkeypatch.setattr(render, "errors_written", 0)
    monkeypatch.setattr(sys, "argv", ["smsctl", "numbers", "list"])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 130
    assert capsys.readouterr() == (
        "",
        "Error: interrupted (a change it had already saved is kept)\n",
    )


# Run as ``python -c``: a pick interrupted as it begins to write.
INTERRUPTED_AS_IT_WRITES = """
import sys
from smsctl.store import Store
def stop(store):
    raise KeyboardInterrupt
Store.begin = stop
from smsctl.cli import main
sys.argv = ["smsctl", "send-from", "pick", "--to", "+14155550199"]
main()
"""


def test_an_interruption_a_command_reported_is_not_reported_twice(two_local, db_path):
    # The pick reports its own interruption (Ctrl-C as it begins to write);
    # main adds nothing to it.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            INTERRUPTED_AS_IT_WRITES,
        ],
        env=dict(os.environ, SMSCTL_DB=str(db_path)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        130,
        "",
        "Error: interrupted: run the pick again\n",
    )


def test_any_other_runtime_error_is_left_alone(monkeypatch):
    from smsctl import cli
    from smsctl.cli import quick

    def broken(argv):
        raise RuntimeError("a bug")

    monkeypatch.setattr(quick, "quick_pick", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main()


def test_once_a_command_is_done_ctrl_c_is_no_longer_heeded(monkeypatch):
    import signal

    from smsctl import cli

    def done():
        raise SystemExit(0)

    monkeypatch.setattr(cli, "main", done)
    before = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit):
            cli.run()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
